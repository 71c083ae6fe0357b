//! Every error the API can answer, over HTTP, with its status and its
//! `{"error", "message"}` body: malformed requests, WeChat's failures (from
//! the simulator), state tokens, one-time codes, bindings, sessions, bearer
//! tokens and rate limits. No request may yield a 500.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::ApiErrorCode as Code;
use miniauth::protocol::Channel;
use miniauth::server::config::Registration;
use serde_json::{json, Value};
use server::{TestServer, UserSpec, PASSWORD};

/// Every JSON endpoint with a body that would be valid in shape.
fn post_endpoints() -> Vec<(&'static str, Value)> {
    vec![
        ("/v1/login/wechat", json!({ "code": "c" })),
        ("/v1/login/wechat-phone", json!({ "code": "c" })),
        ("/v1/verify-codes", json!({ "channel": "sms", "to": "13800138000", "state_token": "s" })),
        ("/v1/bind/wechat-phone", json!({ "state_token": "s", "code": "c" })),
        (
            "/v1/bind/verify-code",
            json!({ "state_token": "s", "channel": "sms", "to": "13800138000", "code": "123456" }),
        ),
        ("/v1/bind/password", json!({ "state_token": "s", "username": "u", "password": "p" })),
        ("/v1/register", json!({ "state_token": "s" })),
        ("/v1/session/refresh", json!({ "session_token": "t" })),
        ("/v1/logout", json!({ "session_token": "t" })),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_invalid_request() {
    let s = TestServer::start().await;
    let json = Some("application/json");
    for (path, valid) in post_endpoints() {
        let first_field = valid.as_object().unwrap().keys().next().unwrap().clone();
        let mut wrong_type = valid.clone();
        wrong_type[&first_field] = json!(12);
        let mut unknown_field = valid.clone();
        unknown_field["surprise"] = json!(true);
        let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
            ("malformed JSON", json, b"{\"code\":".to_vec()),
            ("not an object", json, b"[1, 2]".to_vec()),
            // serde reads a struct from an array of its fields in order.
            (
                "the fields as an array",
                json,
                Value::Array(valid.as_object().unwrap().values().cloned().collect()).to_string().into_bytes(),
            ),
            ("a string", json, b"\"x\"".to_vec()),
            ("empty body", json, Vec::new()),
            ("missing fields", json, b"{}".to_vec()),
            ("wrong type", json, wrong_type.to_string().into_bytes()),
            ("unknown field", json, unknown_field.to_string().into_bytes()),
            ("null", json, b"null".to_vec()),
            ("trailing garbage", json, format!("{valid} x").into_bytes()),
            ("not UTF-8", json, b"{\"code\":\"\xff\xfe\"}".to_vec()),
        ];
        for (what, content_type, body) in cases {
            let answer = s.http.post_raw(path, content_type, body).await;
            assert_eq!(
                (answer.status, answer.error()),
                (400, Code::InvalidRequest.as_str()),
                "{path}, {what}: {}",
                answer.body
            );
            answer.expect_error(400, Code::InvalidRequest);
            let message = answer.json["message"].as_str().unwrap();
            assert!(
                !message.contains("struct") && !message.contains("Request"),
                "{path}, {what}: names a Rust type: {message}"
            );
        }
        // A body that is not sent as JSON is 415, whatever it holds.
        for (what, content_type, body) in [
            ("no content type", None, valid.to_string().into_bytes()),
            ("text/plain", Some("text/plain"), valid.to_string().into_bytes()),
            ("form", Some("application/x-www-form-urlencoded"), b"code=c".to_vec()),
        ] {
            let answer = s.http.post_raw(path, content_type, body).await;
            assert_eq!(answer.error(), Code::UnsupportedMediaType.as_str(), "{path}, {what}: {}", answer.body);
            answer.expect_error(415, Code::UnsupportedMediaType);
        }
        // A JSON content type with parameters is still JSON.
        let answer = s.http.post_raw(path, Some("application/json; charset=utf-8"), valid.to_string()).await;
        assert_ne!(answer.error(), Code::InvalidRequest.as_str(), "{path}: {}", answer.body);
    }
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_payload_too_large() {
    let s = TestServer::start().await;
    let padding = "x".repeat(16 * 1024);
    for (path, mut body) in post_endpoints() {
        let first_field = body.as_object().unwrap().keys().next().unwrap().clone();
        body[&first_field] = json!(padding);
        s.http.post(path, body).await.expect_error(413, Code::PayloadTooLarge);
    }
    // Just under the limit is read (and refused for what it says).
    let body = json!({ "code": "x".repeat(16 * 1024 - 20) });
    assert!(body.to_string().len() <= 16 * 1024);
    s.http.post("/v1/login/wechat", body).await.expect_error(400, Code::InvalidRequest);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods() {
    let s = TestServer::start().await;
    for path in ["/", "/v1", "/v1/nope", "/v2/login/wechat", "/.well-known/nope", "/v1/login/wechat/extra"] {
        s.http.get(path).await.expect_error(404, Code::NotFound);
        s.http.post(path, json!({})).await.expect_error(404, Code::NotFound);
    }
    for (path, _) in post_endpoints() {
        s.http.get(path).await.expect_error(405, Code::MethodNotAllowed);
    }
    for path in ["/.well-known/jwks.json", "/.well-known/openid-configuration", "/openapi.json", "/healthz", "/readyz"]
    {
        s.http.post(path, json!({})).await.expect_error(405, Code::MethodNotAllowed);
        let delete = s.http.client.delete(s.http.url(path));
        s.http.send(delete).await.expect_error(405, Code::MethodNotAllowed);
    }
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_codes_and_tokens_are_invalid_request() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_malformed").await;
    let long = "c".repeat(257);
    for bad in ["", " ", "has space", "tab\tin", "ünïcode", "new\nline", long.as_str()] {
        for path in ["/v1/login/wechat", "/v1/login/wechat-phone"] {
            s.http.post(path, json!({ "code": bad })).await.expect_error(400, Code::InvalidRequest);
        }
        let body = json!({ "state_token": challenge.state_token, "code": bad });
        s.http.post("/v1/bind/wechat-phone", body).await.expect_error(400, Code::InvalidRequest);
    }
    let long_token = "t".repeat(129);
    for bad in ["", long_token.as_str()] {
        s.refresh(bad).await.expect_error(400, Code::InvalidRequest);
        s.logout(bad).await.expect_error(400, Code::InvalidRequest);
    }
    let long = "n".repeat(65);
    for name in [
        "",
        "   ",
        long.as_str(),
        "a\u{0}b",
        "two\nlines",
        "evil\u{202E}txt",
        "\u{2066}x",
        "line\u{2028}sep",
        "zero\u{200B}width",
    ] {
        s.register_with(&challenge.state_token, Some(name)).await.expect_error(400, Code::InvalidRequest);
    }
    let long = "p".repeat(1025);
    s.bind_password(&challenge.state_token, "u", &long).await.expect_error(400, Code::InvalidRequest);
    // The state token was not spent by any of this.
    s.register_with(&challenge.state_token, None).await.success();
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_refusals() {
    let s = TestServer::start().await;
    // Unknown, reused and expired login codes.
    s.login_code("never-issued-code").await.expect_error(400, Code::WechatCodeInvalid);
    let code = s.wx_code("o_wx").await;
    s.login_code(&code).await.challenge("USER_REGISTER");
    s.login_code(&code).await.expect_error(400, Code::WechatCodeInvalid);
    let code = s.wx_code("o_wx").await;
    s.advance(300);
    s.login_code(&code).await.expect_error(400, Code::WechatCodeInvalid);

    // Phone codes: unknown, reused, expired, and a login code is no phone code.
    s.http.post("/v1/login/wechat-phone", json!({ "code": "nope" })).await.expect_error(400, Code::WechatCodeInvalid);
    let phone = s.wx_phone_code("13800138000").await;
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.success();
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.expect_error(400, Code::WechatCodeInvalid);
    let phone = s.wx_phone_code("13800138000").await;
    s.advance(300);
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.expect_error(400, Code::WechatCodeInvalid);
    let login_code = s.wx_code("o_wx").await;
    let body = json!({ "code": login_code });
    s.http.post("/v1/login/wechat-phone", body).await.expect_error(400, Code::WechatCodeInvalid);
    let challenge = s.challenge("o_wx_bind").await;
    let body = json!({ "state_token": challenge.state_token, "code": "nope" });
    s.http.post("/v1/bind/wechat-phone", body).await.expect_error(400, Code::WechatCodeInvalid);

    // WeChat busy (-1): 503, and the code is not spent.
    let code = s.wx_code("o_busy").await;
    s.wechat_busy(1).await;
    s.login_code(&code).await.expect_error(503, Code::WechatBusy);
    s.login_code(&code).await.challenge("USER_REGISTER");
    let phone = s.wx_phone_code("13900139000").await;
    s.wechat_busy(1).await;
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.expect_error(503, Code::WechatBusy);

    // 45011: one user exchanging more than 10 codes a minute.
    for _ in 0..10 {
        s.login("o_eager").await.challenge("USER_REGISTER");
    }
    let answer = s.login("o_eager").await;
    answer.expect_error(429, Code::WechatRateLimited);
    assert_eq!(answer.retry_after(), Some(60));
    s.advance(60);
    s.login("o_eager").await.challenge("USER_REGISTER");
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_unreachable_or_refusing_our_credentials_is_wechat_unavailable() {
    // Nothing listens on WeChat's address.
    let s = TestServer::start_with(|c| {
        c.simulator = false;
        c.wechat_appid = Some("wx_nowhere".into());
        c.wechat_secret = Some("secret".into());
        c.wechat_api = format!("http://127.0.0.1:{}", server::free_port());
    })
    .await;
    s.login_code("some-code").await.expect_error(502, Code::WechatUnavailable);
    s.http.post("/v1/login/wechat-phone", json!({ "code": "c" })).await.expect_error(502, Code::WechatUnavailable);
    // Outside simulator mode there are no /sim/ endpoints.
    s.http.post("/sim/wx/login", json!({ "openid": "o" })).await.expect_error(404, Code::NotFound);
    s.http.get("/sim/outbox?to=13800138000").await.expect_error(404, Code::NotFound);

    // WeChat refuses the AppSecret (40125).
    let s = TestServer::start_external(|c| c.wechat_secret = Some("not-the-secret".into())).await;
    let code = s.wx_code("o_1").await;
    let answer = s.login_code(&code).await;
    answer.expect_error(502, Code::WechatUnavailable);
    assert!(!answer.body.contains("not-the-secret"));
    let phone = s.wx_phone_code("13800138000").await;
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.expect_error(502, Code::WechatUnavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_delivery_failures() {
    // Outside simulator mode without --code-webhook nothing can deliver.
    let s = TestServer::start_external(|c| c.code_webhook = None).await;
    let challenge = s.challenge("o_nowebhook").await;
    let answer = s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    answer.expect_error(502, Code::CodeDeliveryFailed);
    // Nothing went out, so a retry is not "too frequent" (and fails the same way).
    let retry = s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    retry.expect_error(502, Code::CodeDeliveryFailed);
    // A webhook that is down.
    let s = TestServer::start_external(|c| c.code_webhook = Some(format!("http://127.0.0.1:{}/", server::free_port())))
        .await;
    let challenge = s.challenge("o_down").await;
    s.send_code(Channel::Email, "a@example.com", &challenge.state_token)
        .await
        .expect_error(502, Code::CodeDeliveryFailed);
    // The webhook works.
    let s = TestServer::start_external(|_| {}).await;
    let challenge = s.challenge("o_webhook").await;
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await.success();
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_token_errors() {
    let s = TestServer::start().await;
    // Unknown state tokens, on every endpoint that takes one.
    let unknown = "unknown-state-token";
    s.bind_wechat_phone(unknown, "13800138000").await.expect_error(400, Code::InvalidStateToken);
    s.bind_verify_code(unknown, Channel::Sms, "13800138000", "123456").await.expect_error(400, Code::InvalidStateToken);
    s.bind_password(unknown, "u", "p").await.expect_error(400, Code::InvalidStateToken);
    s.register_with(unknown, None).await.expect_error(400, Code::InvalidStateToken);
    s.send_code(Channel::Sms, "13800138000", unknown).await.expect_error(400, Code::InvalidStateToken);

    // Expired: the state token lives 600 s.
    let challenge = s.challenge("o_slow").await;
    s.advance(599);
    let alive = s.challenge("o_slow_2").await;
    s.advance(1);
    let state = challenge.state_token.as_str();
    s.register_with(state, None).await.expect_error(400, Code::StateTokenExpired);
    s.bind_wechat_phone(state, "13800138000").await.expect_error(400, Code::StateTokenExpired);
    s.bind_verify_code(state, Channel::Sms, "13800138000", "123456").await.expect_error(400, Code::StateTokenExpired);
    s.send_code(Channel::Email, "a@example.com", state).await.expect_error(400, Code::StateTokenExpired);
    s.register_with(&alive.state_token, None).await.success();

    // Spent by a successful bind.
    s.register_with(&alive.state_token, None).await.expect_error(400, Code::InvalidStateToken);

    // A flow the challenge did not offer: password in USER_REGISTER...
    let challenge = s.challenge("o_wrong_flow").await;
    s.bind_password(&challenge.state_token, "u", "p").await.expect_error(403, Code::FlowNotAllowed);
    // ...and register in SOCIAL_BIND.
    let closed = TestServer::start_closed().await;
    let challenge = closed.challenge("o_wrong_flow").await;
    closed.register_with(&challenge.state_token, None).await.expect_error(403, Code::FlowNotAllowed);
    s.http.check_answers().await;
    closed.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_not_found_and_invalid_credentials() {
    let s = TestServer::start_closed().await;
    s.add_user(UserSpec::with_password("known")).await;
    // SOCIAL_BIND by a phone number, an address or a WeChat phone nobody has.
    let challenge = s.challenge("o_nobody").await;
    let code = s.fetch_code(Channel::Sms, "13700137000", &challenge.state_token).await;
    let answer = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13700137000", &code).await;
    answer.expect_error(404, Code::UserNotFound);
    s.advance(60); // one code a minute per bind
    let code = s.fetch_code(Channel::Email, "nobody@example.com", &challenge.state_token).await;
    let answer = s.bind_verify_code(&challenge.state_token, Channel::Email, "nobody@example.com", &code).await;
    answer.expect_error(404, Code::UserNotFound);
    s.bind_wechat_phone(&challenge.state_token, "13700137000").await.expect_error(404, Code::UserNotFound);
    // Phone login with registration closed.
    s.login_phone("13700137000").await.expect_error(404, Code::UserNotFound);

    // Wrong password, and a username nobody has: the same answer.
    let wrong = s.bind_password(&challenge.state_token, "known", "wrong password").await;
    wrong.expect_error(401, Code::InvalidCredentials);
    let unknown = s.bind_password(&challenge.state_token, "unknown", PASSWORD).await;
    unknown.expect_error(401, Code::InvalidCredentials);
    assert_eq!(wrong.json, unknown.json, "no username enumeration");
    // None of it spent the state token.
    s.bind_password(&challenge.state_token, "known", PASSWORD).await.success();
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_recipients() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_recipient").await;
    let state = challenge.state_token.as_str();
    for (channel, to) in [
        (Channel::Sms, "12345"),
        (Channel::Sms, "12800138000"),
        (Channel::Sms, "+86123"),
        (Channel::Sms, "phone"),
        (Channel::Email, "not-an-address"),
        (Channel::Email, "a@b"),
        (Channel::Email, "a b@example.com"),
        (Channel::Email, "13800138000"),
    ] {
        s.send_code(channel, to, state).await.expect_error(400, Code::InvalidRecipient);
        let answer = s.bind_verify_code(&challenge.state_token, channel, to, "123456").await;
        answer.expect_error(400, Code::InvalidRecipient);
    }
    // An empty or overlong `to` breaks the request type itself.
    for to in [String::new(), format!("{}@example.com", "a".repeat(250))] {
        s.send_code(Channel::Email, &to, state).await.expect_error(400, Code::InvalidRequest);
        let answer = s.bind_verify_code(&challenge.state_token, Channel::Email, &to, "123456").await;
        answer.expect_error(400, Code::InvalidRequest);
    }
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_code_errors() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_codes").await;
    let state = challenge.state_token.as_str();
    let to = "13800138000";

    // No code was ever sent.
    s.bind_verify_code(state, Channel::Sms, to, "123456").await.expect_error(400, Code::InvalidVerifyCode);

    // One code a minute per bind, to whatever recipient, however spelt.
    let code = s.fetch_code(Channel::Sms, to, state).await;
    let again = s.send_code(Channel::Sms, "+86 138 0013 8000", state).await;
    again.expect_error(429, Code::VerifyCodeTooFrequent);
    assert_eq!(again.retry_after(), Some(60));
    s.advance(45);
    assert_eq!(s.send_code(Channel::Email, "a@example.com", state).await.retry_after(), Some(15));

    // A wrong code, then the code expires after 5 minutes.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    s.bind_verify_code(state, Channel::Sms, to, wrong).await.expect_error(400, Code::InvalidVerifyCode);
    s.advance(300 - 45);
    s.bind_verify_code(state, Channel::Sms, to, &code).await.expect_error(400, Code::VerifyCodeExpired);

    // A new code replaces the old one.
    let old = s.fetch_code(Channel::Sms, to, state).await;
    s.advance(60);
    let new = s.fetch_code(Channel::Sms, to, state).await;
    if old != new {
        s.bind_verify_code(state, Channel::Sms, to, &old).await.expect_error(400, Code::InvalidVerifyCode);
    }
    // That was this bind's third code, its last.
    s.advance(60);
    let answer = s.send_code(Channel::Sms, to, state).await;
    answer.expect_error(429, Code::VerifyCodeLimitReached);

    // Five wrong tries kill the code: the fifth answers exhausted, and so
    // does the sixth, even with the right code.
    let challenge = s.challenge("o_codes_2").await;
    let state = challenge.state_token.as_str();
    let code = s.fetch_code(Channel::Email, "codes@example.com", state).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for attempt in 1..=4 {
        let answer = s.bind_verify_code(state, Channel::Email, "codes@example.com", wrong).await;
        assert_eq!(answer.error(), Code::InvalidVerifyCode.as_str(), "attempt {attempt}");
    }
    s.bind_verify_code(state, Channel::Email, "codes@example.com", wrong)
        .await
        .expect_error(400, Code::VerifyCodeExhausted);
    // (five failures make this WeChat user wait 2 s before the next try)
    s.advance(2);
    s.bind_verify_code(state, Channel::Email, "codes@example.com", &code)
        .await
        .expect_error(400, Code::VerifyCodeExhausted);
    // A new code (a minute later) works again.
    s.advance(60);
    let code = s.fetch_code(Channel::Email, "codes@example.com", state).await;
    s.bind_verify_code(state, Channel::Email, "codes@example.com", &code).await.success();

    // A code belongs to the bind that asked for it: another bind cannot
    // spend it, used or not.
    let other = s.challenge("o_codes_3").await;
    s.bind_verify_code(&other.state_token, Channel::Email, "codes@example.com", &code)
        .await
        .expect_error(400, Code::InvalidVerifyCode);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn already_bound() {
    let s = TestServer::start().await;
    // A user bound to one openid cannot take a second one of the same app.
    let user = s
        .add_user(UserSpec {
            phone: Some("+8613800138000".into()),
            email: Some("b@example.com".into()),
            ..UserSpec::default()
        })
        .await;
    s.bind_openid(&user, "o_first", None).await;
    let challenge = s.challenge("o_second").await;
    s.bind_wechat_phone(&challenge.state_token, "13800138000").await.expect_error(409, Code::AlreadyBound);
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    let answer = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await;
    answer.expect_error(409, Code::AlreadyBound);
    s.advance(60); // one code a minute per bind
    let code = s.fetch_code(Channel::Email, "b@example.com", &challenge.state_token).await;
    let answer = s.bind_verify_code(&challenge.state_token, Channel::Email, "b@example.com", &code).await;
    answer.expect_error(409, Code::AlreadyBound);

    // Two state tokens for one identity: the first bind wins, the second
    // finds the identity bound (and creates no user).
    let first = s.challenge("o_twice").await;
    let second = s.challenge("o_twice").await;
    s.register_with(&first.state_token, None).await.success();
    s.register_with(&second.state_token, Some("dup")).await.expect_error(409, Code::AlreadyBound);
    let (users,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE name = 'dup'").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(users, 0, "the failed bind rolled back the new user");

    // SOCIAL_BIND by password to a user bound elsewhere.
    let closed = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    let user = closed.add_user(UserSpec::with_password("taken")).await;
    closed.bind_openid(&user, "o_owner", None).await;
    let challenge = closed.challenge("o_intruder").await;
    closed.bind_password(&challenge.state_token, "taken", PASSWORD).await.expect_error(409, Code::AlreadyBound);
    s.http.check_answers().await;
    closed.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_sessions() {
    let s = TestServer::start_with(|c| {
        c.session_idle_ttl = 600;
        c.session_absolute_ttl = 3600;
    })
    .await;
    // Unknown.
    s.refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.expect_error(401, Code::InvalidSession);
    // Idle too long.
    let idle = s.register("o_idle").await;
    s.advance(600);
    s.refresh(&idle.session_token).await.expect_error(401, Code::InvalidSession);
    // Past the absolute lifetime, however often refreshed.
    let busy = s.register("o_busy").await;
    let mut token = busy.session_token;
    for _ in 0..6 {
        s.advance(599);
        token = s.refresh(&token).await.refreshed().session_token;
    }
    s.advance(3600 - 6 * 599);
    s.refresh(&token).await.expect_error(401, Code::InvalidSession);
    // Revoked by logout.
    let out = s.register("o_out").await;
    s.logout(&out.session_token).await.expect(204);
    s.refresh(&out.session_token).await.expect_error(401, Code::InvalidSession);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_update_errors() {
    let s = TestServer::start().await;
    let tokens = s.register("o_patch").await;
    let patch = |fields: Value| s.update_profile(&tokens.id_token, fields);
    let unauthenticated = s.http.client.patch(s.http.url("/v1/userinfo")).json(&json!({ "nickname": "x" }));
    s.http.send(unauthenticated).await.expect_error(401, Code::Unauthorized);
    s.update_profile(&format!("{}x", tokens.id_token), json!({ "nickname": "x" }))
        .await
        .expect_error(401, Code::Unauthorized);
    // Identifiers change only through a verified flow.
    for field in ["phone_number", "email", "preferred_username", "sub", "phone_number_verified", "email_verified"] {
        patch(json!({ field: "x" })).await.expect_error(400, Code::InvalidRequest);
    }
    for bad in [
        json!({ "nickname": "" }),
        json!({ "nickname": "a\u{0}b" }),
        json!({ "name": "evil\u{202e}txt" }),
        json!({ "name": "x".repeat(65) }),
        json!({ "nickname": 5 }),
        json!({ "picture": "http://cdn.example.com/a.png" }),
        json!({ "picture": "javascript:alert(1)" }),
        json!({ "birthdate": "1990-02-30" }),
        json!({ "locale": "not a locale" }),
        json!({ "gender": ["male"] }),
        json!("nickname"),
    ] {
        patch(bad.clone()).await.expect_error(400, Code::InvalidRequest);
    }
    let raw = s
        .http
        .client
        .patch(s.http.url("/v1/userinfo"))
        .bearer_auth(&tokens.id_token)
        .body("{\"nickname\":")
        .header("content-type", "application/json");
    s.http.send(raw).await.expect_error(400, Code::InvalidRequest);
    assert_eq!(s.userinfo(&tokens.id_token).await.json.get("nickname"), None, "nothing was written");
    // POST takes the update too (wx.request cannot send PATCH).
    let by_post =
        s.update_profile_by(reqwest::Method::POST, &tokens.id_token, json!({ "email": "x@example.com" })).await;
    by_post.expect_error(400, Code::InvalidRequest);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_outbox_without_a_recipient_is_a_json_error() {
    let s = TestServer::start().await;
    for path in ["/sim/outbox", "/sim/outbox?other=1"] {
        let answer = s.http.get(path).await;
        answer.expect_error(400, Code::InvalidRequest);
        assert_eq!(answer.content_type(), "application/json", "{path}");
    }
    s.http.get("/sim/outbox?to=13800138000").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_userinfo() {
    let s = TestServer::start().await;
    let tokens = s.register("o_bearer").await;
    s.http.get("/v1/userinfo").await.expect_error(401, Code::Unauthorized);
    let garbage = [
        "".to_string(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Basic dXNlcjpwYXNz".to_string(),
        format!("Token {}", tokens.id_token),
        tokens.id_token.clone(),
        "Bearer not.a.jwt".to_string(),
        "Bearer abc".to_string(),
        format!("Bearer {}x", tokens.id_token),
        format!("Bearer {}", tokens.session_token),
    ];
    for authorization in &garbage {
        s.http.get_authorized("/v1/userinfo", authorization).await.expect_error(401, Code::Unauthorized);
    }
    // A token with a changed payload, signature kept.
    let mut parts: Vec<String> = tokens.id_token.split('.').map(String::from).collect();
    let mut claims = server::unverified_part(&tokens.id_token, 1);
    claims["sub"] = json!("usr_someone_else");
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims.to_string());
    s.userinfo(&parts.join(".")).await.expect_error(401, Code::Unauthorized);
    // Another server's token (same signing key in these tests, another issuer).
    let other = TestServer::start().await;
    let foreign = other.register("o_bearer").await;
    s.userinfo(&foreign.id_token).await.expect_error(401, Code::Unauthorized);
    // Expired: valid for 900 s.
    s.advance(899);
    s.userinfo(&tokens.id_token).await.expect(200);
    s.advance(1);
    s.userinfo(&tokens.id_token).await.expect_error(401, Code::Unauthorized);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    // Per client address.
    let s = TestServer::start_with(|c| c.rate_limit_ip = 3).await;
    for _ in 0..3 {
        s.login("o_limited").await.challenge("USER_REGISTER");
    }
    let answer = s.login("o_limited").await;
    answer.expect_error(429, Code::RateLimited);
    assert_eq!(answer.retry_after(), Some(60));
    s.advance(20);
    assert_eq!(s.login("o_limited").await.retry_after(), Some(40));
    // Scopes are separate: refresh still works.
    let phone_limited = s.http.post("/v1/login/wechat-phone", json!({ "code": "c" })).await;
    phone_limited.expect_error(429, Code::RateLimited);
    s.advance(40);
    let tokens = s.register("o_limited").await;
    s.refresh(&tokens.session_token).await.refreshed();

    // Per account: one session family refreshed too often, however many
    // tokens its chain has; a retry within the grace window is not counted.
    let s = TestServer::start_with(|c| c.rate_limit_account = 2).await;
    let tokens = s.register("o_account").await;
    let first = s.refresh(&tokens.session_token).await.refreshed();
    assert_eq!(s.refresh(&tokens.session_token).await.refreshed(), first, "the grace answer");
    let second = s.refresh(&first.session_token).await.refreshed();
    let answer = s.refresh(&second.session_token).await;
    answer.expect_error(429, Code::RateLimited);
    assert!(answer.retry_after().is_some_and(|r| (1..=60).contains(&r)));
    // A WeChat user asking for codes: counted per minute whatever the
    // answer (here the second is also too soon for the bind).
    let challenge = s.challenge("o_account_2").await;
    s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await.expect(202);
    let answer = s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    answer.expect_error(429, Code::VerifyCodeTooFrequent);
    let answer = s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    answer.expect_error(429, Code::RateLimited);
    // (each account's window started when it was first counted)
    s.http.check_answers().await;
}
