//! Operations: `/healthz`, `/readyz`, the Prometheus metrics on their own
//! listener (`--metrics-listen`), and JSON logs (`--log-format json`).
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::{ApiErrorCode, Channel};
use miniauth::server::clock::Clock;
use miniauth::server::keys::{self, SigningAlgorithm};
use serde_json::{json, Value};
use server::{free_port, Http, TempDir, TestServer};
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A server whose metrics are served on an ephemeral loopback port.
async fn with_metrics() -> TestServer {
    TestServer::start_with(|config| config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)))).await
}

/// The text `/metrics` serves on the server's metrics listener.
async fn scrape(s: &TestServer) -> String {
    let addr = s.metrics_addr.expect("started with metrics_listen");
    let answer = Http::new(format!("http://{addr}")).get("/metrics").await;
    answer.expect(200);
    assert!(answer.content_type().starts_with("text/plain; version=0.0.4"), "{}", answer.content_type());
    answer.body
}

/// The value of the sample `name` whose labels are exactly `labels`
/// (in any order), or `None` if there is no such sample.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    wanted.sort();
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, mut found) = match series.split_once('{') {
            Some((series_name, rest)) => {
                let found: Vec<String> = rest.strip_suffix('}')?.split(',').map(String::from).collect();
                (series_name, found)
            }
            None => (series, Vec::new()),
        };
        found.sort();
        (series_name == name && found == wanted).then(|| value.parse().ok()).flatten()
    })
}

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
    sqlx::query("UPDATE signing_keys SET private_der = $1 WHERE retired_at IS NULL")
        .bind(vec![0x30u8, 0x00])
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_served_on_the_public_listener() {
    let s = TestServer::start().await;
    assert_eq!(s.metrics_addr, None, "no metrics listener without metrics_listen");
    s.http.get("/metrics").await.expect_error(404, ApiErrorCode::NotFound);

    let s = with_metrics().await;
    s.http.get("/metrics").await.expect_error(404, ApiErrorCode::NotFound);
    let metrics = Http::new(format!("http://{}", s.metrics_addr.unwrap()));
    // The metrics listener serves nothing else.
    metrics.get("/healthz").await.expect_error(404, ApiErrorCode::NotFound);
    metrics.get("/metrics").await.expect(200);
    assert_ne!(s.metrics_addr, Some(s.addr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_refreshes_codes_and_wechat_errors() {
    let s = with_metrics().await;
    let tokens = s.register("o_metrics").await;
    s.refresh(&tokens.session_token).await.refreshed();
    // Again within the grace window: the same pair.
    s.refresh(&tokens.session_token).await.refreshed();
    // Again after it: reuse, the family is revoked.
    s.advance(11);
    s.refresh(&tokens.session_token).await.expect_error(401, ApiErrorCode::InvalidSession);
    s.refresh("never-issued-session-token").await.expect_error(401, ApiErrorCode::InvalidSession);

    let challenge = s.challenge("o_metrics_code").await;
    s.send_code(Channel::Sms, "+8613800138000", &challenge.state_token).await.expect(202);
    s.wechat_busy(1).await;
    s.login("o_metrics_busy").await.expect_error(503, ApiErrorCode::WechatBusy);
    s.http.get("/no-such-path-4711").await.expect_error(404, ApiErrorCode::NotFound);

    let text = scrape(&s).await;
    let refresh = |status| [("method", "POST"), ("route", "/v1/session/refresh"), ("status", status)];
    assert_eq!(sample(&text, "miniauth_http_requests_total", &refresh("200")), Some(2.0), "{text}");
    assert_eq!(sample(&text, "miniauth_http_requests_total", &refresh("401")), Some(2.0), "{text}");
    let timed = [("method", "POST"), ("route", "/v1/session/refresh")];
    assert_eq!(sample(&text, "miniauth_http_request_duration_seconds_count", &timed), Some(4.0), "{text}");
    let register = [("method", "POST"), ("route", "/v1/register"), ("status", "200")];
    assert_eq!(sample(&text, "miniauth_http_requests_total", &register), Some(1.0), "{text}");
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(sample(&text, "miniauth_http_requests_total", &unmatched), Some(1.0), "{text}");
    assert!(!text.contains("no-such-path-4711"), "a raw path became a label: {text}");

    for (outcome, count) in [("rotated", 1.0), ("grace_replay", 1.0), ("reuse_detected", 1.0), ("refused", 1.0)] {
        let value = sample(&text, "miniauth_session_refreshes_total", &[("outcome", outcome)]);
        assert_eq!(value, Some(count), "{outcome}: {text}");
    }
    let sms_sent = [("channel", "sms"), ("outcome", "sent")];
    assert_eq!(sample(&text, "miniauth_codes_sent_total", &sms_sent), Some(1.0), "{text}");
    let busy = [("api", "/sns/jscode2session"), ("errcode", "-1")];
    assert_eq!(sample(&text, "miniauth_wechat_errors_total", &busy), Some(1.0), "{text}");

    // No secret reached a label.
    assert!(!text.contains(&tokens.session_token) && !text.contains(&challenge.state_token), "{text}");
    assert!(!text.contains(&s.outbox_code("+8613800138000").await), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_that_could_not_be_sent_is_counted_as_not_sent() {
    let s = TestServer::start_external(|config| {
        config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.code_webhook = Some(format!("http://127.0.0.1:{}/nobody-listens", free_port()));
    })
    .await;
    let challenge = s.challenge("o_not_sent").await;
    s.send_code(Channel::Email, "li@example.com", &challenge.state_token)
        .await
        .expect_error(502, ApiErrorCode::CodeDeliveryFailed);
    let text = scrape(&s).await;
    let not_sent = [("channel", "email"), ("outcome", "not_sent")];
    assert_eq!(sample(&text, "miniauth_codes_sent_total", &not_sent), Some(1.0), "{text}");
    assert_eq!(sample(&text, "miniauth_codes_sent_total", &[("channel", "email"), ("outcome", "sent")]), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_in_one_process_keep_separate_counts() {
    let (a, b) = tokio::join!(with_metrics(), with_metrics());
    let first = a.register("o_server_a").await;
    let second = a.refresh(&first.session_token).await.refreshed();
    a.refresh(&second.session_token).await.refreshed();
    let other = b.register("o_server_b").await;
    b.refresh(&other.session_token).await.refreshed();

    let rotated = [("outcome", "rotated")];
    let (text_a, text_b) = (scrape(&a).await, scrape(&b).await);
    assert_eq!(sample(&text_a, "miniauth_session_refreshes_total", &rotated), Some(2.0), "{text_a}");
    assert_eq!(sample(&text_b, "miniauth_session_refreshes_total", &rotated), Some(1.0), "{text_b}");
    let refreshed = [("method", "POST"), ("route", "/v1/session/refresh"), ("status", "200")];
    assert_eq!(sample(&text_a, "miniauth_http_requests_total", &refreshed), Some(2.0), "{text_a}");
    assert_eq!(sample(&text_b, "miniauth_http_requests_total", &refreshed), Some(1.0), "{text_b}");
    // Stopping one leaves the other's listener and counts alone.
    a.stop().await;
    b.refresh(&other.session_token).await.refreshed();
    assert_eq!(
        sample(&scrape(&b).await, "miniauth_session_refreshes_total", &[("outcome", "grace_replay")]),
        Some(1.0)
    );
}

/// `miniauth serve --log-format json`: every line it logs up to its
/// listening line (which is printed, not logged) is one JSON object with a
/// level and a message.
#[test]
fn the_binary_logs_json_lines() {
    let dir = TempDir::new("json-logs");
    let mut child = Command::new(env!("CARGO_BIN_EXE_miniauth"))
        .args(["serve", "--simulator", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--database")
        .arg(dir.database())
        // ES256: no RSA key to generate in a debug build.
        .args(["--signing-alg", "ES256"])
        .env("MINIAUTH_LOG", "info")
        .env_remove("MINIAUTH_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the miniauth binary starts");
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut logged = Vec::new();
    loop {
        match lines_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.starts_with("miniauth listening on ") => break,
            Ok(line) => logged.push(line),
            Err(_) => {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!("no listening line; stdout {logged:?}, stderr {}", String::from_utf8_lossy(&output.stderr));
            }
        }
    }
    child.kill().expect("SIGKILL");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim().is_empty(), "nothing is logged to stderr: {stderr}");

    let events: Vec<Value> = logged
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for event in &events {
        assert!(event["level"].is_string(), "no level: {event}");
        assert!(event["message"].is_string(), "no message: {event}");
        assert!(event["timestamp"].is_string(), "no timestamp: {event}");
    }
    let listening =
        events.iter().find(|e| e["message"] == "miniauth server listening").unwrap_or_else(|| panic!("{logged:?}"));
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["simulated"], true, "the event's fields sit beside the message: {listening}");
    assert!(events.iter().any(|e| e["level"] == "WARN"), "the simulator warning: {logged:?}");
}
