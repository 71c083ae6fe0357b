//! Two instances of the server on one database behave as one server:
//! refresh rotation, reuse detection, one-time codes and state tokens hold
//! whichever instance a request reaches. Run on SQLite (one file, two
//! pools) and, under `scripts/with-postgres.sh`, on PostgreSQL, the
//! deployment this is for. (SIGKILL of one of two instances is in
//! `server_sigkill.rs`.)
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::ApiErrorCode as Code;
use miniauth::protocol::Channel;
use miniauth::server::db;
use miniauth::server::rotations::{self, NewToken, Rotations};
use serde_json::json;
use server::{concurrently, test_database, TempDir, TestServer, UserSpec};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The two instances, `a` first, alternately: request `i` goes to
/// `pair[i % 2]`.
fn alternate<'a>(pair: [&'a TestServer; 2], next: &AtomicUsize) -> &'a TestServer {
    pair[next.fetch_add(1, Ordering::SeqCst) % 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_across_two_instances_rotate_once() {
    let a = TestServer::start().await;
    let b = a.second_instance().await;
    let login = a.register("o_two_refresh").await;
    let next = AtomicUsize::new(0);
    let answers = concurrently(20, || {
        let (http, token) = (alternate([&a, &b], &next).http.clone(), login.session_token.clone());
        async move { http.post("/v1/session/refresh", json!({ "session_token": token })).await }
    })
    .await;
    // Both instances derive the one successor, and sign the id_token as of
    // the rotation: every caller has the same pair.
    let winner = a.rotated_once(&login.session_token, &answers).await;
    // Its id_token verifies against either instance's JWKS, and the child
    // goes on on both.
    assert_eq!(a.jwks().await, b.jwks().await);
    b.verify(&winner.id_token).await;
    let on_b = b.refresh(&winner.session_token).await.refreshed();
    a.refresh(&on_b.session_token).await.refreshed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_on_one_instance_after_the_grace_window_revokes_a_family_refreshed_on_the_other() {
    let a = TestServer::start().await;
    let b = a.second_instance().await;
    let login = a.register("o_two_replay").await;
    let first = a.refresh(&login.session_token).await.refreshed();
    // A retry within the grace window reaches B: the same pair.
    a.advance(5);
    let retry = b.refresh(&login.session_token).await.refreshed();
    assert_eq!(retry.session_token, first.session_token);
    let second = a.refresh(&first.session_token).await.refreshed();
    // The stolen first token shows up at B after the grace window.
    a.advance(11);
    b.refresh(&login.session_token).await.expect_error(401, Code::InvalidSession);
    // The family is revoked on both instances, its newest token included.
    a.refresh(&second.session_token).await.expect_error(401, Code::InvalidSession);
    b.refresh(&second.session_token).await.expect_error(401, Code::InvalidSession);
    let (reason,): (String,) =
        sqlx::query_as("SELECT revoke_reason FROM session_families").fetch_one(&b.app.db.write).await.unwrap();
    assert_eq!(reason, "replay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_dies_after_five_wrong_tries_spread_over_two_instances() {
    let a = TestServer::start_closed().await;
    let b = a.second_instance().await;
    let to = "two-instances@example.com";
    a.add_user(UserSpec { email: Some(to.into()), ..UserSpec::default() }).await;
    let challenge = a.challenge("o_two_codes").await;
    let state = challenge.state_token.as_str();
    // Sent through A (A's simulator outbox has it).
    let code = a.fetch_code(Channel::Email, to, state).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // One send per bind per 60 s, whichever instance is asked.
    b.send_code(Channel::Email, to, state).await.expect_error(429, Code::VerifyCodeTooFrequent);
    let next = AtomicUsize::new(0);
    for attempt in 1..=4 {
        let answer = alternate([&a, &b], &next).bind_verify_code(state, Channel::Email, to, wrong).await;
        assert_eq!(answer.error(), Code::InvalidVerifyCode.as_str(), "attempt {attempt}");
    }
    a.bind_verify_code(state, Channel::Email, to, wrong).await.expect_error(400, Code::VerifyCodeExhausted);
    // (five failures make this WeChat user wait 2 s before the next try)
    a.advance(2);
    b.bind_verify_code(state, Channel::Email, to, &code).await.expect_error(400, Code::VerifyCodeExhausted);
    a.bind_verify_code(state, Channel::Email, to, &code).await.expect_error(400, Code::VerifyCodeExhausted);
    // A fresh code, sent through B this time, is single use across both.
    a.advance(60);
    let code = b.fetch_code(Channel::Email, to, state).await;
    let user = b.bind_verify_code(state, Channel::Email, to, &code).await.success();
    a.bind_verify_code(state, Channel::Email, to, &code).await.expect_error(400, Code::InvalidStateToken);
    a.verify(&user.id_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_state_token_registers_once_across_two_instances() {
    let a = TestServer::start().await;
    let b = a.second_instance().await;
    let challenge = a.challenge("o_two_register").await;
    let next = AtomicUsize::new(0);
    let answers = concurrently(8, || {
        let (http, state) = (alternate([&a, &b], &next).http.clone(), challenge.state_token.clone());
        async move { http.post("/v1/register", json!({ "state_token": state })).await }
    })
    .await;
    let won = answers.iter().filter(|answer| answer.status == 200).count();
    assert_eq!(won, 1, "one registration: {:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
    for lost in answers.iter().filter(|answer| answer.status != 200) {
        lost.expect_error(400, Code::InvalidStateToken);
    }
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&a.app.db.write).await.unwrap();
    assert_eq!(users, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_instances_use_one_wechat_access_token_and_neither_retires_the_others() {
    let a = TestServer::start_external(|_| {}).await;
    let b = a.second_instance().await;
    let wechat = a.wechat.as_ref().unwrap();
    for (i, s) in [&a, &b, &a, &b].into_iter().enumerate() {
        s.login_phone(&format!("+86138001380{i:02}")).await.success();
        // Ten minutes on: with tokens that retire each other (WeChat's
        // /cgi-bin/token) the older one would be dead by now.
        a.advance(600);
    }
    let stats = wechat.sim.stats();
    assert_eq!(stats.stable_token_requests, 2, "each instance fetched the token once");
    assert_eq!((stats.token_requests, stats.live_access_tokens), (0, 1), "and it is one token");
    assert_eq!(stats.phone_requests, 4, "no call was refused");
}

/// A token named `name` of the family `fam`, the successor of `parent`.
fn token(name: &str, parent: Option<&str>, issued_at: i64) -> NewToken {
    NewToken {
        hash: name.as_bytes().to_vec(),
        family_id: "fam".into(),
        issued_at,
        idle_expires_at: issued_at + 1_000,
        parent_hash: parent.map(|p| p.as_bytes().to_vec()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_queues_of_two_instances_store_one_successor_per_token() {
    let dir = TempDir::new("rotations");
    let location = test_database(&dir).await;
    let (a, b) = (db::open(&location).await.unwrap(), db::open(&location).await.unwrap());
    for statement in [
        "INSERT INTO users (id, created_at) VALUES ('usr', 0)",
        "INSERT INTO session_families (id, user_id, amr, auth_time, created_at, expires_at) VALUES ('fam', 'usr', '[]', 0, 0, 9000)",
    ] {
        sqlx::query(statement).execute(&a.write).await.unwrap();
    }
    let roots = [token("a", None, 0), token("b", None, 0), token("c", None, 0)];
    let mut conn = a.write.acquire().await.unwrap();
    assert_eq!(rotations::insert(&mut conn, &roots.iter().collect::<Vec<_>>()).await.unwrap().len(), 3);
    let again = rotations::insert(&mut conn, &[&token("a", None, 0)]).await.unwrap();
    assert!(again.is_empty(), "a stored token is not stored twice");
    drop(conn);

    let (queue_a, queue_b) = (Rotations::start(a.write.clone()), Rotations::start(b.write.clone()));
    assert!(queue_a.rotate(token("c1", Some("c"), 5)).await.unwrap());
    // Submitted together, so that they share batches within and race
    // across the instances: a twice on each, b on both, c again with
    // another successor.
    let (a1, a2, a3, a4, b1, b2, c2) = tokio::join!(
        queue_a.rotate(token("a1", Some("a"), 10)),
        queue_a.rotate(token("a1", Some("a"), 10)),
        queue_b.rotate(token("a1", Some("a"), 10)),
        queue_b.rotate(token("a1", Some("a"), 10)),
        queue_a.rotate(token("b1", Some("b"), 20)),
        queue_b.rotate(token("b1", Some("b"), 20)),
        queue_b.rotate(token("c2", Some("c"), 30)),
    );
    let stored = |answers: &[Result<bool, String>]| answers.iter().filter(|a| *a.as_ref().unwrap()).count();
    assert_eq!(stored(&[a1, a2, a3, a4]), 1, "a rotated once");
    assert_eq!(stored(&[b1, b2]), 1, "b rotated once");
    assert!(!c2.unwrap(), "c already had a successor");
    // Each parent was marked rotated, by the trigger, when its successor went in.
    let rotated: Vec<(Vec<u8>, Option<i64>)> =
        sqlx::query_as("SELECT token_hash, rotated_at FROM session_tokens ORDER BY token_hash")
            .fetch_all(&a.read)
            .await
            .unwrap();
    let expected: Vec<(Vec<u8>, Option<i64>)> =
        [("a", Some(10)), ("a1", None), ("b", Some(20)), ("b1", None), ("c", Some(5)), ("c1", None)]
            .into_iter()
            .map(|(name, at)| (name.as_bytes().to_vec(), at))
            .collect();
    assert_eq!(rotated, expected, "a, b, c and one successor each");
    drop((queue_a, queue_b));
    a.close().await;
    b.close().await;
}
