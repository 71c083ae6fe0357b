//! Crash safety of session rotation: the real `miniauth` binary under
//! refresh load is killed with SIGKILL, and every session must go on from
//! the last session_token its client had been given: after a restart on
//! the same database, or at once on a second instance sharing it.
//!
//! "Acknowledged" here means: the client read a complete 200 answer
//! carrying that session_token. A refresh in flight at the kill is one of:
//! * not committed: the old token is still the family's current one and
//!   refreshes normally afterwards;
//! * committed, answer lost: the old token was rotated moments before the
//!   kill, and the client (who never saw the new one) retries it. Within
//!   the 10 s grace window any instance answers that retry with the same
//!   pair (the successor is derived from the old token with a server secret
//!   kept in the database); after the window it would be a replay. So the
//!   checks happen within a few seconds of the kill (this test asserts it),
//!   which is also what a client retrying after a crash does.
//!
//! The binaries run on the system clock (they are separate processes);
//! load and the kill use real time, bounded to a couple of seconds, on
//! loopback only.
#![cfg(feature = "server")]

mod server;

use miniauth::server::db::Location;
use serde_json::{json, Value};
use server::{BinaryServer, Http, TempDir};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SESSIONS: usize = 20;
const LOAD: Duration = Duration::from_millis(1500);
/// One issuer for every instance, as behind one load balancer.
const ISSUER: &str = "http://miniauth.test";
const ARGS: [&str; 6] = ["--rate-limit-ip", "1000000", "--rate-limit-account", "1000000", "--issuer", ISSUER];

/// A new user's session on `http`: its session_token.
async fn new_session(http: &Http, openid: &str) -> String {
    let code = http.post("/sim/wx/login", json!({ "openid": openid })).await;
    code.expect(200);
    let challenge =
        http.post("/v1/login/wechat", json!({ "code": code.json["code"] })).await.challenge("USER_REGISTER");
    http.post("/v1/register", json!({ "state_token": challenge.state_token })).await.success().session_token
}

/// Sessions refreshing in a loop against a set of instances, each request
/// to the next instance still up, each session keeping the last token it
/// was answered. A request to an instance that was taken down is retried
/// (with the same token) on one still up, as a load balancer would; every
/// other failure ends that session's loop and is recorded.
struct RefreshLoad {
    acknowledged: Arc<Vec<Mutex<String>>>,
    up: Arc<Vec<AtomicBool>>,
    stop: Arc<AtomicBool>,
    refreshes: Arc<AtomicUsize>,
    retried: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl RefreshLoad {
    fn start(bases: &[String], tokens: Vec<String>) -> Self {
        let acknowledged: Arc<Vec<Mutex<String>>> = Arc::new(tokens.into_iter().map(Mutex::new).collect());
        let up: Arc<Vec<AtomicBool>> = Arc::new(bases.iter().map(|_| AtomicBool::new(true)).collect());
        let (stop, refreshes, retried): (Arc<AtomicBool>, Arc<AtomicUsize>, Arc<AtomicUsize>) = Default::default();
        let failures: Arc<Mutex<Vec<String>>> = Arc::default();
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
        let urls: Arc<Vec<String>> = Arc::new(bases.iter().map(|base| format!("{base}/v1/session/refresh")).collect());
        let workers = (0..acknowledged.len())
            .map(|session| {
                let (client, urls, acknowledged, up) = (client.clone(), urls.clone(), acknowledged.clone(), up.clone());
                let (stop, refreshes, retried, failures) =
                    (stop.clone(), refreshes.clone(), retried.clone(), failures.clone());
                tokio::spawn(async move {
                    for turn in session.. {
                        let Some(target) =
                            (0..urls.len()).map(|k| (turn + k) % urls.len()).find(|&t| up[t].load(Ordering::SeqCst))
                        else {
                            break;
                        };
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let token = acknowledged[session].lock().unwrap().clone();
                        let sent = client.post(&urls[target]).json(&json!({ "session_token": token })).send().await;
                        let answer = match sent {
                            Ok(response) => (response.status().as_u16(), response.text().await),
                            Err(error) => (0, Err(error)),
                        };
                        let body = match answer {
                            (200, Ok(body)) => body,
                            (_, Err(_)) if !up[target].load(Ordering::SeqCst) => {
                                retried.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                            (status, body) => {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("session {session} on {target}: {status} {body:?}"));
                                break;
                            }
                        };
                        let answer: Value = serde_json::from_str(&body).expect("a refresh answer");
                        *acknowledged[session].lock().unwrap() = answer["session_token"].as_str().unwrap().to_string();
                        refreshes.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        Self { acknowledged, up, stop, refreshes, retried, failures, workers }
    }

    /// Marks instance `index` down (so no new request goes there), then
    /// SIGKILLs it.
    fn kill(&self, index: usize, instance: &mut BinaryServer) {
        self.up[index].store(false, Ordering::SeqCst);
        instance.sigkill();
    }

    /// Stops the loops; the last acknowledged token of every session.
    async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.unwrap();
        }
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "failed under load: {failures:?}");
        self.acknowledged.iter().map(|token| token.lock().unwrap().clone()).collect()
    }
}

/// How many of `tokens` were rotated by a refresh whose answer the kill
/// swallowed; panics if one was never committed.
async fn rotated_unanswered(database: &Location, tokens: &[String]) -> usize {
    let pool = miniauth::server::db::open(database).await.unwrap().read;
    let mut rotated = 0;
    for token in tokens {
        let row: (Option<i64>,) = sqlx::query_as("SELECT rotated_at FROM session_tokens WHERE token_hash = $1")
            .bind(miniauth::server::secrets::token_hash(token))
            .fetch_one(&pool)
            .await
            .expect("every acknowledged token was committed before it was answered");
        rotated += usize::from(row.0.is_some());
    }
    pool.close().await;
    rotated
}

/// Every session goes on at `survivor` from its last acknowledged token,
/// within the grace window after `killed_at`.
async fn sessions_go_on(survivor: &BinaryServer, last: &[String], killed_at: Instant) {
    let http = Http::new(survivor.base.clone());
    let jwks = http.get("/.well-known/jwks.json").await;
    for (i, token) in last.iter().enumerate() {
        let renewed = http.post("/v1/session/refresh", json!({ "session_token": token })).await.refreshed();
        http.post("/v1/session/refresh", json!({ "session_token": renewed.session_token })).await.refreshed();
        let (_, claims) = server::verify_with_core(
            &renewed.id_token,
            &jwks.body,
            ISSUER,
            miniauth::server::SIMULATOR_APPID,
            miniauth::server::clock::Clock::now(&miniauth::server::clock::SystemClock),
        )
        .unwrap_or_else(|e| panic!("session {i}: {e}"));
        assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));
    }
    let checked_after = killed_at.elapsed();
    assert!(
        checked_after < Duration::from_secs(10),
        "checked {checked_after:?} after the kill: inside the grace window"
    );
}

/// The binaries' log carries no session token.
fn log_keeps_tokens_out(log: &std::path::Path, tokens: &[String]) {
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("listening"));
    for token in tokens {
        assert!(!log.contains(token.as_str()));
    }
}

async fn sessions(http: &Http, label: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..SESSIONS {
        tokens.push(new_session(http, &format!("o_{label}_{i}")).await);
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_survive_sigkill_under_refresh_load() {
    let dir = TempDir::new("sigkill");
    let database = server::test_database(&dir).await;
    let log = dir.path().join("miniauth.log");
    let mut first = BinaryServer::start(&database, log.clone(), &ARGS).await;
    let http = Http::new(first.base.clone());
    let kid_before = http.get("/.well-known/jwks.json").await.json["keys"][0]["kid"].clone();

    let load = RefreshLoad::start(std::slice::from_ref(&first.base), sessions(&http, "kill").await);
    tokio::time::sleep(LOAD).await;
    load.kill(0, &mut first);
    let killed_at = Instant::now();
    let refreshes = load.refreshes.clone();
    let last = load.finish().await;
    let before_kill = refreshes.load(Ordering::SeqCst);
    assert!(before_kill >= SESSIONS, "the load ran: {before_kill} refreshes");

    // Restart on the same database; every acknowledged token still refreshes.
    let second = BinaryServer::start(&database, log.clone(), &ARGS).await;
    let jwks = Http::new(second.base.clone()).get("/.well-known/jwks.json").await;
    assert_eq!(jwks.json["keys"][0]["kid"], kid_before, "the signing key survived");
    let in_flight = rotated_unanswered(&database, &last).await;
    sessions_go_on(&second, &last, killed_at).await;
    eprintln!(
        "{before_kill} refreshes in {LOAD:?}; {in_flight} of {SESSIONS} sessions had a committed, unanswered refresh at \
         the kill; all went on {:?} after it",
        killed_at.elapsed()
    );
    log_keeps_tokens_out(&log, &last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_go_on_at_the_other_instance_when_one_is_killed_under_refresh_load() {
    let dir = TempDir::new("sigkill-two");
    let database = server::test_database(&dir).await;
    let log = dir.path().join("miniauth.log");
    let mut a = BinaryServer::start(&database, log.clone(), &ARGS).await;
    let b = BinaryServer::start(&database, log.clone(), &ARGS).await;

    let tokens = sessions(&Http::new(a.base.clone()), "kill_two").await;
    let load = RefreshLoad::start(&[a.base.clone(), b.base.clone()], tokens);
    tokio::time::sleep(LOAD).await;
    let before_kill = load.refreshes.load(Ordering::SeqCst);
    load.kill(0, &mut a);
    let killed_at = Instant::now();
    // The load goes on at B alone, the answers A swallowed retried there.
    tokio::time::sleep(LOAD / 3).await;
    let (refreshes, retried) = (load.refreshes.clone(), load.retried.clone());
    let last = load.finish().await;
    let after_kill = refreshes.load(Ordering::SeqCst) - before_kill;
    assert!(before_kill >= SESSIONS, "the load ran on both: {before_kill} refreshes");
    assert!(after_kill >= SESSIONS, "and went on at B: {after_kill} refreshes");

    sessions_go_on(&b, &last, killed_at).await;
    eprintln!(
        "{before_kill} refreshes on A and B, A killed with {} requests in flight (retried at B), then {after_kill} on B; \
         all {SESSIONS} sessions went on",
        retried.load(Ordering::SeqCst)
    );
    log_keeps_tokens_out(&log, &last);
}
