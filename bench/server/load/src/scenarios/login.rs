//! `login`: `POST /v1/login/wechat` for bound users, a fresh single-use
//! code each time. The codes are minted before each phase (the timed pool
//! as a `mint` phase of its own), never inside it.

use super::Bench;
use crate::phase::{CodePool, Vu, Work};
use crate::prepare::LIVE_CODES_BUDGET;
use crate::{log, AnyError};

pub(super) async fn run(bench: &mut Bench, c: usize) -> Result<(), AnyError> {
    let mut prep = bench.prep_conns().await?;
    // Warm-up codes: enough for a few seconds at a few hundred logins/s;
    // the warm-up also measures the rate that sizes the timed pool.
    let warm_n = 1500 + 25 * c;
    let openids = bench.allocate(&mut prep, warm_n, false).await?;
    let (codes, _) = prep.mint(openids).await?;
    let pool = CodePool::new(codes);
    let vus = bench.vus(c, |_| Work::Login(pool.clone())).await?;
    log(format!("login c={c}: warm-up ({warm_n} codes, at most {:?})", bench.o.warmup));
    let (vus, warm) = bench.phase("login", vus, bench.o.warmup).await;
    let rate = warm.rps().max(50.0);
    if warm.error_count() > 0 {
        log(format!("  warm-up errors: {:?} e.g. {:?}", warm.errors, warm.sample_error));
    }
    // The timed pool: 1.6x the warm-up rate over the duration, within
    // what the simulator holds.
    let wanted = (rate * bench.o.duration.as_secs_f64() * 1.6).ceil() as usize + 10 * c;
    let room = LIVE_CODES_BUDGET.saturating_sub(bench.users.live_codes());
    let n = wanted.min(room).min(bench.o.max_requests);
    let openids = bench.allocate(&mut prep, n, false).await?;
    log(format!("login c={c}: minting {n} codes (warm-up ran {:.0}/s)", warm.rps()));
    let (codes, mut mint_result) = prep.mint(openids).await?;
    mint_result.notes.push(format!("{} codes for login c={c}, over {} connections", n, bench.o.prep_connections));
    mint_result.scenario = format!("mint (for login c={c})");
    mint_result.concurrency = bench.o.prep_connections;
    bench.mints.push(mint_result);
    let pool = CodePool::new(codes);
    let vus = vus.into_iter().map(|vu| Vu { conn: vu.conn, work: Work::Login(pool.clone()) }).collect();
    log(format!("login c={c}: timed {:?}", bench.o.duration));
    let (_vus, mut result) = bench.phase("login", vus, bench.o.duration).await;
    if pool.exhausted() {
        result.notes.push(format!(
            "the {n} pre-minted codes ran out after {:.1} s of {:?}: rps is over the shorter run",
            result.elapsed.as_secs_f64(),
            bench.o.duration
        ));
    }
    bench.results.push(result);
    Ok(())
}
