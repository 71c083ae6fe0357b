//! The results: the table printed at the end (bench/server/run.sh and
//! bench/server/README.md describe its columns) and the JSON report
//! (bench/results/server-latest.json).

use crate::scenarios::Bench;
use crate::stats::{round, PhaseResult};
use crate::AnyError;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

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

/// A timed phase of one run, for [`summarize`].
struct Row<'a> {
    scenario: String,
    concurrency: u64,
    alg: String,
    setup: String,
    phase: &'a Value,
}

/// One table of the timed phases of several runs' reports, each scenario
/// and concurrency side by side across setups and signing algorithms, with
/// each row's rps as a ratio of the first setup's; writes them all to
/// `out` as one report. `Ok(false)` when a run had errors.
pub fn summarize(reports: &[PathBuf], out: Option<&Path>) -> Result<bool, AnyError> {
    let mut runs = Vec::new();
    for path in reports {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        runs.push(serde_json::from_str::<Value>(&text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let meta = |run: &Value, key: &str| run["meta"][key].as_str().unwrap_or("?").to_owned();
    let mut rows: Vec<Row> = Vec::new();
    for run in &runs {
        for phase in run["results"].as_array().into_iter().flatten() {
            rows.push(Row {
                scenario: phase["scenario"].as_str().unwrap_or("?").to_owned(),
                concurrency: phase["concurrency"].as_u64().unwrap_or(0),
                alg: meta(run, "signing_alg"),
                setup: meta(run, "setup"),
                phase,
            });
        }
    }
    // Scenarios, algorithms and setups in the order the runs met them.
    let order = |key: for<'r> fn(&'r Row<'_>) -> &'r str| {
        let mut seen: Vec<String> = Vec::new();
        for row in &rows {
            if !seen.iter().any(|s| s == key(row)) {
                seen.push(key(row).to_owned());
            }
        }
        seen
    };
    let (scenarios, algs, setups) = (order(|r| &r.scenario), order(|r| &r.alg), order(|r| &r.setup));
    let rank = |order: &[String], k: &str| order.iter().position(|o| o == k).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| (rank(&scenarios, &r.scenario), r.concurrency, rank(&algs, &r.alg), rank(&setups, &r.setup)));

    println!();
    println!(
        "{:<10} {:>4} {:<6} {:<12} {:>8} {:>7} {:>7} {:>7} {:>9} {:>11} {:>11} {:>6}",
        "scenario",
        "conc",
        "alg",
        "setup",
        "rps",
        "× first",
        "p50 ms",
        "p99 ms",
        "srv cores",
        "rps/srvcore",
        "other cores",
        "errors"
    );
    let number = |v: &Value, d: usize| v.as_f64().map_or("-".to_string(), |v| format!("{v:.d$}"));
    for Row { scenario, concurrency, alg, setup, phase } in &rows {
        let baseline = rows
            .iter()
            .find(|r| (&r.scenario, r.concurrency, &r.alg) == (scenario, *concurrency, alg))
            .and_then(|r| r.phase["rps"].as_f64());
        let ratio = phase["rps"].as_f64().zip(baseline).filter(|(_, b)| *b > 0.0).map(|(r, b)| r / b);
        println!(
            "{:<10} {:>4} {:<6} {:<12} {:>8} {:>7} {:>7} {:>7} {:>9} {:>11} {:>11} {:>6}",
            scenario,
            concurrency,
            alg,
            setup,
            number(&phase["rps"], 0),
            ratio.map_or("-".to_string(), |r| format!("{r:.2}")),
            number(&phase["latency_ms"]["p50"], 2),
            number(&phase["latency_ms"]["p99"], 2),
            number(&phase["server_cores_busy"], 2),
            number(&phase["rps_per_server_core"], 0),
            number(&phase["other_cores_busy"], 2),
            phase["errors"].as_u64().unwrap_or(0),
        );
    }
    if let Some(first) = setups.first() {
        println!("  × first: rps / rps of the first setup ({first}) at the same scenario, concurrency and alg");
    }
    for run in &runs {
        println!("  {} {}: {}", meta(run, "setup"), meta(run, "signing_alg"), meta(run, "database"));
    }
    let ok = runs.iter().all(|run| run["ok"] == Value::Bool(true));
    if let Some(path) = out {
        let report = json!({ "ok": ok, "runs": runs });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        crate::log(format!("wrote {}", path.display()));
    }
    Ok(ok)
}
