//! Operations: `/healthz` and `/readyz`.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::ApiErrorCode;
use miniauth::server::clock::Clock;
use miniauth::server::keys::{self, SigningAlgorithm};
use serde_json::json;
use server::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_on_a_healthy_server() {
    let s = TestServer::start().await;
    let health = s.http.get("/healthz").await;
    health.expect(200);
    assert_eq!(health.json, json!({ "status": "ok" }));
    let ready = s.http.get("/readyz").await;
    ready.expect(200);
    assert_eq!(ready.json, json!({ "status": "ok" }));
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_when_the_database_does_not_answer() {
    let s = TestServer::start().await;
    s.http.get("/readyz").await.expect(200);
    s.app.db.read.close().await;
    let answer = s.http.get("/readyz").await;
    answer.expect_error(503, ApiErrorCode::NotReady);
    assert!(answer.json["message"].as_str().unwrap().contains("database"), "{}", answer.body);
    // The process is still up.
    s.http.get("/healthz").await.expect(200);
}

/// A corrupt private key loads (the DER is parsed only to sign), so the
/// server would start and then fail every login: readiness says so. The
/// key is corrupted in the database and picked up the way the reloader
/// does, with `keys::load`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_when_the_signing_key_cannot_sign() {
    let s = TestServer::start().await;
    s.http.get("/readyz").await.expect(200);
    sqlx::query("UPDATE signing_keys SET private_der = x'3000' WHERE retired_at IS NULL")
        .execute(&s.app.db.write)
        .await
        .unwrap();
    let ttl_ms = i64::from(s.config.id_token_ttl) * 1000;
    let corrupt = keys::load(&s.app.db.write, s.clock.now(), ttl_ms).await.expect("a corrupt key still loads");
    s.app.set_keys(corrupt);
    let answer = s.http.get("/readyz").await;
    answer.expect_error(503, ApiErrorCode::NotReady);
    assert!(answer.json["message"].as_str().unwrap().contains("signing key"), "{}", answer.body);
    // Not a false alarm: signing in fails too.
    let challenge = s.challenge("o_corrupt_key").await;
    s.register_with(&challenge.state_token, None).await.expect_error(500, ApiErrorCode::Internal);

    // A rotation to a sound key makes it ready again.
    keys::rotate(&s.app.db.write, SigningAlgorithm::Es256, s.clock.now()).await.unwrap();
    s.app.set_keys(keys::load(&s.app.db.write, s.clock.now(), ttl_ms).await.unwrap());
    s.http.get("/readyz").await.expect(200);
}
