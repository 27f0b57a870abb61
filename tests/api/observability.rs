//! `/metrics`: Prometheus text whose counters move with the work done. The recorder is one
//! per process and tests run in parallel, so each check is "grew by at least".

use crate::helpers::NumberCompat;
use crate::helpers::*;

/// Sum of the samples of `name` whose labels contain every `label="value"` given.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ']))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics(app: &TestApp) -> String {
    let response = app.client.get(app.metrics_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_not_the_api() {
    let app = spawn_app().await;
    let on_api = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404, "the public listener does not serve /metrics");
    assert_ne!(app.metrics_url(), app.url("/metrics"));
    assert!(metrics(&app).await.contains("rewards_http_requests_total"));
}

#[tokio::test]
async fn metrics_counters_move_after_a_purchase() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("OBS-1").await;
    let contact_id = contact["id"].as_str().unwrap();
    let before = metrics(&app).await;
    assert_eq!(app.purchase(contact_id, "OBS-R1", "25.00", None).await.status, 201);
    assert_eq!(
        app.purchase(contact_id, "OBS-R2", "5.00", Some(("1.00", true)))
            .await
            .status,
        201
    );
    assert_eq!(
        app.purchase(contact_id, "OBS-R2", "5.00", Some(("1.00", true)))
            .await
            .status,
        201
    );
    let after = metrics(&app).await;

    let grew = |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    let post = [
        "route=\"/backoffice/v2/purchases\"",
        "method=\"POST\"",
        "status=\"201\"",
    ];
    assert!(grew("rewards_http_requests_total", &post) >= 3.0, "{after}");
    assert!(grew("rewards_http_request_seconds_count", &post) >= 3.0);
    assert!(grew("rewards_purchases_total", &["outcome=\"posted\""]) >= 2.0);
    assert!(grew("rewards_purchases_total", &["outcome=\"replayed\""]) >= 1.0);
    assert!(grew("rewards_awards_total", &["outcome=\"credited\""]) >= 2.0);
    assert!(grew("rewards_spends_total", &["outcome=\"spent\""]) >= 1.0);
    assert!(
        grew("rewards_awarded_minor_units_total", &["currency=\"EUR\""]) >= 300.0,
        "2.50 + 0.50 awarded"
    );
    assert!(grew("rewards_spent_minor_units_total", &["currency=\"EUR\""]) >= 100.0);
    assert!(grew("rewards_journal_writes_total", &[]) >= 4.0);
    assert!(grew("rewards_journal_flush_seconds_count", &[]) >= 1.0);
    assert!(sample(&after, "rewards_journal_batch_writes_bucket", &["le=\"+Inf\""]) >= 1.0);
    assert!(sample(&after, "rewards_actors_live", &["kind=\"wallet\""]) >= 1.0);
    assert!(sample(&after, "rewards_actor_starts_total", &["kind=\"wallet\""]) >= 1.0);
    assert!(after.contains("# HELP rewards_purchases_total"));
    let wallet = contact["wallet"]["id"].as_str().unwrap();
    app.wallet(wallet).await;
    let read = metrics(&app).await;
    assert!(
        sample(
            &read,
            "rewards_http_requests_total",
            &["route=\"/backoffice/v2/wallets/{id}\"", "status=\"200\""]
        ) >= 1.0
    );
}

/// The in-process tests above share one recorder with every test running beside them, so
/// they can only say "grew by at least". A server of its own (the real binary, a child
/// process) has its own: there every count is exact, so counting twice, or not at all,
/// fails.
#[tokio::test]
async fn a_server_of_its_own_counts_exactly() {
    use crate::crash::start_server;
    use serde_json::json;
    let dir = tempfile::TempDir::new().unwrap();
    let server = start_server(dir.path());
    let (status, _) = server
        .post(
            "/backoffice/v2/reward_offers",
            &json!({"name": "10%", "award": {"type": "PERCENTAGE", "value": 10}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let (status, contact) = server
        .post(
            "/backoffice/v2/contacts",
            &json!({"first_name": "Exact", "code": "EXACT-1"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let text = |server: &crate::crash::Api| {
        let client = server.client.clone();
        let url = server.metrics_url();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = text(&server).await;
    let purchase = |reference: &str, total: &str, spend: Option<&str>| {
        let mut body = json!({
            "contact": {"id": contact["id"]},
            "reference_number": reference,
            "transaction_amounts": {"total": serde_json::Number::from_string_unchecked_compat(total)},
        });
        if let Some(amount) = spend {
            body["spend_request"] = json!({"amount": serde_json::Number::from_string_unchecked_compat(amount), "restrict_fully_covered": true});
        }
        body
    };
    for body in [
        purchase("EX-1", "25.00", None),
        purchase("EX-2", "5.00", Some("1.00")),
        purchase("EX-2", "5.00", Some("1.00")),
    ] {
        let (status, reply) = server.post("/backoffice/v2/purchases", &body).await.unwrap();
        assert_eq!(status, 201, "{reply}");
    }
    let after = text(&server).await;
    let grew = |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    let post = [
        "route=\"/backoffice/v2/purchases\"",
        "method=\"POST\"",
        "status=\"201\"",
    ];
    assert_eq!(grew("rewards_http_requests_total", &post), 3.0, "{after}");
    assert_eq!(grew("rewards_http_request_seconds_count", &post), 3.0);
    assert_eq!(grew("rewards_purchases_total", &["outcome=\"posted\""]), 2.0);
    assert_eq!(grew("rewards_purchases_total", &["outcome=\"replayed\""]), 1.0);
    assert_eq!(grew("rewards_awards_total", &["outcome=\"credited\""]), 2.0);
    assert_eq!(grew("rewards_spends_total", &["outcome=\"spent\""]), 1.0);
    assert_eq!(
        grew("rewards_awarded_minor_units_total", &["currency=\"EUR\""]),
        300.0,
        "2.50 + 0.50"
    );
    assert_eq!(grew("rewards_spent_minor_units_total", &["currency=\"EUR\""]), 100.0);
    assert_eq!(sample(&after, "rewards_actors_live", &["kind=\"wallet\""]), 1.0);
}
