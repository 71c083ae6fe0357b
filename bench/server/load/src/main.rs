//! miniauth-load: the closed-loop load generator of `make bench-server`.
//!
//! It drives a running `miniauth serve` (simulator mode) on loopback:
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
//! Only loopback addresses are accepted as targets.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::process::Command;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// The simulator refuses the 11th exchange of one openid within 60 s
/// (errcode 45011); the harness stays below it.
const CODES_PER_OPENID: usize = 9;
/// The simulator holds at most 100 000 codes (spent or not) for 5 minutes.
const MAX_LIVE_CODES: usize = 95_000;
const CODE_LIFETIME: Duration = Duration::from_secs(310);

type AnyError = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------- options

struct Options {
    addr: SocketAddr,
    server_pid: Option<u32>,
    clk_tck: f64,
    duration: Duration,
    warmup: Duration,
    concurrency: Vec<usize>,
    scenarios: Vec<String>,
    max_requests: usize,
    timeout: Duration,
    prep_connections: usize,
    initial_users: usize,
    out: Option<String>,
    meta: Vec<(String, String)>,
    wrk: Option<String>,
}

fn usage() -> &'static str {
    "usage: miniauth-load --url http://127.0.0.1:PORT [--server-pid PID] [--clk-tck 100]
       [--duration SECS] [--warmup SECS] [--concurrency 16,64] [--scenarios login,refresh,jwks]
       [--max-requests N] [--timeout SECS] [--prep-connections N] [--initial-users N]
       [--out FILE.json] [--meta key=value]... [--wrk PATH]
--wrk: also load the JWKS with wrk (a cross-check of the generator's own cost)"
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut o = Options {
        addr: "127.0.0.1:1".parse().unwrap(),
        server_pid: None,
        clk_tck: 100.0,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(3),
        concurrency: vec![16, 64],
        scenarios: vec!["login".into(), "refresh".into(), "jwks".into()],
        max_requests: 2_000_000,
        timeout: Duration::from_secs(10),
        prep_connections: 16,
        initial_users: 128,
        out: None,
        meta: Vec::new(),
        wrk: None,
    };
    let secs = |v: &str| v.parse::<f64>().ok().filter(|s| *s > 0.0 && *s <= 600.0).map(Duration::from_secs_f64);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(usage().into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let bad = || format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--url" => url = Some(value.clone()),
            "--server-pid" => o.server_pid = Some(value.parse().map_err(|_| bad())?),
            "--clk-tck" => o.clk_tck = value.parse().map_err(|_| bad())?,
            "--duration" => o.duration = secs(&value).ok_or_else(bad)?,
            "--warmup" => o.warmup = secs(&value).ok_or_else(bad)?,
            "--concurrency" => {
                o.concurrency =
                    value.split(',').map(|c| c.trim().parse::<usize>()).collect::<Result<_, _>>().map_err(|_| bad())?;
                if o.concurrency.iter().any(|c| *c == 0 || *c > 1024) {
                    return Err(bad());
                }
            }
            "--scenarios" => {
                o.scenarios = value.split(',').map(|s| s.trim().to_string()).collect();
                if o.scenarios.iter().any(|s| !["login", "refresh", "jwks"].contains(&s.as_str())) {
                    return Err(bad());
                }
            }
            "--max-requests" => o.max_requests = value.parse().map_err(|_| bad())?,
            "--timeout" => o.timeout = secs(&value).ok_or_else(bad)?,
            "--prep-connections" => o.prep_connections = value.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?,
            "--initial-users" => o.initial_users = value.parse().map_err(|_| bad())?,
            "--out" => o.out = Some(value.clone()),
            "--wrk" => o.wrk = Some(value.clone()).filter(|v| !v.is_empty()),
            "--meta" => {
                let (k, v) = value.split_once('=').ok_or_else(bad)?;
                o.meta.push((k.to_string(), v.to_string()));
            }
            _ => return Err(format!("unknown flag {flag}\n{}", usage())),
        }
    }
    let url = url.ok_or_else(|| format!("--url is required\n{}", usage()))?;
    let hostport = url.strip_prefix("http://").ok_or("--url must be http://HOST:PORT")?.trim_end_matches('/');
    let addr: SocketAddr = hostport.parse().map_err(|_| "--url must be http://IP:PORT (a literal loopback address)")?;
    if !addr.ip().is_loopback() {
        return Err(format!("refusing {addr}: this generator only loads servers on loopback"));
    }
    o.addr = addr;
    Ok(o)
}

// ---------------------------------------------------------------- HTTP

/// One keep-alive HTTP/1.1 connection, reopened after a failure.
struct Conn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

#[derive(Debug)]
enum Failure {
    Transport(String),
    Timeout,
}

impl Conn {
    async fn open(addr: SocketAddr, timeout: Duration) -> Result<Self, AnyError> {
        let mut conn = Conn { addr, host: addr.to_string(), sender: None, timeout };
        conn.sender = Some(Self::connect(addr).await?);
        Ok(conn)
    }

    async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, AnyError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<(u16, Bytes), Failure> {
        let timeout = self.timeout;
        let result = tokio::time::timeout(timeout, self.send_inner(method, path, body)).await;
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.sender = None;
                Err(Failure::Transport(e.to_string()))
            }
            Err(_) => {
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Bytes), AnyError> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.sender = Some(Self::connect(self.addr).await?);
        }
        let sender = self.sender.as_mut().expect("connected above");
        sender.ready().await?;
        let mut request = Request::builder().method(method).uri(path).header("host", &self.host);
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(body))
            }
            None => Full::new(Bytes::new()),
        };
        let response = sender.send_request(request.body(body)?).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// For preparation steps: anything but the expected answer is fatal.
    async fn post_json(&mut self, path: &str, body: &Value) -> Result<(u16, Value), AnyError> {
        let (status, bytes) = self
            .send(Method::POST, path, Some(serde_json::to_vec(body)?))
            .await
            .map_err(|f| format!("POST {path}: {f:?}"))?;
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Ok((status, value))
    }
}

async fn open_connections(addr: SocketAddr, n: usize, timeout: Duration) -> Result<Vec<Conn>, AnyError> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(Conn::open(addr, timeout).await?);
    }
    Ok(conns)
}

// ---------------------------------------------------------------- CPU time

/// utime + stime of a process (all its threads), in seconds.
fn cpu_seconds(pid: &str, clk_tck: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck)
}

/// Busy, steal, irq + softirq and iowait CPU-seconds of the whole machine
/// (all cores), from the first line of /proc/stat: busy is user + nice +
/// system + irq + softirq.
fn machine_seconds(clk_tck: f64) -> Option<(f64, f64, f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    let busy = v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)?;
    let steal = v.get(7).copied().unwrap_or(0.0);
    let irq = v.get(5)? + v.get(6)?;
    let iowait = v.get(4).copied().unwrap_or(0.0);
    Some((busy / clk_tck, steal / clk_tck, irq / clk_tck, iowait / clk_tck))
}

/// CPU-seconds of this process's waited-for children (wrk).
fn children_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

#[derive(Clone, Copy, Default)]
struct CpuSample {
    server: Option<f64>,
    generator: Option<f64>,
    machine: Option<(f64, f64, f64, f64)>,
}

struct CpuMeter {
    server_pid: Option<String>,
    clk_tck: f64,
}

impl CpuMeter {
    fn sample(&self) -> CpuSample {
        CpuSample {
            server: self.server_pid.as_deref().and_then(|p| cpu_seconds(p, self.clk_tck)),
            generator: cpu_seconds("self", self.clk_tck),
            machine: machine_seconds(self.clk_tck),
        }
    }
}

// ---------------------------------------------------------------- users and codes

struct UserRec {
    openid: String,
    /// When codes for this openid were minted (each may be exchanged once).
    uses: VecDeque<Instant>,
}

/// Bound users, and how many codes each may still be given without the
/// simulator's per-openid limit (10 exchanges per 60 s) refusing one.
struct Users {
    list: Vec<UserRec>,
    cursor: usize,
    next_id: usize,
    run_tag: String,
    /// Mint times of every code, for the simulator's cap on live codes.
    live: VecDeque<Instant>,
    /// A code minted now is exchanged within this long (the longest phase
    /// plus slack), so two exchanges less than 60 s apart were minted less
    /// than 60 s + `horizon` apart.
    window: Duration,
}

impl Users {
    fn live_codes(&mut self) -> usize {
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
    fn allocate(&mut self, k: usize, distinct: bool) -> Result<Vec<String>, usize> {
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

#[derive(Deserialize)]
struct CodeAnswer {
    code: String,
}

#[derive(Deserialize)]
struct LoginAnswer {
    status: String,
    #[serde(default)]
    state_token: Option<String>,
    #[serde(default)]
    session_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

/// Mints one code per openid through `/sim/wx/login`, timed as a phase of
/// its own (never part of the login figures).
async fn mint(conns: Vec<Conn>, openids: Vec<String>) -> Result<(Vec<Conn>, Vec<String>, PhaseResult), AnyError> {
    let start = Instant::now();
    let (conns, results) = spread(conns, openids, |mut conn, openid| async move {
        let t0 = Instant::now();
        let r = conn.post_json("/sim/wx/login", &json!({ "openid": openid })).await;
        let dt = t0.elapsed();
        let r = match r {
            Ok((200, v)) => serde_json::from_value::<CodeAnswer>(v).map(|a| a.code).map_err(|e| e.to_string()),
            Ok((s, v)) => Err(format!("/sim/wx/login answered {s}: {v}")),
            Err(e) => Err(e.to_string()),
        };
        (conn, (r, dt))
    })
    .await;
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
        CpuSample::default(),
        CpuSample::default(),
    );
    Ok((conns, codes, result))
}

/// Binds new users: code → USER_REGISTER → /v1/register → SUCCESS.
async fn register(conns: Vec<Conn>, users: &mut Users, n: usize) -> Result<Vec<Conn>, AnyError> {
    let openids = users.new_openids(n);
    let (conns, codes, _) = mint(conns, openids.clone()).await?;
    let (conns, results) = spread(conns, codes, |mut conn, code| async move {
        let r = async {
            let (s, v) = conn.post_json("/v1/login/wechat", &json!({ "code": code })).await?;
            if s != 200 {
                return Err(format!("first login answered {s}: {v}").into());
            }
            let a: LoginAnswer = serde_json::from_value(v)?;
            let state_token = match (a.status.as_str(), a.state_token) {
                ("USER_REGISTER", Some(t)) => t,
                (status, _) => return Err(format!("first login answered {status}, not USER_REGISTER").into()),
            };
            let (s, v) = conn.post_json("/v1/register", &json!({ "state_token": state_token })).await?;
            let a: LoginAnswer =
                serde_json::from_value(v.clone()).map_err(|_| format!("/v1/register answered {s}: {v}"))?;
            if s != 200 || a.status != "SUCCESS" {
                return Err(format!("/v1/register answered {s}: {v}").into());
            }
            Ok::<(), AnyError>(())
        }
        .await;
        (conn, r.map_err(|e| e.to_string()))
    })
    .await;
    for r in results {
        r.map_err(|e| format!("registering a bench user failed: {e}"))?;
    }
    let now = Instant::now();
    for openid in openids {
        users.live.push_back(now);
        users.list.push(UserRec { openid, uses: VecDeque::from([now]) });
    }
    Ok(conns)
}

/// Openids for `k` fresh codes, registering more users first if needed.
async fn allocate(
    conns: Vec<Conn>,
    users: &mut Users,
    k: usize,
    distinct: bool,
) -> Result<(Vec<Conn>, Vec<String>, usize), AnyError> {
    let mut conns = conns;
    let mut registered = 0;
    loop {
        match users.allocate(k, distinct) {
            Ok(openids) => return Ok((conns, openids, registered)),
            Err(shortfall) => {
                // A freshly registered user has spent one exchange already.
                let per_user = if distinct { 1 } else { CODES_PER_OPENID - 1 };
                let n = shortfall.div_ceil(per_user) + 8;
                conns = register(conns, users, n).await?;
                registered += n;
            }
        }
    }
}

// ---------------------------------------------------------------- load phases

struct CodePool {
    codes: Vec<String>,
    next: AtomicUsize,
    exhausted: AtomicBool,
}

enum Work {
    Login(Arc<CodePool>),
    Refresh { token: String, alive: bool },
    Jwks,
}

struct Vu {
    conn: Conn,
    work: Work,
}

#[derive(Default)]
struct VuOutcome {
    latencies: Vec<u32>,
    statuses: BTreeMap<String, u64>,
    per_second: Vec<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    last_error: Option<String>,
    lost: bool,
}

#[derive(Deserialize)]
struct RefreshAnswer {
    session_token: String,
    id_token: String,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// One virtual user's loop: a request, its answer, the next request, until
/// the deadline (requests are only started before it).
async fn vu_loop(mut vu: Vu, start: Instant, deadline: Instant, budget: Arc<AtomicUsize>) -> (Vu, VuOutcome) {
    tokio::time::sleep_until(start.into()).await;
    let mut out = VuOutcome { latencies: Vec::with_capacity(16 * 1024), ..VuOutcome::default() };
    let error = |out: &mut VuOutcome, kind: String, detail: String| {
        *out.errors.entry(kind).or_default() += 1;
        out.last_error = Some(detail);
    };
    while Instant::now() < deadline {
        if budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1)).is_err() {
            break;
        }
        let (method, path, body) = match &vu.work {
            Work::Login(pool) => {
                let i = pool.next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = pool.codes.get(i) else {
                    pool.exhausted.store(true, Ordering::Relaxed);
                    break;
                };
                (Method::POST, "/v1/login/wechat", Some(format!("{{\"code\":\"{code}\"}}").into_bytes()))
            }
            Work::Refresh { token, alive } => {
                if !alive {
                    break;
                }
                (Method::POST, "/v1/session/refresh", Some(format!("{{\"session_token\":\"{token}\"}}").into_bytes()))
            }
            Work::Jwks => (Method::GET, "/.well-known/jwks.json", None),
        };
        let t0 = Instant::now();
        let answer = vu.conn.send(method, path, body).await;
        let dt = t0.elapsed();
        out.latencies.push(micros(dt));
        let (status, bytes) = match answer {
            Ok(a) => {
                *out.statuses.entry(a.0.to_string()).or_default() += 1;
                a
            }
            Err(Failure::Timeout) => {
                error(&mut out, "timeout".into(), format!("{path}: no answer within the timeout"));
                if let Work::Refresh { alive, .. } = &mut vu.work {
                    *alive = false;
                    out.lost = true;
                }
                continue;
            }
            Err(Failure::Transport(e)) => {
                error(&mut out, "transport".into(), format!("{path}: {e}"));
                if let Work::Refresh { alive, .. } = &mut vu.work {
                    *alive = false;
                    out.lost = true;
                }
                continue;
            }
        };
        if !(200..300).contains(&status) {
            error(
                &mut out,
                status.to_string(),
                format!("{path} answered {status}: {}", String::from_utf8_lossy(&bytes)),
            );
            if let Work::Refresh { alive, .. } = &mut vu.work {
                // The chain is broken: this virtual user stops rather than
                // log in again inside the timed phase.
                *alive = false;
                out.lost = true;
            }
            continue;
        }
        let valid = match &mut vu.work {
            Work::Login(_) => match serde_json::from_slice::<LoginAnswer>(&bytes) {
                Ok(a) => a.status == "SUCCESS" && a.session_token.is_some() && a.id_token.is_some(),
                Err(_) => false,
            },
            Work::Refresh { token, alive } => match serde_json::from_slice::<RefreshAnswer>(&bytes) {
                Ok(a) if a.session_token != *token && !a.id_token.is_empty() => {
                    *token = a.session_token;
                    true
                }
                _ => {
                    *alive = false;
                    out.lost = true;
                    false
                }
            },
            Work::Jwks => bytes.starts_with(b"{") && bytes.len() > 32,
        };
        if valid {
            out.ok += 1;
            let second = usize::try_from(start.elapsed().as_secs()).unwrap_or(usize::MAX).min(3600);
            if out.per_second.len() <= second {
                out.per_second.resize(second + 1, 0);
            }
            out.per_second[second] += 1;
        } else {
            error(
                &mut out,
                "bad_body".into(),
                format!("{path} answered {status} with {}", String::from_utf8_lossy(&bytes)),
            );
        }
    }
    (vu, out)
}

/// Latency summary, in ms (NaN when there were no requests).
#[derive(Clone, Copy)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `sorted` (µs).
    fn of(sorted: &[u32]) -> Self {
        let pct = |p: f64| {
            if sorted.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
            f64::from(sorted[rank.min(sorted.len()) - 1]) / 1000.0
        };
        let mean = if sorted.is_empty() {
            f64::NAN
        } else {
            sorted.iter().map(|v| f64::from(*v)).sum::<f64>() / sorted.len() as f64 / 1000.0
        };
        Latency { p50: pct(50.0), p90: pct(90.0), p99: pct(99.0), max: pct(100.0), mean }
    }
}

struct PhaseResult {
    scenario: String,
    concurrency: usize,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    elapsed: Duration,
    latency: Latency,
    server_cpu: Option<f64>,
    gen_cpu: Option<f64>,
    machine_cpu: Option<f64>,
    steal_cpu: Option<f64>,
    irq_cpu: Option<f64>,
    iowait: Option<f64>,
    per_second: Vec<u64>,
    statuses: BTreeMap<String, u64>,
    generator: &'static str,
    notes: Vec<String>,
    sample_error: Option<String>,
}

impl PhaseResult {
    #[allow(clippy::too_many_arguments)]
    fn from_latencies(
        scenario: &str,
        concurrency: usize,
        mut lat: Vec<u32>,
        ok: u64,
        errors: BTreeMap<String, u64>,
        elapsed: Duration,
        before: CpuSample,
        after: CpuSample,
    ) -> Self {
        lat.sort_unstable();
        let diff = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let machine = diff(before.machine.map(|m| m.0), after.machine.map(|m| m.0));
        let steal = diff(before.machine.map(|m| m.1), after.machine.map(|m| m.1));
        let irq = diff(before.machine.map(|m| m.2), after.machine.map(|m| m.2));
        let iowait = diff(before.machine.map(|m| m.3), after.machine.map(|m| m.3));
        PhaseResult {
            scenario: scenario.into(),
            concurrency,
            requests: lat.len() as u64,
            ok,
            errors,
            elapsed,
            latency: Latency::of(&lat),
            server_cpu: diff(before.server, after.server),
            gen_cpu: diff(before.generator, after.generator),
            machine_cpu: machine,
            steal_cpu: steal,
            irq_cpu: irq,
            iowait,
            per_second: Vec::new(),
            statuses: BTreeMap::new(),
            generator: "miniauth-load",
            notes: Vec::new(),
            sample_error: None,
        }
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn cores(&self, cpu: Option<f64>) -> Option<f64> {
        cpu.map(|c| c / self.elapsed.as_secs_f64())
    }

    /// Machine CPU used by neither the server nor the generator nor
    /// interrupts: other processes (and kernel threads).
    fn other_cpu(&self) -> Option<f64> {
        Some((self.machine_cpu? - self.server_cpu? - self.gen_cpu? - self.irq_cpu?).max(0.0))
    }

    fn json(&self) -> Value {
        let server_cores = self.cores(self.server_cpu);
        json!({
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.error_count(),
            "errors_by_kind": self.errors,
            "status_counts": self.statuses,
            "elapsed_s": round(self.elapsed.as_secs_f64(), 3),
            "rps": round(self.rps(), 1),
            "latency_ms": {
                "p50": round(self.latency.p50, 3),
                "p90": round(self.latency.p90, 3),
                "p99": round(self.latency.p99, 3),
                "max": round(self.latency.max, 3),
                "mean": round(self.latency.mean, 3),
            },
            "server_cpu_s": self.server_cpu.map(|v| round(v, 2)),
            "server_cores_busy": server_cores.map(|v| round(v, 2)),
            "rps_per_server_core": server_cores.filter(|c| *c > 0.0).map(|c| round(self.rps() / c, 1)),
            "generator": self.generator,
            "generator_cpu_s": self.gen_cpu.map(|v| round(v, 2)),
            "generator_cores_busy": self.cores(self.gen_cpu).map(|v| round(v, 2)),
            "machine_cores_busy": self.cores(self.machine_cpu).map(|v| round(v, 2)),
            "other_cores_busy": self.cores(self.other_cpu()).map(|v| round(v, 2)),
            "irq_softirq_cores": self.cores(self.irq_cpu).map(|v| round(v, 2)),
            "steal_cores": self.cores(self.steal_cpu).map(|v| round(v, 2)),
            "iowait_cores": self.cores(self.iowait).map(|v| round(v, 2)),
            "ok_per_second": self.per_second,
            "notes": self.notes,
            "sample_error": self.sample_error,
        })
    }
}

fn round(v: f64, digits: i32) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    let m = 10f64.powi(digits);
    json!((v * m).round() / m)
}

/// Runs the virtual users for `duration` (at most `max_requests` requests),
/// all starting together.
async fn run_phase(
    scenario: &str,
    vus: Vec<Vu>,
    duration: Duration,
    max_requests: usize,
    cpu: &CpuMeter,
) -> (Vec<Vu>, PhaseResult) {
    let concurrency = vus.len();
    let budget = Arc::new(AtomicUsize::new(max_requests));
    let start = Instant::now() + Duration::from_millis(50);
    let deadline = start + duration;
    let tasks: Vec<_> = vus.into_iter().map(|vu| tokio::spawn(vu_loop(vu, start, deadline, budget.clone()))).collect();
    tokio::time::sleep_until(start.into()).await;
    let before = cpu.sample();
    let mut vus = Vec::with_capacity(concurrency);
    let mut lat = Vec::new();
    let mut ok = 0;
    let mut errors = BTreeMap::new();
    let mut lost = 0;
    let mut sample_error = None;
    let mut per_second: Vec<u64> = Vec::new();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let (vu, out) = task.await.expect("a virtual user panicked");
        vus.push(vu);
        lat.extend(out.latencies);
        for (k, v) in out.statuses {
            *statuses.entry(k).or_default() += v;
        }
        if per_second.len() < out.per_second.len() {
            per_second.resize(out.per_second.len(), 0);
        }
        for (i, n) in out.per_second.iter().enumerate() {
            per_second[i] += n;
        }
        ok += out.ok;
        for (k, v) in out.errors {
            *errors.entry(k).or_insert(0) += v;
        }
        lost += u64::from(out.lost);
        sample_error = sample_error.or(out.last_error);
    }
    let elapsed = start.elapsed();
    let after = cpu.sample();
    let mut result = PhaseResult::from_latencies(scenario, concurrency, lat, ok, errors, elapsed, before, after);
    if lost > 0 {
        result.notes.push(format!("{lost} of {concurrency} virtual users lost their session chain and stopped"));
    }
    if budget.load(Ordering::Relaxed) == 0 {
        result.notes.push(format!("stopped at the --max-requests bound ({max_requests})"));
    }
    result.sample_error = sample_error;
    result.per_second = per_second;
    result.statuses = statuses;
    (vus, result)
}

// ---------------------------------------------------------------- scenarios

struct Bench {
    o: Options,
    users: Users,
    cpu: CpuMeter,
    results: Vec<PhaseResult>,
    mints: Vec<PhaseResult>,
    log_prefix: &'static str,
}

impl Bench {
    fn log(&self, msg: impl AsRef<str>) {
        eprintln!("{}{}", self.log_prefix, msg.as_ref());
    }

    async fn prep_conns(&self) -> Result<Vec<Conn>, AnyError> {
        open_connections(self.o.addr, self.o.prep_connections, self.o.timeout).await
    }

    async fn login_scenario(&mut self, c: usize) -> Result<(), AnyError> {
        let conns = self.prep_conns().await?;
        // Warm-up codes: enough for a few seconds at a few hundred logins/s;
        // the warm-up also measures the rate that sizes the timed pool.
        let warm_n = 1500 + 25 * c;
        let (conns, openids, reg) = allocate(conns, &mut self.users, warm_n, false).await?;
        if reg > 0 {
            self.log(format!("registered {reg} more bound users"));
        }
        let (conns, codes, _) = mint(conns, openids).await?;
        let pool = Arc::new(CodePool { codes, next: AtomicUsize::new(0), exhausted: AtomicBool::new(false) });
        let vus = self.vus(c, |_| Work::Login(pool.clone())).await?;
        self.log(format!("login c={c}: warm-up ({warm_n} codes, at most {:?})", self.o.warmup));
        let (vus, warm) = run_phase("login", vus, self.o.warmup, self.o.max_requests, &self.cpu).await;
        let rate = warm.rps().max(50.0);
        if warm.error_count() > 0 {
            self.log(format!("  warm-up errors: {:?} e.g. {:?}", warm.errors, warm.sample_error));
        }
        // The timed pool: 1.6x the warm-up rate over the duration, within
        // what the simulator holds.
        let wanted = (rate * self.o.duration.as_secs_f64() * 1.6).ceil() as usize + 10 * c;
        let room = MAX_LIVE_CODES.saturating_sub(self.users.live_codes());
        let n = wanted.min(room).min(self.o.max_requests);
        let (conns, openids, reg) = allocate(conns, &mut self.users, n, false).await?;
        if reg > 0 {
            self.log(format!("registered {reg} more bound users"));
        }
        self.log(format!("login c={c}: minting {n} codes (warm-up ran {:.0}/s)", warm.rps()));
        let (_conns, codes, mut mint_result) = mint(conns, openids).await?;
        mint_result.notes.push(format!("{} codes for login c={c}, over {} connections", n, self.o.prep_connections));
        mint_result.scenario = format!("mint (for login c={c})");
        mint_result.concurrency = self.o.prep_connections;
        self.mints.push(mint_result);
        let pool = Arc::new(CodePool { codes, next: AtomicUsize::new(0), exhausted: AtomicBool::new(false) });
        let vus = vus.into_iter().map(|vu| Vu { conn: vu.conn, work: Work::Login(pool.clone()) }).collect();
        self.log(format!("login c={c}: timed {:?}", self.o.duration));
        let (_vus, mut result) = run_phase("login", vus, self.o.duration, self.o.max_requests, &self.cpu).await;
        if pool.exhausted.load(Ordering::Relaxed) {
            result.notes.push(format!(
                "the {n} pre-minted codes ran out after {:.1} s of {:?}: rps is over the shorter run",
                result.elapsed.as_secs_f64(),
                self.o.duration
            ));
        }
        self.results.push(result);
        Ok(())
    }

    async fn refresh_scenario(&mut self, c: usize) -> Result<(), AnyError> {
        let conns = self.prep_conns().await?;
        // One session per virtual user, each for a different bound user.
        let (conns, openids, reg) = allocate(conns, &mut self.users, c, true).await?;
        if reg > 0 {
            self.log(format!("registered {reg} more bound users"));
        }
        let (conns, codes, _) = mint(conns, openids).await?;
        let (_conns, tokens) = spread(conns, codes, |mut conn, code| async move {
            let r = async {
                let (s, v) = conn.post_json("/v1/login/wechat", &json!({ "code": code })).await?;
                let a: LoginAnswer =
                    serde_json::from_value(v.clone()).map_err(|_| format!("login answered {s}: {v}"))?;
                match (s, a.status.as_str(), a.session_token) {
                    (200, "SUCCESS", Some(t)) => Ok::<String, AnyError>(t),
                    _ => Err(format!("login of a bound user answered {s}: {v}").into()),
                }
            }
            .await;
            (conn, r.map_err(|e| e.to_string()))
        })
        .await;
        let tokens: Vec<String> =
            tokens.into_iter().collect::<Result<_, _>>().map_err(|e| format!("refresh setup: {e}"))?;
        let vus = self.vus(c, |i| Work::Refresh { token: tokens[i].clone(), alive: true }).await?;
        self.log(format!("refresh c={c}: warm-up {:?}", self.o.warmup));
        let (vus, warm) = run_phase("refresh", vus, self.o.warmup, self.o.max_requests, &self.cpu).await;
        if warm.error_count() > 0 {
            return Err(format!("refresh warm-up failed: {:?} e.g. {:?}", warm.errors, warm.sample_error).into());
        }
        self.log(format!("refresh c={c}: timed {:?} (warm-up ran {:.0}/s)", self.o.duration, warm.rps()));
        let (_vus, mut result) = run_phase("refresh", vus, self.o.duration, self.o.max_requests, &self.cpu).await;
        let before = warm.ok as f64 / c as f64;
        let after = before + result.ok as f64 / c as f64;
        result.notes.push(format!(
            "each session family went from ~{before:.0} to ~{after:.0} rotated tokens during the phase (refresh cost grows with it)"
        ));
        self.results.push(result);
        Ok(())
    }

    async fn jwks_scenario(&mut self, c: usize) -> Result<(), AnyError> {
        let vus = self.vus(c, |_| Work::Jwks).await?;
        self.log(format!("jwks c={c}: warm-up {:?}", self.o.warmup));
        let (vus, _) = run_phase("jwks", vus, self.o.warmup, self.o.max_requests, &self.cpu).await;
        self.log(format!("jwks c={c}: timed {:?}", self.o.duration));
        let (vus, result) = run_phase("jwks", vus, self.o.duration, self.o.max_requests, &self.cpu).await;
        self.results.push(result);
        drop(vus);
        if let Some(wrk) = self.o.wrk.clone() {
            self.log(format!("jwks c={c}: timed {:?} with wrk (cross-check)", self.o.duration));
            let (addr, duration) = (self.o.addr, self.o.duration);
            let meter = CpuMeter { server_pid: self.cpu.server_pid.clone(), clk_tck: self.cpu.clk_tck };
            let result = tokio::task::spawn_blocking(move || run_wrk(&wrk, addr, c, duration, &meter)).await??;
            self.results.push(result);
        }
        Ok(())
    }

    async fn vus(&self, c: usize, work: impl Fn(usize) -> Work) -> Result<Vec<Vu>, AnyError> {
        let conns = open_connections(self.o.addr, c, self.o.timeout).await?;
        Ok(conns.into_iter().enumerate().map(|(i, conn)| Vu { conn, work: work(i) }).collect())
    }
}

/// `wrk` on the JWKS for `duration`, as a cross-check of what the
/// generator's own cost does to the figures.
fn run_wrk(wrk: &str, addr: SocketAddr, c: usize, duration: Duration, cpu: &CpuMeter) -> Result<PhaseResult, AnyError> {
    let threads = c.min(2);
    let secs = duration.as_secs().max(1);
    let url = format!("http://{addr}/.well-known/jwks.json");
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
    let time = |v: &str| -> Option<f64> {
        let (n, unit) = v.find(|ch: char| ch.is_ascii_alphabetic()).map(|i| v.split_at(i))?;
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => return None,
        })
    };
    let mut latency = Latency { p50: f64::NAN, p90: f64::NAN, p99: f64::NAN, max: f64::NAN, mean: f64::NAN };
    let (mut requests, mut elapsed, mut non_2xx, mut socket_errors) = (None, None, 0u64, 0u64);
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", mean, _stdev, max, ..] => {
                latency.mean = time(mean).unwrap_or(f64::NAN);
                latency.max = time(max).unwrap_or(f64::NAN);
            }
            ["50%", v] => latency.p50 = time(v).unwrap_or(f64::NAN),
            ["90%", v] => latency.p90 = time(v).unwrap_or(f64::NAN),
            ["99%", v] => latency.p99 = time(v).unwrap_or(f64::NAN),
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
    let (Some(requests), Some(elapsed)) = (requests, elapsed) else {
        return Err(format!("could not read wrk's output: {text}").into());
    };
    let mut errors = BTreeMap::new();
    if non_2xx > 0 {
        errors.insert("non_2xx".to_string(), non_2xx);
    }
    if socket_errors > 0 {
        errors.insert("socket".to_string(), socket_errors);
    }
    let mut result = PhaseResult::from_latencies(
        "jwks/wrk",
        c,
        Vec::new(),
        requests.saturating_sub(non_2xx),
        errors,
        Duration::from_secs_f64(elapsed),
        before,
        after,
    );
    result.requests = requests;
    result.latency = latency;
    result.statuses = BTreeMap::from([
        ("2xx or 3xx (wrk)".to_string(), requests.saturating_sub(non_2xx)),
        ("other".to_string(), non_2xx),
    ]);
    result.gen_cpu = Some(wrk_cpu);
    result.generator = "wrk";
    result.notes.push(format!("wrk -t{threads} -c{c}: the same JWKS load from a C generator, as a cross-check"));
    Ok(result)
}

async fn wait_ready(addr: SocketAddr, timeout: Duration) -> Result<Value, AnyError> {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut conn) = Conn::open(addr, timeout).await {
            if let Ok((200, body)) = conn.send(Method::GET, "/.well-known/jwks.json", None).await {
                return Ok(serde_json::from_slice(&body)?);
            }
        }
        if Instant::now() > give_up {
            return Err(format!("the server at {addr} did not answer within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn print_table(results: &[PhaseResult], mints: &[PhaseResult]) {
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

async fn run(o: Options) -> Result<bool, AnyError> {
    let jwks = wait_ready(o.addr, o.timeout).await?;
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("the JWKS has no keys array")?;
    let algs: Vec<String> = keys
        .iter()
        .map(|k| format!("{}/{}", k["kty"].as_str().unwrap_or("?"), k["alg"].as_str().unwrap_or("?")))
        .collect();
    let longest_phase = o.duration + o.warmup + Duration::from_secs(30);
    let run_tag = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let mut bench = Bench {
        users: Users {
            list: Vec::new(),
            cursor: 0,
            next_id: 0,
            run_tag,
            live: VecDeque::new(),
            window: Duration::from_secs(60) + longest_phase,
        },
        cpu: CpuMeter { server_pid: o.server_pid.map(|p| p.to_string()), clk_tck: o.clk_tck },
        results: Vec::new(),
        mints: Vec::new(),
        log_prefix: "[load] ",
        o,
    };
    bench.log(format!("server ready at {}, JWKS keys: {algs:?}", bench.o.addr));

    // How busy the machine is with the server idle: other processes take
    // cores from both the server and the generator.
    let idle_before = bench.cpu.sample();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_after = bench.cpu.sample();
    let busy_before_run = match (idle_before.machine, idle_after.machine) {
        (Some(a), Some(b)) => (b.0 - a.0) / 2.0,
        _ => f64::NAN,
    };
    bench.log(format!("machine busy before the run (server idle): {busy_before_run:.2} cores"));
    if busy_before_run > 0.25 {
        bench.log(format!(
            "WARNING: other processes keep {busy_before_run:.2} cores busy: the server and the generator share what is left"
        ));
    }

    let t0 = Instant::now();
    let conns = bench.prep_conns().await?;
    let initial = bench.o.initial_users.max(bench.o.concurrency.iter().copied().max().unwrap_or(0));
    register(conns, &mut bench.users, initial).await?;
    bench.log(format!("registered {initial} bound users in {:.1} s", t0.elapsed().as_secs_f64()));

    let scenarios = bench.o.scenarios.clone();
    let concurrency = bench.o.concurrency.clone();
    for scenario in &scenarios {
        for &c in &concurrency {
            match scenario.as_str() {
                "login" => bench.login_scenario(c).await?,
                "refresh" => bench.refresh_scenario(c).await?,
                "jwks" => bench.jwks_scenario(c).await?,
                _ => unreachable!(),
            }
            if let Some(r) = bench.results.last() {
                bench.log(format!(
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

    print_table(&bench.results, &bench.mints);
    let clean = bench.results.iter().all(|r| r.error_count() == 0);
    let meta: serde_json::Map<String, Value> =
        bench.o.meta.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let report = json!({
        "ok": clean,
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
            "bound_users": bench.users.list.len(),
            "jwks_keys": algs,
        },
        "results": bench.results.iter().map(PhaseResult::json).collect::<Vec<_>>(),
        "mint": bench.mints.iter().map(PhaseResult::json).collect::<Vec<_>>(),
    });
    if let Some(path) = &bench.o.out {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        bench.log(format!("wrote {path}"));
    }
    Ok(clean)
}

fn main() -> ExitCode {
    let o = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(64);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run(o)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("[load] some timed phases had errors: the figures above are not clean");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("[load] failed: {e}");
            ExitCode::from(1)
        }
    }
}
