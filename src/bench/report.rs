//! What `rewards bench` prints: a live line per second, then a table or one JSON object,
//! and optionally an SVG chart of throughput and p99 over time.

use super::{Recorder, Scenario};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl From<&Histogram<u64>> for Latency {
    fn from(histogram: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1_000.0;
        Latency {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

/// One second of the timed part.
#[derive(Debug, Clone, Copy)]
pub struct Second {
    pub second: u64,
    pub requests: u64,
    pub p99_ms: f64,
}

impl Second {
    pub fn from(second: u64, histogram: &Histogram<u64>) -> Second {
        Second {
            second,
            requests: histogram.len(),
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1_000.0,
        }
    }
}

/// Ten seconds of the timed part: what a sustained run watches for stalls.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Window {
    /// The window's first second.
    pub from_s: u64,
    pub requests_per_s: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

impl Window {
    pub const SECONDS: u64 = 10;

    /// Windows of `SECONDS` from per-second histograms (in order); a last window shorter
    /// than half of `SECONDS` is left out.
    pub fn from_seconds(seconds: &[(u64, Histogram<u64>)]) -> Vec<Window> {
        let mut windows: Vec<(u64, u64, Histogram<u64>)> = Vec::new();
        for (second, histogram) in seconds {
            let from = second - second % Self::SECONDS;
            if windows.last().is_none_or(|(start, _, _)| *start != from) {
                windows.push((from, 0, Histogram::new_from(histogram)));
            }
            if let Some((_, count, merged)) = windows.last_mut() {
                *count += 1;
                let _ = merged.add(histogram);
            }
        }
        windows
            .into_iter()
            .filter(|(_, count, _)| *count * 2 >= Self::SECONDS)
            .map(|(from, count, merged)| Window {
                from_s: from,
                requests_per_s: merged.len() as f64 / count as f64,
                p99_ms: merged.value_at_quantile(0.99) as f64 / 1_000.0,
                p999_ms: merged.value_at_quantile(0.999) as f64 / 1_000.0,
            })
            .collect()
    }
}

pub struct Report {
    pub scenario: Scenario,
    pub terminals: usize,
    pub duration_s: f64,
    pub requests: u64,
    pub purchases: u64,
    pub throughput_per_s: f64,
    pub purchases_per_s: f64,
    pub latency_ms: Latency,
    pub errors: HashMap<(u16, String), u64>,
    /// `None` for the baseline, which posts nothing to check.
    pub correct: Option<bool>,
    pub mismatch: Option<String>,
    pub seconds: Vec<Second>,
    pub windows: Vec<Window>,
}

/// Prints throughput and p99 of each second while the terminals run.
pub fn live(duration_s: u64, visible: bool, recorder: Arc<Recorder>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !visible {
            return;
        }
        let bar = indicatif::ProgressBar::new(duration_s);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            let done = recorder.started.elapsed().as_secs();
            let last = recorder
                .seconds
                .lock()
                .iter()
                .rev()
                .find(|(s, _)| *s + 1 == done)
                .map(|(s, h)| Second::from(*s, h));
            if let Some(second) = last {
                bar.set_message(format!("{} req/s, p99 {:.2} ms", second.requests, second.p99_ms));
            }
            bar.set_position(done.min(duration_s));
        }
    })
}

impl Report {
    fn errors_sorted(&self) -> Vec<(&(u16, String), &u64)> {
        let mut errors: Vec<_> = self.errors.iter().collect();
        errors.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        errors
    }

    pub fn json(&self) -> Value {
        let errors: Vec<Value> = self
            .errors_sorted()
            .into_iter()
            .map(|((status, code), count)| json!({"status": status, "error": code, "count": count}))
            .collect();
        json!({
            "scenario": self.scenario,
            "terminals": self.terminals,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "purchases": self.purchases,
            "throughput_per_s": self.throughput_per_s,
            "purchases_per_s": self.purchases_per_s,
            "latency_ms": self.latency_ms,
            "errors": errors,
            "correct": self.correct,
            "mismatch": self.mismatch,
            "windows_10s": self.windows,
        })
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario      {:?}, {} terminals, {:.1} s",
            self.scenario, self.terminals, self.duration_s
        );
        let _ = writeln!(out, "requests      {}", self.requests);
        let _ = writeln!(out, "throughput    {:.0} requests/s", self.throughput_per_s);
        if self.purchases > 0 {
            let _ = writeln!(out, "purchases     {} ({:.0}/s)", self.purchases, self.purchases_per_s);
        }
        let latency = &self.latency_ms;
        let _ = writeln!(
            out,
            "latency (ms)  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            latency.p50, latency.p90, latency.p99, latency.p999, latency.max
        );
        if self.errors.is_empty() {
            let _ = writeln!(out, "errors        none");
        } else {
            let _ = writeln!(out, "errors");
            for ((status, code), count) in self.errors_sorted() {
                let _ = writeln!(out, "  {count:>10}  {status} {code}");
            }
        }
        match (self.correct, &self.mismatch) {
            (None, _) => {}
            (Some(true), _) => {
                let what = match self.scenario {
                    Scenario::Transfer | Scenario::Redeem => {
                        "money is conserved: every acknowledged move is in the wallets"
                    }
                    Scenario::Locations => "venues come nearest first",
                    Scenario::Orders => "every acknowledged order is in its contact's orders, once",
                    _ => "every acknowledged award and spend is in the wallets' journals",
                };
                let _ = writeln!(out, "correctness   ok: {what}");
            }
            (Some(false), mismatch) => {
                let _ = writeln!(out, "correctness   FAILED: {}", mismatch.as_deref().unwrap_or(""));
            }
        }
        out
    }
}

/// A plain SVG chart: throughput (left axis) and p99 (right axis) per second.
pub fn svg(report: &Report) -> String {
    let (width, height, margin) = (800.0, 360.0, 60.0);
    let plot_width = width - 2.0 * margin;
    let plot_height = height - 2.0 * margin;
    let seconds = &report.seconds;
    let last = seconds.iter().map(|s| s.second).max().unwrap_or(1).max(1) as f64;
    let max_requests = seconds.iter().map(|s| s.requests).max().unwrap_or(1).max(1) as f64;
    let max_p99 = seconds.iter().map(|s| s.p99_ms).fold(0.0, f64::max).max(0.001);
    let x = |second: u64| margin + plot_width * second as f64 / last;
    let line = |value: &dyn Fn(&Second) -> f64, max: f64| {
        seconds
            .iter()
            .map(|s| {
                format!(
                    "{:.1},{:.1}",
                    x(s.second),
                    margin + plot_height * (1.0 - value(s) / max)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{margin}" y="24" font-size="14">rewards bench: {scenario:?}, {terminals} terminals</text>
<line x1="{margin}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>
<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{bottom}" stroke="black"/>
<line x1="{right}" y1="{margin}" x2="{right}" y2="{bottom}" stroke="black"/>
<text x="{margin}" y="{label_y}" fill="#1f77b4">requests/s (max {max_requests:.0})</text>
<text x="{right}" y="{label_y}" fill="#d62728" text-anchor="end">p99 ms (max {max_p99:.2})</text>
<text x="{right}" y="{axis_y}" text-anchor="end">{last:.0} s</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{requests}"/>
<polyline fill="none" stroke="#d62728" stroke-width="2" points="{p99}"/>
</svg>
"##,
        scenario = report.scenario,
        terminals = report.terminals,
        bottom = margin + plot_height,
        right = margin + plot_width,
        label_y = margin - 8.0,
        axis_y = margin + plot_height + 18.0,
        requests = line(&|s: &Second| s.requests as f64, max_requests),
        p99 = line(&|s: &Second| s.p99_ms, max_p99),
    );
    out
}
