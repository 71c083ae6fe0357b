//! `refresh`: `POST /v1/session/refresh`, each virtual user signed in once
//! (untimed) as its own user and then chaining the token each refresh
//! rotated to, through the warm-up and the timed phase.

use super::Bench;
use crate::phase::Work;
use crate::{log, AnyError};

pub(super) async fn run(bench: &mut Bench, c: usize) -> Result<(), AnyError> {
    let mut prep = bench.prep_conns().await?;
    // One session per virtual user, each for a different bound user.
    let openids = bench.allocate(&mut prep, c, true).await?;
    let (codes, _) = prep.mint(openids).await?;
    let sessions = prep.sign_in(codes).await?;
    let vus = bench.vus(c, |i| Work::Refresh { session: sessions[i].clone(), alive: true }).await?;
    log(format!("refresh c={c}: warm-up {:?}", bench.o.warmup));
    let (vus, warm) = bench.phase("refresh", vus, bench.o.warmup).await;
    if warm.error_count() > 0 {
        return Err(format!("refresh warm-up failed: {:?} e.g. {:?}", warm.errors, warm.sample_error).into());
    }
    log(format!("refresh c={c}: timed {:?} (warm-up ran {:.0}/s)", bench.o.duration, warm.rps()));
    let (_vus, mut result) = bench.phase("refresh", vus, bench.o.duration).await;
    let before = warm.ok as f64 / c as f64;
    let after = before + result.ok as f64 / c as f64;
    result
        .notes
        .push(format!("each session family went from ~{before:.0} to ~{after:.0} rotated tokens during the phase"));
    bench.results.push(result);
    Ok(())
}
