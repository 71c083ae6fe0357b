//! Attacks on the server, over HTTP: replayed WeChat codes and state
//! tokens, session token replay and races, forged id_tokens, and secrets
//! (`session_key`, AppSecret, access token, session tokens, one-time codes)
//! that must never appear in an answer or a log line.
#![cfg(feature = "server")]

mod server;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use miniauth::protocol::ApiErrorCode as Code;
use miniauth::protocol::Channel;
use serde_json::json;
use server::{concurrently, unverified_part, TestServer, UserSpec, PASSWORD, SIMULATOR_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_wechat_codes_are_refused() {
    let s = TestServer::start().await;
    let user = s.add_user(UserSpec::default()).await;
    s.bind_openid(&user, "o_victim", None).await;
    let code = s.wx_code("o_victim").await;
    s.login_code(&code).await.success();
    // An eavesdropper replaying the code gets nothing, now or later.
    s.login_code(&code).await.expect_error(400, Code::WechatCodeInvalid);
    s.advance(30);
    s.login_code(&code).await.expect_error(400, Code::WechatCodeInvalid);

    // Ten racing uses of one fresh code: exactly one session.
    let code = s.wx_code("o_victim").await;
    let answers = concurrently(10, || {
        let (s, code) = (s.http.clone(), code.clone());
        async move { s.post("/v1/login/wechat", json!({ "code": code })).await }
    })
    .await;
    let won = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(won, 1, "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
    assert!(answers.iter().filter(|a| a.status != 200).all(|a| a.error() == Code::WechatCodeInvalid.as_str()));

    // Phone codes too: a login, a bind.
    let phone = s.wx_phone_code("13800138000").await;
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.success();
    s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.expect_error(400, Code::WechatCodeInvalid);
    let challenge = s.challenge("o_attacker").await;
    let body = json!({ "state_token": challenge.state_token, "code": phone });
    s.http.post("/v1/bind/wechat-phone", body).await.expect_error(400, Code::WechatCodeInvalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_reused_state_tokens_are_refused() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_state").await;
    s.advance(600);
    s.register_with(&challenge.state_token, None).await.expect_error(400, Code::StateTokenExpired);
    // Expired stays expired; it never comes back to life.
    s.advance(3600);
    s.register_with(&challenge.state_token, None).await.expect_error(400, Code::StateTokenExpired);

    // Spent by the bind that succeeded: a replay binds nothing more.
    let challenge = s.challenge("o_state").await;
    let tokens = s.register_with(&challenge.state_token, None).await.success();
    for _ in 0..2 {
        s.register_with(&challenge.state_token, None).await.expect_error(400, Code::InvalidStateToken);
        s.bind_wechat_phone(&challenge.state_token, "13800138000").await.expect_error(400, Code::InvalidStateToken);
    }
    let user = s.verify(&tokens.id_token).await.1["sub"].clone();
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(count, 1, "one user: {user}");

    // Racing binds with one state token: exactly one wins.
    let challenge = s.challenge("o_race").await;
    let answers = concurrently(8, || {
        let (http, state) = (s.http.clone(), challenge.state_token.clone());
        async move { http.post("/v1/register", json!({ "state_token": state })).await }
    })
    .await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 1);
    for lost in answers.iter().filter(|a| a.status != 200) {
        assert!(
            [Code::InvalidStateToken.as_str(), Code::AlreadyBound.as_str()].contains(&lost.error()),
            "{} {}",
            lost.status,
            lost.body
        );
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(count, 2, "the race made one more user, not eight");
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_replay_within_the_grace_window_gets_the_same_pair() {
    let s = TestServer::start().await;
    let login = s.register("o_grace").await;
    let first = s.refresh(&login.session_token).await.refreshed();
    // The client lost the answer and retries within 10 s: the same pair
    // (RS256 signatures are deterministic, so the same id_token), with its
    // lifetime as left.
    s.advance(9);
    let retry = s.refresh(&login.session_token).await.refreshed();
    assert_eq!((&retry.id_token, &retry.session_token), (&first.id_token, &first.session_token));
    assert_eq!(retry.expires_in, first.expires_in - 9);
    s.advance(1);
    let last = s.refresh(&login.session_token).await.refreshed();
    assert_eq!(last.session_token, first.session_token, "10 s is still inside");
    assert_eq!(s.family_size(&first.session_token).await, 2, "no extra token was minted");
    // The new token works.
    let second = s.refresh(&first.session_token).await.refreshed();
    assert_ne!(second.session_token, first.session_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_replay_after_the_grace_window_revokes_the_family() {
    let s = TestServer::start().await;
    let login = s.register("o_replay").await;
    let first = s.refresh(&login.session_token).await.refreshed();
    let second = s.refresh(&first.session_token).await.refreshed();
    s.advance(11);
    // The stolen first token shows up after the grace window.
    s.refresh(&login.session_token).await.expect_error(401, Code::InvalidSession);
    // The whole family is revoked, the newest token included...
    s.refresh(&second.session_token).await.expect_error(401, Code::InvalidSession);
    s.refresh(&first.session_token).await.expect_error(401, Code::InvalidSession);
    // ...and stays so.
    s.advance(60);
    s.refresh(&second.session_token).await.expect_error(401, Code::InvalidSession);
    let (reason,): (String,) =
        sqlx::query_as("SELECT revoke_reason FROM session_families").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(reason, "replay");

    // Other sessions of the same user are untouched.
    let other = s.login("o_replay").await.success();
    s.refresh(&other.session_token).await.refreshed();

    // The middle token replayed after the grace window also revokes.
    let login = s.login("o_replay").await.success();
    let first = s.refresh(&login.session_token).await.refreshed();
    s.advance(5);
    let second = s.refresh(&first.session_token).await.refreshed();
    s.advance(11);
    s.refresh(&first.session_token).await.expect_error(401, Code::InvalidSession);
    s.refresh(&second.session_token).await.expect_error(401, Code::InvalidSession);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_of_one_token_have_one_winner() {
    let s = TestServer::start().await;
    let login = s.register("o_concurrent").await;
    let answers = concurrently(20, || {
        let (http, token) = (s.http.clone(), login.session_token.clone());
        async move { http.post("/v1/session/refresh", json!({ "session_token": token })).await }
    })
    .await;
    let winner = s.rotated_once(&login.session_token, &answers).await;
    // The winner's token goes on working; the family is not revoked.
    s.refresh(&winner.session_token).await.refreshed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_whole_family() {
    let s = TestServer::start().await;
    let login = s.register("o_family").await;
    let first = s.refresh(&login.session_token).await.refreshed();
    let second = s.refresh(&first.session_token).await.refreshed();
    // Logging out with an old token of the family ends all of it.
    s.logout(&login.session_token).await.expect(204);
    for token in [&login.session_token, &first.session_token, &second.session_token] {
        s.refresh(token).await.expect_error(401, Code::InvalidSession);
    }
    // Even within the grace window of the last rotation, no answer is
    // replayed from memory after the revocation.
    let login = s.login("o_family").await.success();
    let next = s.refresh(&login.session_token).await.refreshed();
    s.logout(&next.session_token).await.expect(204);
    s.refresh(&login.session_token).await.expect_error(401, Code::InvalidSession);
    s.refresh(&next.session_token).await.expect_error(401, Code::InvalidSession);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_id_tokens_are_refused() {
    let s = TestServer::start().await;
    let tokens = s.register("o_forge").await;
    let header = unverified_part(&tokens.id_token, 0);
    let claims = unverified_part(&tokens.id_token, 1);
    let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());

    // alg "none", with and without a signature.
    let none = json!({ "alg": "none", "typ": "JWT" });
    for forged in [format!("{}.{}.", b64(&none), b64(&claims)), format!("{}.{}", b64(&none), b64(&claims))] {
        s.userinfo(&forged).await.expect_error(401, Code::Unauthorized);
    }
    // HS256 with the RSA public key as the HMAC secret (key confusion).
    let jwks = s.jwks().await;
    let n = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["n"].as_str().unwrap()).unwrap();
    for secret in [n.as_slice(), jwks.to_string().as_bytes()] {
        let hs = jsonwebtoken::Header {
            kid: header["kid"].as_str().map(String::from),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        };
        let key = jsonwebtoken::EncodingKey::from_secret(secret);
        let forged = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.signer_factory;
        let signing_input = format!("{}.{}", b64(&serde_json::to_value(&hs).unwrap()), b64(&claims));
        let signer = forged(&jsonwebtoken::Algorithm::HS256, &key).unwrap();
        let signature = jsonwebtoken::signature::Signer::try_sign(&*signer, signing_input.as_bytes()).unwrap();
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        s.userinfo(&token).await.expect_error(401, Code::Unauthorized);
    }
    // Another kid, the right signature.
    let mut other_kid = header.clone();
    other_kid["kid"] = json!("not-a-kid");
    let parts: Vec<&str> = tokens.id_token.split('.').collect();
    s.userinfo(&format!("{}.{}.{}", b64(&other_kid), parts[1], parts[2])).await.expect_error(401, Code::Unauthorized);
    // The genuine token still works.
    s.userinfo(&tokens.id_token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_code_requests_send_one_code() {
    let s = TestServer::start().await;
    let state_token = s.challenge("racer").await.state_token;
    let answers = concurrently(10, || {
        let (http, state_token) = (s.http.clone(), state_token.clone());
        let body = json!({ "channel": "sms", "to": "13800138000", "state_token": state_token });
        async move { http.post("/v1/verify-codes", body).await }
    })
    .await;
    let sent = answers.iter().filter(|a| a.status == 202).count();
    let refused = answers.iter().filter(|a| a.error() == Code::VerifyCodeTooFrequent.as_str()).count();
    assert_eq!((sent, refused), (1, 9), "{:?}", answers.iter().map(|a| (a.status, &a.body)).collect::<Vec<_>>());
    let outbox = s.http.get("/sim/outbox?to=13800138000").await;
    assert_eq!(outbox.json.as_array().unwrap().len(), 1, "one message went out");
}

/// A whole life of sessions with every flow, against a WeChat that runs
/// apart (as in production) so that the `session_key`s it handed the server
/// are known, with every log line of the process captured: no answer and
/// no log line carries the `session_key`, the AppSecret, the access token,
/// a session token, a state token, a WeChat code or a one-time code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_answers_or_logs() {
    let logs = server::capture_logs();
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, value: &str| secrets.push((what.to_string(), value.to_string()));

    // ---- against an external WeChat (session keys, AppSecret, access token)
    let s = TestServer::start_external(|c| c.registration = miniauth::server::config::Registration::Closed).await;
    let user =
        s.add_user(UserSpec { phone: Some("+8613800138000".into()), ..UserSpec::with_password("secretive") }).await;
    let other = s.add_user(UserSpec { email: Some("mail@example.com".into()), ..UserSpec::default() }).await;

    let code = s.wx_code_with("o_secret", Some("u_secret")).await;
    keep("wx.login code", &code);
    let challenge = s.login_code(&code).await.challenge("SOCIAL_BIND");
    keep("state token", &challenge.state_token);
    let wrong = s.bind_password(&challenge.state_token, "secretive", "wrong-password-123").await;
    wrong.expect_error(401, Code::InvalidCredentials);
    keep("wrong password", "wrong-password-123");
    keep("password", PASSWORD);
    let bound = s.bind_password(&challenge.state_token, "secretive", PASSWORD).await.success();
    assert_eq!(s.verify(&bound.id_token).await.1["sub"], user.as_str());

    let code = s.wx_code("o_secret_mail").await;
    keep("wx.login code", &code);
    let challenge = s.login_code(&code).await.challenge("SOCIAL_BIND");
    keep("state token", &challenge.state_token);
    let otp = s.fetch_code(Channel::Email, "mail@example.com", &challenge.state_token).await;
    keep("one-time code", &otp);
    let mailed = s.bind_verify_code(&challenge.state_token, Channel::Email, "mail@example.com", &otp).await.success();
    assert_eq!(s.verify(&mailed.id_token).await.1["sub"], other.as_str());

    let phone = s.wx_phone_code("13800138000").await;
    keep("phone code", &phone);
    let by_phone = s.http.post("/v1/login/wechat-phone", json!({ "code": phone })).await.success();

    let code = s.wx_code_with("o_secret", Some("u_secret")).await;
    keep("wx.login code", &code);
    let again = s.login_code(&code).await.success();
    let refreshed = s.refresh(&again.session_token).await.refreshed();
    s.refresh(&again.session_token).await.refreshed();
    s.userinfo(&refreshed.id_token).await.expect(200);
    s.logout(&refreshed.session_token).await.expect(204);
    s.refresh(&refreshed.session_token).await.expect_error(401, Code::InvalidSession);
    for tokens in [&bound, &mailed, &by_phone, &again, &refreshed] {
        keep("session token", &tokens.session_token);
    }

    let wechat = s.wechat.as_ref().unwrap();
    let session_keys = wechat.session_keys();
    assert_eq!(session_keys.len(), 3, "three jscode2session exchanges");
    let access_tokens = wechat.access_tokens();
    assert_eq!(access_tokens.len(), 1);
    for key in &session_keys {
        keep("session_key", key);
    }
    keep("access token", &access_tokens[0]);
    keep("AppSecret", &wechat.secret);

    // ---- in simulator mode (its built-in AppSecret, SMS codes)
    let sim = TestServer::start().await;
    let code = sim.wx_code("o_sim_secret").await;
    keep("wx.login code", &code);
    let challenge = sim.login_code(&code).await.challenge("USER_REGISTER");
    keep("state token", &challenge.state_token);
    let sms = sim.fetch_code(Channel::Sms, "13900139000", &challenge.state_token).await;
    keep("one-time code", &sms);
    let wrong_sms = if sms == "999999" { "888888" } else { "999999" };
    sim.bind_verify_code(&challenge.state_token, Channel::Sms, "13900139000", wrong_sms)
        .await
        .expect_error(400, Code::InvalidVerifyCode);
    let tokens = sim.bind_verify_code(&challenge.state_token, Channel::Sms, "13900139000", &sms).await.success();
    let next = sim.refresh(&tokens.session_token).await.refreshed();
    keep("session token", &tokens.session_token);
    keep("session token", &next.session_token);
    keep("AppSecret", SIMULATOR_SECRET);

    // ---- nothing leaked
    let mut answers = s.http.transcript();
    answers.extend(sim.http.transcript());
    assert!(answers.len() > 20, "{}", answers.len());
    let log = logs.text();
    assert!(log.contains("miniauth server listening"), "the logs were captured");
    assert!(log.contains("/sns/jscode2session"), "WeChat calls were logged (without secrets)");
    for (what, secret) in &secrets {
        assert!(secret.len() >= 6, "{what}");
        assert!(!log.contains(secret.as_str()), "a {what} was logged");
        // A token appears only as the member that hands it out; the
        // simulator's /sim/ endpoints hand out codes by design.
        for answer in answers.iter().filter(|a| !a.path.starts_with("/sim/")) {
            assert!(!answer.scrubbed().contains(secret.as_str()), "a {what} is in an answer: {}", answer.whole());
        }
    }
    // The session_key, the AppSecret and the access token are nowhere, not
    // even in the /sim/ answers.
    for key in session_keys.iter().chain([&wechat.secret, &access_tokens[0], &SIMULATOR_SECRET.to_string()]) {
        assert!(answers.iter().all(|a| !a.whole().contains(key.as_str())), "{key}");
    }
    s.http.check_answers().await;
    sim.http.check_answers().await;
}
