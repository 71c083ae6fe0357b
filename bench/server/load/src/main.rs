//! miniauth-load: the closed-loop load generator of `make bench-server`.
//!
//! It drives one or more running instances of `miniauth serve` on
//! loopback, in simulator mode or beside a `miniauth wechat-sim` they share
//! (`--wechat-sim`, where codes are minted; several instances need one):
//!
//! * prepares state: bound users (`/sim/wx/login` → `/v1/login/wechat` →
//!   USER_REGISTER → `/v1/register`), untimed;
//! * `login`: `POST /v1/login/wechat`, every request with a fresh single-use
//!   code. Codes are minted through `/sim/wx/login` in a phase of their own
//!   before the timed phase (reported apart as `mint`), never inside it;
//! * `refresh`: `POST /v1/session/refresh`, each virtual user chaining the
//!   session_token its previous refresh rotated to;
//! * `jwks`: `GET /.well-known/jwks.json`.
//!
//! Each virtual user owns one keep-alive HTTP/1.1 connection and sends its
//! next request when the previous answer has arrived (closed loop, fixed
//! concurrency), for a fixed duration and at most `--max-requests` requests
//! per phase. Every answer is checked: a non-2xx status, a transport failure
//! or an answer of the wrong shape is an error, counted by kind.
//!
//! Requests and answers are the crate's own (`miniauth::protocol`), and the
//! simulator's limits come from `miniauth::server::wechat::simulator`.
//!
//! Only loopback addresses are accepted as targets.

mod cpu;
mod http;
mod options;
mod phase;
mod prepare;
mod report;
mod scenarios;
mod stats;
mod wrk;

use clap::Parser;
use cpu::CpuMeter;
use options::Options;
use prepare::Users;
use scenarios::Bench;
use serde_json::Value;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Progress, on stderr (stdout has the table).
fn log(msg: impl AsRef<str>) {
    eprintln!("[load] {}", msg.as_ref());
}

/// The whole run; `Ok(false)` when a timed phase had errors.
async fn run(o: Options) -> Result<bool, AnyError> {
    let jwks = http::wait_ready(o.instances[0], o.timeout).await?;
    for other in &o.instances[1..] {
        if http::wait_ready(*other, o.timeout).await? != jwks {
            return Err(format!("the instance at {other} serves another JWKS than {}", o.instances[0]).into());
        }
    }
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("the JWKS has no keys array")?;
    let algs: Vec<String> = keys
        .iter()
        .map(|k| format!("{}/{}", k["kty"].as_str().unwrap_or("?"), k["alg"].as_str().unwrap_or("?")))
        .collect();
    let longest_phase = o.duration + o.warmup + Duration::from_secs(30);
    let run_tag = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis());
    let mut bench = Bench {
        users: Users::new(run_tag, longest_phase),
        cpu: CpuMeter { server_pids: o.server_pid.iter().map(u32::to_string).collect(), clk_tck: o.clk_tck },
        results: Vec::new(),
        mints: Vec::new(),
        o,
    };
    log(format!("server ready at {:?}, JWKS keys: {algs:?}", bench.o.instances));

    // How busy the machine is with the server idle: other processes take
    // cores from both the server and the generator.
    let busy_before_run = bench.cpu.machine_busy_cores(Duration::from_secs(2)).await;
    log(format!("machine busy before the run (server idle): {busy_before_run:.2} cores"));
    if busy_before_run > 0.25 {
        log(format!(
            "WARNING: other processes keep {busy_before_run:.2} cores busy: the server and the generator share what is left"
        ));
    }

    let t0 = Instant::now();
    let mut prep = bench.prep_conns().await?;
    let initial = bench.o.initial_users.max(bench.o.concurrency.iter().copied().max().unwrap_or(0));
    prep.register(&mut bench.users, initial).await?;
    log(format!("registered {initial} bound users in {:.1} s", t0.elapsed().as_secs_f64()));

    for scenario in bench.o.scenarios.clone() {
        for c in bench.o.concurrency.clone() {
            bench.run(scenario, c).await?;
            if let Some(r) = bench.results.last() {
                log(format!(
                    "  {} c={}: {:.0} rps, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                    r.scenario,
                    r.concurrency,
                    r.rps(),
                    r.latency.p50,
                    r.latency.p99,
                    r.error_count()
                ));
            }
        }
    }

    report::print_table(&bench.results, &bench.mints);
    let clean = bench.results.iter().all(|r| r.error_count() == 0);
    if let Some(path) = &bench.o.out {
        let report = report::json(&bench, clean, busy_before_run, &algs);
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        log(format!("wrote {}", path.display()));
    }
    Ok(clean)
}

fn main() -> ExitCode {
    let o = match Options::try_parse() {
        Ok(o) => o,
        // --help and --version print to stdout and succeed.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let _ = e.print();
            // EX_USAGE (sysexits.h): the command line is wrong.
            return ExitCode::from(64);
        }
    };
    if !o.summarize.is_empty() {
        return match report::summarize(&o.summarize, o.out.as_deref()) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(3),
            Err(e) => {
                log(format!("failed: {e}"));
                ExitCode::from(1)
            }
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run(o)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            log("some timed phases had errors: the figures above are not clean");
            ExitCode::from(3)
        }
        Err(e) => {
            log(format!("failed: {e}"));
            ExitCode::from(1)
        }
    }
}
