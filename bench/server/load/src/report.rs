//! The results: the table printed at the end (bench/server/run.sh and
//! bench/server/README.md describe its columns) and the JSON report
//! (bench/results/server-latest.json).

use crate::scenarios::Bench;
use crate::stats::{round, PhaseResult};
use serde_json::{json, Value};

pub fn print_table(results: &[PhaseResult], mints: &[PhaseResult]) {
    println!();
    println!(
        "{:<10} {:>4} {:>9} {:>6} {:>8} {:>7} {:>7} {:>7} {:>9} {:>11} {:>9} {:>10}",
        "scenario",
        "conc",
        "requests",
        "errors",
        "rps",
        "p50 ms",
        "p99 ms",
        "max ms",
        "srv cores",
        "rps/srvcore",
        "gen cores",
        "other cores"
    );
    let opt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
    for r in results.iter().chain(mints) {
        let cores = r.cores(r.server_cpu);
        println!(
            "{:<10} {:>4} {:>9} {:>6} {:>8.0} {:>7.2} {:>7.2} {:>7.2} {:>9} {:>11} {:>9} {:>10}",
            if r.scenario.starts_with("mint") { "mint*" } else { &r.scenario },
            r.concurrency,
            r.requests,
            r.error_count(),
            r.rps(),
            r.latency.p50,
            r.latency.p99,
            r.latency.max,
            opt(cores, 2),
            opt(cores.filter(|c| *c > 0.0).map(|c| r.rps() / c), 0),
            opt(r.cores(r.gen_cpu), 2),
            opt(r.cores(r.other_cpu()), 2),
        );
    }
    for r in results {
        for note in &r.notes {
            println!("  note ({} c={}): {note}", r.scenario, r.concurrency);
        }
        if r.error_count() > 0 {
            println!(
                "  ERRORS ({} c={}): {:?}; e.g. {}",
                r.scenario,
                r.concurrency,
                r.errors,
                r.sample_error.as_deref().unwrap_or("?")
            );
        }
    }
    if !mints.is_empty() {
        println!("  mint*: POST /sim/wx/login before each timed login phase, not part of the login figures");
    }
}

/// The JSON report of a finished run; `ok` says whether no timed phase
/// had errors.
pub fn json(bench: &Bench, ok: bool, busy_before_run: f64, jwks_keys: &[String]) -> Value {
    let meta: serde_json::Map<String, Value> =
        bench.o.meta.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({
        "ok": ok,
        "meta": meta,
        "machine_busy_cores_before_run": round(busy_before_run, 2),
        "method": {
            "generator": "miniauth-load (bench/server/load): closed loop, one keep-alive HTTP/1.1 connection per virtual user",
            "duration_s": bench.o.duration.as_secs_f64(),
            "warmup_s": bench.o.warmup.as_secs_f64(),
            "concurrency": bench.o.concurrency,
            "max_requests_per_phase": bench.o.max_requests,
            "rps": "successful (2xx, well-formed) answers / wall time of the phase",
            "latency": "per request, send to full body, nearest-rank percentiles over every request of the phase",
            "server_cores_busy": "server process utime+stime during the phase / wall time (from /proc/<pid>/stat)",
            "rps_per_server_core": "rps / server_cores_busy",
            "bound_users": bench.users.len(),
            "jwks_keys": jwks_keys,
        },
        "results": bench.results.iter().map(PhaseResult::json).collect::<Vec<_>>(),
        "mint": bench.mints.iter().map(PhaseResult::json).collect::<Vec<_>>(),
    })
}
