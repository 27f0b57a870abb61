//! `rewards bench --spawn`: a short run completes and its correctness check passes. Not a
//! timing assertion.

use serde_json::Value;
use std::process::Command;

fn bench(arguments: &[&str]) -> (std::process::ExitStatus, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_rewards"))
        .args([
            "bench",
            "--spawn",
            "--json",
            "--duration-s",
            "2",
            "--terminals",
            "4",
            "--contacts",
            "20",
        ])
        .args(arguments)
        .output()
        .expect("rewards bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "bench printed no JSON: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status, report)
}

#[test]
fn a_short_mixed_bench_completes_and_its_correctness_check_passes() {
    let (status, report) = bench(&["--scenario", "mixed", "--zipf", "1.1"]);
    assert!(status.success(), "{report}");
    assert_eq!(report["scenario"], "mixed");
    assert_eq!(report["correct"], true, "{report}");
    assert!(report["requests"].as_u64().unwrap() > 0);
    assert!(report["purchases"].as_u64().unwrap() > 0);
    assert!(report["throughput_per_s"].as_f64().unwrap() > 0.0);
    for quantile in ["p50", "p90", "p99", "p999", "max"] {
        assert!(report["latency_ms"][quantile].as_f64().unwrap() > 0.0, "{quantile}");
    }
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
}

#[test]
fn a_short_bulk_bench_with_a_hot_set_checks_out_too() {
    let plot = tempfile::NamedTempFile::new().unwrap();
    let (status, report) = bench(&[
        "--scenario",
        "bulk",
        "--batch-size",
        "25",
        "--hot-contacts",
        "2",
        "--hot-percent",
        "80",
        "--plot",
        plot.path().to_str().unwrap(),
    ]);
    assert!(status.success(), "{report}");
    assert_eq!(report["correct"], true, "{report}");
    assert!(report["purchases"].as_u64().unwrap() >= 25);
    let svg = std::fs::read_to_string(plot.path()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
}

#[test]
fn short_transfer_and_redeem_benches_conserve_money_and_redeem_each_pass_once() {
    for (scenario, extra) in [("transfer", vec![]), ("redeem", vec!["--passes", "300"])] {
        let mut arguments = vec!["--scenario", scenario];
        arguments.extend(extra);
        let (status, report) = bench(&arguments);
        assert!(status.success(), "{scenario}: {report}");
        assert_eq!(report["correct"], true, "{scenario}: {report}");
        assert!(report["purchases"].as_u64().unwrap() > 0, "{scenario}: {report}");
        assert_eq!(report["errors"], serde_json::json!([]), "{scenario}: {report}");
    }
}

#[test]
fn short_locations_and_orders_benches_check_out() {
    let (status, report) = bench(&["--scenario", "locations", "--venues", "200"]);
    assert!(status.success(), "{report}");
    assert_eq!(report["correct"], true, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert!(report["purchases"].as_u64().unwrap() > 0, "{report}");
    let (status, report) = bench(&["--scenario", "orders"]);
    assert!(status.success(), "{report}");
    assert_eq!(report["correct"], true, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert!(report["purchases"].as_u64().unwrap() > 0, "{report}");
}
