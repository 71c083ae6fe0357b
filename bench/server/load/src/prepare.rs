//! State preparation, untimed: bound users registered the way a client
//! makes them, WeChat codes minted through the simulator within its limits,
//! sessions signed in for the refresh chains.

use crate::http::Conn;
use crate::stats::{micros, PhaseResult};
use crate::AnyError;
use miniauth::protocol::{CodeRequest, LoginResponse, RegisterRequest, SessionRequest, Text};
use miniauth::server::wechat::simulator::{CODE_LIFETIME_MS, MAX_LIVE_CODES, RATE_LIMIT_PER_MINUTE, RATE_WINDOW_MS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Codes handed to one openid per rate window: one short of the
/// simulator's limit (the next one answers 45011), as a margin.
const CODES_PER_OPENID: usize = RATE_LIMIT_PER_MINUTE as usize - 1;
/// Codes the harness keeps live at most: 95 % of what the simulator holds
/// (spent or not, until they expire), as a margin.
pub const LIVE_CODES_BUDGET: usize = MAX_LIVE_CODES - MAX_LIVE_CODES / 20;
/// How long the simulator counts a code as live, plus 10 s for the gap
/// between a mint here and its record there.
const CODE_LIFETIME: Duration = Duration::from_millis(CODE_LIFETIME_MS.unsigned_abs() + 10_000);
const RATE_WINDOW: Duration = Duration::from_millis(RATE_WINDOW_MS.unsigned_abs());

/// `POST /sim/wx/login`, the simulator's stand-in for `wx.login()`: its
/// body and answer belong to the simulator, not to the server API.
#[derive(Serialize)]
struct SimLogin<'a> {
    openid: &'a str,
}

#[derive(Deserialize)]
struct SimCode {
    code: String,
}

struct UserRec {
    openid: String,
    /// When codes for this openid were minted (each may be exchanged once).
    uses: VecDeque<Instant>,
}

/// Bound users, and how many codes each may still be given without the
/// simulator's per-openid limit refusing one.
pub struct Users {
    list: Vec<UserRec>,
    cursor: usize,
    next_id: usize,
    run_tag: String,
    /// Mint times of every code, for the simulator's cap on live codes.
    live: VecDeque<Instant>,
    /// A code minted now is exchanged within the longest phase, so two
    /// exchanges less than a rate window apart were minted less than a
    /// window plus the longest phase apart.
    window: Duration,
}

impl Users {
    /// No users yet; `run_tag` keeps this run's openids apart from earlier
    /// runs' on the same server.
    pub fn new(run_tag: String, longest_phase: Duration) -> Self {
        Users {
            list: Vec::new(),
            cursor: 0,
            next_id: 0,
            run_tag,
            live: VecDeque::new(),
            window: RATE_WINDOW + longest_phase,
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn live_codes(&mut self) -> usize {
        let now = Instant::now();
        while self.live.front().is_some_and(|t| now.duration_since(*t) > CODE_LIFETIME) {
            self.live.pop_front();
        }
        self.live.len()
    }

    fn budget(&self, user: &UserRec, now: Instant) -> usize {
        let recent = user.uses.iter().filter(|t| now.duration_since(**t) < self.window).count();
        CODES_PER_OPENID.saturating_sub(recent)
    }

    /// `k` openids for `k` codes to be minted now, at most one per user if
    /// `distinct`; `Err(shortfall)` when the bound users cannot take them.
    fn take(&mut self, k: usize, distinct: bool) -> Result<Vec<String>, usize> {
        let now = Instant::now();
        let n = self.list.len();
        let mut budgets: Vec<usize> = self.list.iter().map(|u| self.budget(u, now)).collect();
        let total: usize = if distinct { budgets.iter().filter(|b| **b > 0).count() } else { budgets.iter().sum() };
        if total < k {
            return Err(k - total);
        }
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let i = self.cursor % n;
            self.cursor = (self.cursor + 1) % n;
            if budgets[i] > 0 {
                budgets[i] = if distinct { 0 } else { budgets[i] - 1 };
                self.list[i].uses.push_back(now);
                out.push(self.list[i].openid.clone());
            }
        }
        for user in &mut self.list {
            while user.uses.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                user.uses.pop_front();
            }
        }
        for _ in 0..k {
            self.live.push_back(now);
        }
        Ok(out)
    }

    fn new_openids(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.next_id += 1;
                format!("bench-{}-{:06}", self.run_tag, self.next_id)
            })
            .collect()
    }
}

/// Runs `f` over `items` spread across `conns`, concurrently; gives the
/// connections back with the results in order.
async fn spread<T, R, F, Fut>(conns: Vec<Conn>, items: Vec<T>, f: F) -> (Vec<Conn>, Vec<R>)
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Conn, T) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (Conn, R)> + Send,
{
    let n = conns.len();
    let mut queues: Vec<Vec<(usize, T)>> = (0..n).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        queues[i % n].push((i, item));
    }
    let mut tasks = Vec::with_capacity(n);
    for (conn, queue) in conns.into_iter().zip(queues) {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = conn;
            let mut results = Vec::with_capacity(queue.len());
            for (i, item) in queue {
                let (c, r) = f(conn, item).await;
                conn = c;
                results.push((i, r));
            }
            (conn, results)
        }));
    }
    let mut conns = Vec::with_capacity(n);
    let mut all = Vec::new();
    for task in tasks {
        let (conn, results) = task.await.expect("a worker panicked");
        conns.push(conn);
        all.extend(results);
    }
    all.sort_by_key(|(i, _)| *i);
    (conns, all.into_iter().map(|(_, r)| r).collect())
}

/// The connections preparation runs on: to where codes are minted, and to
/// the server's instances.
pub struct Prep {
    pub wechat: Vec<Conn>,
    pub servers: Vec<Conn>,
}

impl Prep {
    /// Mints one code per openid through `/sim/wx/login`, timed as a phase
    /// of its own (never part of the login figures); the codes come as the
    /// body `POST /v1/login/wechat` takes.
    pub async fn mint(&mut self, openids: Vec<String>) -> Result<(Vec<CodeRequest>, PhaseResult), AnyError> {
        let start = Instant::now();
        let (conns, results) = spread(std::mem::take(&mut self.wechat), openids, |mut conn, openid| async move {
            let t0 = Instant::now();
            let r = conn.post::<_, SimCode>("/sim/wx/login", &SimLogin { openid: &openid }).await;
            let dt = t0.elapsed();
            let code =
                r.map_err(|e| e.to_string()).and_then(|a| Text::new(a.code).ok_or_else(|| "a malformed code".into()));
            (conn, (code.map(|code| CodeRequest { code }), dt))
        })
        .await;
        self.wechat = conns;
        let elapsed = start.elapsed();
        let mut codes = Vec::with_capacity(results.len());
        let mut lat = Vec::with_capacity(results.len());
        for (r, dt) in results {
            codes.push(r.map_err(|e| format!("minting codes failed: {e}"))?);
            lat.push(micros(dt));
        }
        let n = codes.len() as u64;
        let result = PhaseResult::from_latencies(
            "mint",
            0,
            lat,
            n,
            BTreeMap::new(),
            elapsed,
            Default::default(),
            Default::default(),
        );
        Ok((codes, result))
    }

    /// Binds `n` new users: code → USER_REGISTER → /v1/register → SUCCESS.
    pub async fn register(&mut self, users: &mut Users, n: usize) -> Result<(), AnyError> {
        let openids = users.new_openids(n);
        let (codes, _) = self.mint(openids.clone()).await?;
        let (conns, results) = spread(std::mem::take(&mut self.servers), codes, |mut conn, code| async move {
            let r = async {
                let challenge = match conn.post("/v1/login/wechat", &code).await? {
                    LoginResponse::UserRegister(challenge) => challenge,
                    other => return Err(format!("first login answered {other:?}, not USER_REGISTER").into()),
                };
                let register = RegisterRequest { state_token: challenge.state_token, name: None };
                match conn.post("/v1/register", &register).await? {
                    LoginResponse::Success(_) => Ok::<(), AnyError>(()),
                    other => Err(format!("/v1/register answered {other:?}, not SUCCESS").into()),
                }
            }
            .await;
            (conn, r.map_err(|e| e.to_string()))
        })
        .await;
        self.servers = conns;
        for r in results {
            r.map_err(|e| format!("registering a bench user failed: {e}"))?;
        }
        let now = Instant::now();
        for openid in openids {
            users.live.push_back(now);
            users.list.push(UserRec { openid, uses: VecDeque::from([now]) });
        }
        Ok(())
    }

    /// Openids for `k` fresh codes, registering more users first if needed;
    /// also says how many were registered.
    pub async fn allocate(
        &mut self,
        users: &mut Users,
        k: usize,
        distinct: bool,
    ) -> Result<(Vec<String>, usize), AnyError> {
        let mut registered = 0;
        loop {
            match users.take(k, distinct) {
                Ok(openids) => return Ok((openids, registered)),
                Err(shortfall) => {
                    // A freshly registered user has spent one exchange already.
                    let per_user = if distinct { 1 } else { CODES_PER_OPENID - 1 };
                    let n = shortfall.div_ceil(per_user) + 8;
                    self.register(users, n).await?;
                    registered += n;
                }
            }
        }
    }

    /// Signs in a bound user with each code: the session each refresh chain
    /// starts from.
    pub async fn sign_in(&mut self, codes: Vec<CodeRequest>) -> Result<Vec<SessionRequest>, AnyError> {
        let (conns, sessions) = spread(std::mem::take(&mut self.servers), codes, |mut conn, code| async move {
            let r = match conn.post("/v1/login/wechat", &code).await {
                Ok(LoginResponse::Success(tokens)) => Text::new(tokens.session_token)
                    .map(|session_token| SessionRequest { session_token })
                    .ok_or_else(|| "a malformed session_token".into()),
                Ok(other) => Err(format!("login of a bound user answered {other:?}")),
                Err(e) => Err(e.to_string()),
            };
            (conn, r)
        })
        .await;
        self.servers = conns;
        sessions.into_iter().collect::<Result<_, _>>().map_err(|e| format!("refresh setup: {e}").into())
    }
}
