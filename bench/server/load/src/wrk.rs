//! The JWKS cross-check with wrk: the same load from a C generator, to see
//! what this generator's own cost does to the figures.

use crate::cpu::{children_seconds, CpuMeter};
use crate::http::JWKS_PATH;
use crate::stats::{Latency, PhaseResult};
use crate::AnyError;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// `wrk` on the JWKS with `c` connections for `duration`.
pub fn run(wrk: &str, addr: SocketAddr, c: usize, duration: Duration, cpu: &CpuMeter) -> Result<PhaseResult, AnyError> {
    let threads = c.min(2);
    let secs = duration.as_secs().max(1);
    let url = format!("http://{addr}{JWKS_PATH}");
    let before = cpu.sample();
    let children_before = children_seconds();
    let output = Command::new(wrk)
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &c.to_string(),
            "-d",
            &format!("{secs}s"),
            "--timeout",
            "10s",
            "--latency",
            &url,
        ])
        .output()?;
    let after = cpu.sample();
    let wrk_cpu = children_seconds() - children_before;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let summary = Summary::parse(&text).ok_or_else(|| format!("could not read wrk's output: {text}"))?;
    let mut errors = BTreeMap::new();
    if summary.non_2xx > 0 {
        errors.insert("non_2xx".to_string(), summary.non_2xx);
    }
    if summary.socket_errors > 0 {
        errors.insert("socket".to_string(), summary.socket_errors);
    }
    let ok = summary.requests.saturating_sub(summary.non_2xx);
    let mut result = PhaseResult::from_latencies(
        "jwks/wrk",
        c,
        Vec::new(),
        ok,
        errors,
        Duration::from_secs_f64(summary.elapsed),
        before,
        after,
    );
    result.requests = summary.requests;
    result.latency = summary.latency;
    result.statuses = BTreeMap::from([("2xx or 3xx (wrk)".to_string(), ok), ("other".to_string(), summary.non_2xx)]);
    result.gen_cpu = Some(wrk_cpu);
    result.generator = "wrk";
    result.notes.push(format!("wrk -t{threads} -c{c}: the same JWKS load from a C generator, as a cross-check"));
    Ok(result)
}

/// What wrk printed.
struct Summary {
    requests: u64,
    /// Seconds.
    elapsed: f64,
    latency: Latency,
    non_2xx: u64,
    socket_errors: u64,
}

impl Summary {
    /// `None` without the "N requests in T" line.
    fn parse(text: &str) -> Option<Self> {
        let mut latency = Latency { p50: f64::NAN, p90: f64::NAN, p99: f64::NAN, max: f64::NAN, mean: f64::NAN };
        let (mut requests, mut elapsed, mut non_2xx, mut socket_errors) = (None, None, 0, 0);
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["Latency", mean, _stdev, max, ..] => {
                    latency.mean = millis(mean);
                    latency.max = millis(max);
                }
                ["50%", v] => latency.p50 = millis(v),
                ["90%", v] => latency.p90 = millis(v),
                ["99%", v] => latency.p99 = millis(v),
                [n, "requests", "in", t, ..] => {
                    requests = n.parse::<u64>().ok();
                    elapsed = t.trim_end_matches(',').strip_suffix('s').and_then(|t| t.parse::<f64>().ok());
                }
                ["Non-2xx", "or", "3xx", "responses:", n] => non_2xx = n.parse().unwrap_or(u64::MAX),
                ["Socket", "errors:", rest @ ..] => {
                    socket_errors = rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum();
                }
                _ => {}
            }
        }
        Some(Summary { requests: requests?, elapsed: elapsed?, latency, non_2xx, socket_errors })
    }
}

/// A wrk time (`812.00us`, `1.20ms`, `2.00s`, `1.00m`) in ms; NaN if it
/// is none of these.
fn millis(v: &str) -> f64 {
    let Some((n, unit)) = v.find(|ch: char| ch.is_ascii_alphabetic()).map(|i| v.split_at(i)) else {
        return f64::NAN;
    };
    let Ok(n) = n.parse::<f64>() else {
        return f64::NAN;
    };
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}
