//! The scenarios, and the state they share across phases: options, bound
//! users, the CPU meter and the results so far.

mod jwks;
mod login;
mod refresh;
mod rooms;

use crate::cpu::CpuMeter;
use crate::http::open_connections;
use crate::options::{Options, Scenario};
use crate::phase::{run_phase, Vu, Work};
use crate::prepare::{Prep, Users};
use crate::stats::PhaseResult;
use crate::{log, AnyError};
use std::time::Duration;

pub struct Bench {
    pub o: Options,
    pub users: Users,
    pub cpu: CpuMeter,
    /// The timed phases, in order.
    pub results: Vec<PhaseResult>,
    /// The code minting before each timed login phase, reported apart.
    pub mints: Vec<PhaseResult>,
}

impl Bench {
    /// Warm-up and timed phase(s) of `scenario` at `c` connections; the
    /// results are pushed onto `results` and `mints`.
    pub async fn run(&mut self, scenario: Scenario, c: usize) -> Result<(), AnyError> {
        match scenario {
            Scenario::Login => login::run(self, c).await,
            Scenario::Refresh => refresh::run(self, c).await,
            Scenario::Jwks => jwks::run(self, c).await,
            Scenario::RoomSync => rooms::sync(self, c).await,
            Scenario::RoomRead => rooms::read(self, c).await,
        }
    }

    /// Connections for preparation steps.
    pub async fn prep_conns(&self) -> Result<Prep, AnyError> {
        let (n, timeout) = (self.o.prep_connections, self.o.timeout);
        Ok(Prep {
            wechat: open_connections(&[self.o.wechat_sim()], n, timeout).await?,
            servers: open_connections(&self.o.instances, n, timeout).await?,
        })
    }

    /// `c` virtual users on new connections, the `i`th doing `work(i)`.
    async fn vus(&self, c: usize, work: impl Fn(usize) -> Work) -> Result<Vec<Vu>, AnyError> {
        let conns = open_connections(&self.o.instances, c, self.o.timeout).await?;
        Ok(conns.into_iter().enumerate().map(|(i, conn)| Vu { conn, work: work(i) }).collect())
    }

    /// [`Prep::allocate`], saying when it had to register users.
    async fn allocate(&mut self, prep: &mut Prep, k: usize, distinct: bool) -> Result<Vec<String>, AnyError> {
        let (openids, registered) = prep.allocate(&mut self.users, k, distinct).await?;
        if registered > 0 {
            log(format!("registered {registered} more bound users"));
        }
        Ok(openids)
    }

    async fn phase(&self, scenario: &str, vus: Vec<Vu>, duration: Duration) -> (Vec<Vu>, PhaseResult) {
        run_phase(scenario, vus, duration, self.o.max_requests, &self.cpu).await
    }
}
