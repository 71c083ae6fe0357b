//! Crash safety of session rotation: the real `miniauth` binary under
//! refresh load is killed with SIGKILL, restarted on the same database, and
//! every session must go on from the last session_token its client had
//! been given.
//!
//! "Acknowledged" here means: the client read a complete 200 answer
//! carrying that session_token. A refresh in flight at the kill is one of:
//! * not committed: the old token is still the family's current one and
//!   refreshes normally after the restart;
//! * committed, answer lost: the old token was rotated moments before the
//!   kill, and the client (who never saw the new one) retries it. The server
//!   answers such a retry within the 10 s grace window with a fresh pair,
//!   even though the in-memory answer cache died with the process; after the
//!   window it would be treated as a replay. So the restart and the checks
//!   happen within a few seconds of the kill (this test asserts it), which
//!   is also what a client retrying after a crash does.
//!
//! The binary runs on the system clock (it is a separate process); load and
//! the kill use real time, bounded to a couple of seconds, on loopback only.
#![cfg(feature = "server")]

mod server;

use serde_json::{json, Value};
use server::{BinaryServer, Http, TempDir};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SESSIONS: usize = 20;
const LOAD: Duration = Duration::from_millis(1500);
const LIMITS: [&str; 4] = ["--rate-limit-ip", "1000000", "--rate-limit-account", "1000000"];

/// A new user's session on `http`: the tokens' JSON.
async fn new_session(http: &Http, openid: &str) -> Value {
    let code = http.post("/sim/wx/login", json!({ "openid": openid })).await;
    code.expect(200);
    let challenge =
        http.post("/v1/login/wechat", json!({ "code": code.json["code"] })).await.challenge("USER_REGISTER");
    http.post("/v1/register", json!({ "state_token": challenge.state_token })).await.success();
    http.transcript().last().map(|a| serde_json::from_str(&a.body).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_survive_sigkill_under_refresh_load() {
    let dir = TempDir::new("sigkill");
    let database = server::test_database(&dir).await;
    let log = dir.path().join("miniauth.log");
    let mut first = BinaryServer::start(&database, log.clone(), &LIMITS).await;
    let http = Http::new(first.base.clone());
    let kid_before = http.get("/.well-known/jwks.json").await.json["keys"][0]["kid"].clone();

    let mut tokens = Vec::new();
    for i in 0..SESSIONS {
        tokens.push(new_session(&http, &format!("o_kill_{i}")).await["session_token"].as_str().unwrap().to_string());
    }
    let acknowledged: Arc<Vec<Mutex<String>>> = Arc::new(tokens.into_iter().map(Mutex::new).collect());

    // Every session refreshes in a loop, keeping the last token it was
    // answered; the loop ends at the first failed request.
    let stop = Arc::new(AtomicBool::new(false));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let refusals: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
    let url = format!("{}/v1/session/refresh", first.base);
    let workers: Vec<_> = (0..SESSIONS)
        .map(|i| {
            let (client, url, acknowledged) = (client.clone(), url.clone(), acknowledged.clone());
            let (stop, refreshes, refusals) = (stop.clone(), refreshes.clone(), refusals.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let token = acknowledged[i].lock().unwrap().clone();
                    let Ok(response) = client.post(&url).json(&json!({ "session_token": token })).send().await else {
                        break;
                    };
                    let status = response.status().as_u16();
                    let Ok(body) = response.text().await else { break };
                    if status != 200 {
                        refusals.lock().unwrap().push(format!("{status} {body}"));
                        break;
                    }
                    let answer: Value = serde_json::from_str(&body).expect("a refresh answer");
                    *acknowledged[i].lock().unwrap() = answer["session_token"].as_str().unwrap().to_string();
                    refreshes.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    tokio::time::sleep(LOAD).await;
    let before_kill = refreshes.load(Ordering::SeqCst);
    first.sigkill();
    let killed_at = Instant::now();
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    assert!(refusals.lock().unwrap().is_empty(), "refused under load: {:?}", refusals.lock().unwrap());
    assert!(before_kill >= SESSIONS, "the load ran: {before_kill} refreshes");

    // Restart on the same database; every acknowledged token still refreshes.
    let second = BinaryServer::start(&database, log.clone(), &LIMITS).await;
    let http = Http::new(second.base.clone());
    let jwks = http.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.json["keys"][0]["kid"], kid_before, "the signing key survived");
    let last: Vec<String> = acknowledged.iter().map(|t| t.lock().unwrap().clone()).collect();
    // How many were rotated by a refresh whose answer the kill swallowed.
    let in_flight = {
        let pool = miniauth::server::db::open(&database).await.unwrap().read;
        let mut rotated = 0;
        for token in &last {
            let row: (Option<i64>,) = sqlx::query_as("SELECT rotated_at FROM session_tokens WHERE token_hash = $1")
                .bind(miniauth::server::secrets::token_hash(token))
                .fetch_one(&pool)
                .await
                .expect("every acknowledged token was committed before it was answered");
            rotated += usize::from(row.0.is_some());
        }
        pool.close().await;
        rotated
    };
    for (i, token) in last.iter().enumerate() {
        let answer = http.post("/v1/session/refresh", json!({ "session_token": token })).await;
        let renewed = answer.refreshed();
        let next = http.post("/v1/session/refresh", json!({ "session_token": renewed.session_token })).await;
        next.refreshed();
        let (_, claims) = server::verify_with_core(
            &renewed.id_token,
            &jwks.body,
            &second.base,
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
    eprintln!(
        "{before_kill} refreshes in {LOAD:?}; {in_flight} of {SESSIONS} sessions had a committed, unanswered refresh at the kill; \
         all {SESSIONS} went on {checked_after:?} after it"
    );

    // The binary's own log carries no session token.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("listening"));
    for token in &last {
        assert!(!log.contains(token.as_str()));
    }
}
