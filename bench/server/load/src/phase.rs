//! A load phase: virtual users in a closed loop, each on its own
//! connection, sending the next request when the previous answer has
//! arrived, every answer checked, until the deadline or the request bound.

use crate::cpu::CpuMeter;
use crate::http::{json_body, Conn, Failure, JWKS_PATH};
use crate::stats::{micros, PhaseResult};
use bytes::Bytes;
use hyper::Method;
use miniauth::protocol::{CodeRequest, LoginResponse, Room, RoomSynced, SessionRequest, Text, Tokens};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Single-use codes shared by the virtual users of a login phase.
pub struct CodePool {
    codes: Vec<CodeRequest>,
    next: AtomicUsize,
    exhausted: AtomicBool,
}

impl CodePool {
    pub fn new(codes: Vec<CodeRequest>) -> Arc<Self> {
        Arc::new(CodePool { codes, next: AtomicUsize::new(0), exhausted: AtomicBool::new(false) })
    }

    /// Whether a virtual user asked for a code after the last was taken.
    pub fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }
}

/// What a virtual user sends.
pub enum Work {
    Login(Arc<CodePool>),
    /// The token to spend next; `alive` is false once the chain broke.
    Refresh {
        session: SessionRequest,
        alive: bool,
    },
    Jwks,
    /// `PUT` of the snapshot `body` to `path` with a bot key, each time a
    /// millisecond later than the last and with its last member renamed.
    RoomSync {
        path: String,
        body: Arc<RoomBody>,
        bot_key: Arc<str>,
        synced_at: u64,
    },
    /// `GET` of `path` (a room of `members` members) with a client secret.
    RoomRead {
        path: String,
        members: usize,
        secret: Arc<str>,
    },
}

/// A room snapshot serialised once but for what changes from one request to
/// the next: the JSON up to the value of its last member's `name`, which
/// each request ends with a number (the member renamed) and the `syncedAt`.
pub struct RoomBody(pub String);

impl RoomBody {
    /// The snapshot taken at `synced_at`, in which the last member's name ends with it.
    pub fn at(&self, synced_at: u64) -> String {
        format!("{}{synced_at}\"}}],\"syncedAt\":{synced_at}}}", self.0)
    }
}

/// One request of a virtual user.
struct Next<'a> {
    method: Method,
    path: &'a str,
    body: Option<Bytes>,
    bearer: Option<&'a str>,
}

impl Work {
    /// The next request, or `None` when this virtual user is done.
    fn next_request(&mut self) -> Option<Next<'_>> {
        let plain = |method, path, body| Some(Next { method, path, body, bearer: None });
        match self {
            Work::Login(pool) => {
                let Some(code) = pool.codes.get(pool.next.fetch_add(1, Ordering::Relaxed)) else {
                    pool.exhausted.store(true, Ordering::Relaxed);
                    return None;
                };
                plain(Method::POST, "/v1/login/wechat", Some(json_body(code)))
            }
            Work::Refresh { session, alive } => {
                if *alive {
                    plain(Method::POST, "/v1/session/refresh", Some(json_body(session)))
                } else {
                    None
                }
            }
            Work::Jwks => plain(Method::GET, JWKS_PATH, None),
            Work::RoomSync { path, body, bot_key, synced_at } => {
                *synced_at += 1;
                let body = Bytes::from(body.at(*synced_at));
                Some(Next { method: Method::PUT, path, body: Some(body), bearer: Some(bot_key) })
            }
            Work::RoomRead { path, secret, .. } => {
                Some(Next { method: Method::GET, path, body: None, bearer: Some(secret) })
            }
        }
    }

    /// Whether a 2xx body is the answer this request must get; a refresh
    /// takes the rotated token for its next request.
    fn accept(&mut self, body: &[u8]) -> bool {
        match self {
            Work::Login(_) => matches!(serde_json::from_slice(body), Ok(LoginResponse::Success(_))),
            Work::Refresh { session, .. } => match serde_json::from_slice::<Tokens>(body) {
                Ok(tokens) if *tokens.session_token != *session.session_token && !tokens.id_token.is_empty() => {
                    match Text::new(tokens.session_token) {
                        Some(next) => {
                            session.session_token = next;
                            true
                        }
                        None => false,
                    }
                }
                _ => false,
            },
            Work::Jwks => body.starts_with(b"{") && body.len() > 32,
            Work::RoomSync { .. } => matches!(serde_json::from_slice(body), Ok(RoomSynced { applied: true })),
            Work::RoomRead { members, .. } => {
                serde_json::from_slice::<Room>(body).is_ok_and(|room| room.member_ids.len() == *members)
            }
        }
    }
}

/// A virtual user: its connection and its work.
pub struct Vu {
    pub conn: Conn,
    pub work: Work,
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

/// One virtual user's loop: a request, its answer, the next request, until
/// the deadline (requests are only started before it).
async fn vu_loop(mut vu: Vu, start: Instant, deadline: Instant, budget: Arc<AtomicUsize>) -> (Vu, VuOutcome) {
    tokio::time::sleep_until(start.into()).await;
    let mut out = VuOutcome { latencies: Vec::with_capacity(16 * 1024), ..VuOutcome::default() };
    while Instant::now() < deadline {
        if budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1)).is_err() {
            break;
        }
        let Some(Next { method, path, body, bearer }) = vu.work.next_request() else {
            break;
        };
        let path = path.to_owned();
        let t0 = Instant::now();
        let answer = vu.conn.send(method, &path, body, bearer).await;
        out.latencies.push(micros(t0.elapsed()));
        // Ok, or the error's kind and a sample of it.
        let checked = match answer {
            Err(Failure::Timeout) => Err(("timeout".to_string(), format!("{path}: no answer within the timeout"))),
            Err(Failure::Transport(e)) => Err(("transport".to_string(), format!("{path}: {e}"))),
            Ok((status, bytes)) => {
                *out.statuses.entry(status.to_string()).or_default() += 1;
                let body = || String::from_utf8_lossy(&bytes).into_owned();
                if !(200..300).contains(&status) {
                    Err((status.to_string(), format!("{path} answered {status}: {}", body())))
                } else if vu.work.accept(&bytes) {
                    Ok(())
                } else {
                    Err(("bad_body".to_string(), format!("{path} answered {status} with {}", body())))
                }
            }
        };
        match checked {
            Ok(()) => {
                out.ok += 1;
                let second = usize::try_from(start.elapsed().as_secs()).unwrap_or(usize::MAX).min(3600);
                if out.per_second.len() <= second {
                    out.per_second.resize(second + 1, 0);
                }
                out.per_second[second] += 1;
            }
            Err((kind, detail)) => {
                *out.errors.entry(kind).or_default() += 1;
                out.last_error = Some(detail);
                if let Work::Refresh { alive, .. } = &mut vu.work {
                    // The chain is broken: this virtual user stops rather
                    // than log in again inside the timed phase.
                    *alive = false;
                    out.lost = true;
                }
            }
        }
    }
    (vu, out)
}

/// Runs the virtual users for `duration` (at most `max_requests` requests),
/// all starting together.
pub async fn run_phase(
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
