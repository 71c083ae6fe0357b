//! `jwks`: `GET /.well-known/jwks.json`, then the same load from wrk as a
//! cross-check when run.sh found one.

use super::Bench;
use crate::phase::Work;
use crate::{log, wrk, AnyError};

pub(super) async fn run(bench: &mut Bench, c: usize) -> Result<(), AnyError> {
    let vus = bench.vus(c, |_| Work::Jwks).await?;
    log(format!("jwks c={c}: warm-up {:?}", bench.o.warmup));
    let (vus, _) = bench.phase("jwks", vus, bench.o.warmup).await;
    log(format!("jwks c={c}: timed {:?}", bench.o.duration));
    let (vus, result) = bench.phase("jwks", vus, bench.o.duration).await;
    bench.results.push(result);
    // wrk gets the server to itself.
    drop(vus);
    if let Some(path) = bench.o.wrk().map(str::to_owned) {
        log(format!("jwks c={c}: timed {:?} with wrk (cross-check)", bench.o.duration));
        // wrk loads the first instance only.
        let (addr, duration, cpu) = (bench.o.instances[0], bench.o.duration, bench.cpu.clone());
        let result = tokio::task::spawn_blocking(move || wrk::run(&path, addr, c, duration, &cpu)).await??;
        bench.results.push(result);
    }
    Ok(())
}
