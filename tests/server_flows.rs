//! Every flow of the server API, end to end over HTTP against a real server
//! (simulator mode, temporary database, injected clock): code login, the
//! two bind challenges and every bind, phone login, refresh, logout,
//! userinfo, JWKS, discovery, the OpenAPI document, key rotation and
//! unionid linking. Each id_token is verified with the miniauth core and
//! with `jsonwebtoken`.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::{ApiErrorCode, BindFlow, Channel, Tokens};
use miniauth::server::clock::Clock;
use miniauth::server::config::Registration;
use miniauth::server::keys::{self, SigningAlgorithm};
use miniauth::server::users::{self, MiniProgramIdentity};
use serde_json::{json, Map, Value};
use server::{keys_of, unverified_part, verify_with_core, TestServer, UserSpec, PASSWORD};

const ID_TOKEN_TTL: u64 = 900;
const IDLE_TTL: u64 = 30 * 86_400;
const STATE_TTL: u64 = 600;

/// Verifies `tokens.id_token` both ways, checks the lifetimes and the
/// claims every id_token has, and returns the claims.
async fn check_tokens(s: &TestServer, tokens: &Tokens, amr: &[&str]) -> Map<String, Value> {
    assert_eq!(tokens.expires_in, ID_TOKEN_TTL);
    assert_eq!(tokens.session_token.len(), 43, "256 bits, base64url");
    assert!(tokens.session_expires_in > 0 && tokens.session_expires_in <= IDLE_TTL);
    let (kid, claims) = s.verify(&tokens.id_token).await;
    let independent = s.verify_jsonwebtoken(&tokens.id_token).await;
    assert_eq!(Value::Object(claims.clone()), independent, "both verifiers read the same claims");

    let header = unverified_part(&tokens.id_token, 0);
    assert_eq!(header, json!({ "alg": "RS256", "typ": "JWT", "kid": kid }));
    let jwks = s.jwks().await;
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()), "kid {kid} is in the JWKS");

    let now = s.now_secs();
    assert_eq!(claims["iss"], s.issuer().as_str());
    assert_eq!(claims["aud"], s.audience().as_str());
    assert!(claims["sub"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + ID_TOKEN_TTL as i64);
    assert!(claims["auth_time"].as_i64().unwrap() <= now);
    assert_eq!(claims["amr"], json!(amr));
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.starts_with("idt_") && jti.len() == 26, "a unique id per token: {jti}");
    claims
}

/// The user-describing claims, to compare with what a test expects.
fn profile(claims: &Map<String, Value>) -> Value {
    let names = [
        "name",
        "preferred_username",
        "phone_number",
        "phone_number_verified",
        "email",
        "email_verified",
        "nickname",
        "picture",
        "gender",
        "birthdate",
        "locale",
    ];
    Value::Object(names.iter().filter_map(|n| claims.get(*n).map(|v| (n.to_string(), v.clone()))).collect())
}

fn full_user(username: &str, phone: &str, email: &str) -> UserSpec {
    UserSpec {
        username: Some(username.into()),
        password: None,
        name: Some("Li Lei".into()),
        phone: Some(phone.into()),
        email: Some(email.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_login_of_a_bound_user() {
    let s = TestServer::start().await;
    let user = s.add_user(full_user("lilei", "+8613800138000", "li.lei@example.com")).await;
    s.bind_openid(&user, "o_lilei", None).await;

    let tokens = s.login("o_lilei").await.success();
    let claims = check_tokens(&s, &tokens, &["wechat"]).await;
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["auth_time"], s.now_secs());
    assert_eq!(
        profile(&claims),
        json!({
            "name": "Li Lei", "preferred_username": "lilei",
            "phone_number": "+8613800138000", "phone_number_verified": true,
            "email": "li.lei@example.com", "email_verified": true,
        })
    );
    assert_eq!(tokens.session_expires_in, IDLE_TTL);

    let info = s.userinfo(&tokens.id_token).await;
    info.expect(200);
    let mut expected = profile(&claims);
    expected["sub"] = json!(user);
    assert_eq!(info.json, expected, "userinfo answers the profile the id_token carries");

    // Every login is a new session.
    let again = s.login("o_lilei").await.success();
    assert_ne!(again.session_token, tokens.session_token);
    assert_eq!(s.family_size(&again.session_token).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_register_then_bind_by_sms_code() {
    let s = TestServer::start().await;
    let challenge = s.login("o_new").await.challenge("USER_REGISTER");
    assert_eq!(
        challenge.flows,
        [BindFlow::WechatPhone, BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, BindFlow::Register]
    );
    assert_eq!(challenge.expires_in, STATE_TTL);
    assert_eq!(challenge.state_token.len(), 43);

    // The code is sent (202) and shows up in the outbox; a mainland number
    // without +86 is the same recipient.
    let sent = s.send_code(Channel::Sms, "138 0013 9000", &challenge.state_token).await;
    sent.expect(202);
    assert_eq!(sent.json, json!({ "expires_in": 300, "resend_after": 60 }));
    let code = s.outbox_code("+8613800139000").await;
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));

    let tokens = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800139000", &code).await.success();
    let claims = check_tokens(&s, &tokens, &["wechat", "sms"]).await;
    assert_eq!(profile(&claims), json!({ "phone_number": "+8613800139000", "phone_number_verified": true }));

    // The identity is bound: the next code login is SUCCESS for the same user.
    let again = s.login("o_new").await.success();
    assert_eq!(s.verify(&again.id_token).await.1["sub"], claims["sub"]);
    // And the phone number now logs in the same user.
    let by_phone = s.login_phone("13800139000").await.success();
    assert_eq!(s.verify(&by_phone.id_token).await.1["sub"], claims["sub"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_register_binds_an_existing_user_by_email_code() {
    let s = TestServer::start().await;
    let user = s.add_user(UserSpec { email: Some("han.meimei@example.com".into()), ..UserSpec::default() }).await;
    let challenge = s.challenge("o_han").await;
    // Addresses are compared in lower case.
    let code = s.fetch_code(Channel::Email, "Han.Meimei@Example.com", &challenge.state_token).await;
    let tokens =
        s.bind_verify_code(&challenge.state_token, Channel::Email, "han.meimei@example.com", &code).await.success();
    let claims = check_tokens(&s, &tokens, &["wechat", "otp"]).await;
    assert_eq!(claims["sub"], user.as_str(), "bound to the user who owns the address, not a new one");
    assert_eq!(profile(&claims), json!({ "email": "han.meimei@example.com", "email_verified": true }));
    assert_eq!(s.login("o_han").await.success().session_expires_in, IDLE_TTL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_register_then_register() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_reg").await;
    let tokens = s.register_with(&challenge.state_token, Some("  Xiao Ming ")).await.success();
    let claims = check_tokens(&s, &tokens, &["wechat"]).await;
    assert_eq!(profile(&claims), json!({ "name": "Xiao Ming" }), "the name is trimmed");
    let info = s.userinfo(&tokens.id_token).await;
    assert_eq!(info.json, json!({ "sub": claims["sub"], "name": "Xiao Ming" }));

    // Without a name.
    let anonymous = s.register("o_anon").await;
    let claims = check_tokens(&s, &anonymous, &["wechat"]).await;
    assert_eq!(profile(&claims), json!({}));
    assert_eq!(s.userinfo(&anonymous.id_token).await.json, json!({ "sub": claims["sub"] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_update_then_refresh_carries_it() {
    let s = TestServer::start().await;
    let challenge = s.challenge("o_profile").await;
    let tokens = s.register_with(&challenge.state_token, Some("Xiao Ming")).await.success();
    let fields = json!({
        "nickname": "  小明 ",
        "picture": "https://cdn.example.com/avatars/xm.png",
        "gender": "male",
        "birthdate": "0000-02-29",
        "locale": "zh-CN",
    });
    let answer = s.update_profile(&tokens.id_token, fields).await;
    answer.expect(200);
    let sub = unverified_part(&tokens.id_token, 1)["sub"].clone();
    let expected = json!({
        "sub": sub,
        "name": "Xiao Ming",
        "nickname": "小明",
        "picture": "https://cdn.example.com/avatars/xm.png",
        "gender": "male",
        "birthdate": "0000-02-29",
        "locale": "zh-CN",
    });
    assert_eq!(answer.json, expected, "the answer is the updated profile, text trimmed");
    assert_eq!(s.userinfo(&tokens.id_token).await.json, expected);
    let old = check_tokens(&s, &tokens, &["wechat"]).await;
    assert_eq!(profile(&old), json!({ "name": "Xiao Ming" }), "a token issued before keeps its claims");

    let refreshed = s.refresh(&tokens.session_token).await.refreshed();
    let claims = check_tokens(&s, &refreshed, &["wechat"]).await;
    let mut carried = expected.clone();
    carried.as_object_mut().unwrap().remove("sub");
    assert_eq!(profile(&claims), carried, "the refreshed id_token carries the profile");

    // null clears a field, a field left out stays, {} changes nothing.
    let answer = s.update_profile(&refreshed.id_token, json!({ "nickname": null, "name": "Ming" })).await;
    assert_eq!(answer.json["nickname"], Value::Null);
    assert_eq!(answer.json["name"], json!("Ming"));
    assert_eq!(answer.json["locale"], json!("zh-CN"));
    let unchanged = s.update_profile(&refreshed.id_token, json!({})).await;
    assert_eq!(unchanged.json, answer.json);
    // POST does the same, for Mini Programs (wx.request has no PATCH).
    let by_post = s.update_profile_by(reqwest::Method::POST, &refreshed.id_token, json!({ "gender": "female" })).await;
    assert_eq!(by_post.json["gender"], json!("female"));
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_bind_then_bind_by_password() {
    let s = TestServer::start_closed().await;
    let user = s
        .add_user(UserSpec {
            password: Some(PASSWORD.into()),
            ..full_user("hanmeimei", "+8613700137000", "hmm@example.com")
        })
        .await;
    let challenge = s.login("o_hmm").await.challenge("SOCIAL_BIND");
    assert_eq!(
        challenge.flows,
        [BindFlow::WechatPhone, BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, BindFlow::Password]
    );
    assert_eq!(challenge.expires_in, STATE_TTL);

    let tokens = s.bind_password(&challenge.state_token, "hanmeimei", PASSWORD).await.success();
    let claims = check_tokens(&s, &tokens, &["wechat", "pwd"]).await;
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["preferred_username"], "hanmeimei");
    let again = s.login("o_hmm").await.success();
    assert_eq!(s.verify(&again.id_token).await.1["sub"], user.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_bind_by_sms_and_email_codes() {
    let s = TestServer::start_closed().await;
    let by_phone = s.add_user(UserSpec { phone: Some("+8613600136000".into()), ..UserSpec::default() }).await;
    let by_email = s.add_user(UserSpec { email: Some("wang@example.com".into()), ..UserSpec::default() }).await;

    let challenge = s.challenge("o_sms").await;
    let code = s.fetch_code(Channel::Sms, "+8613600136000", &challenge.state_token).await;
    let tokens = s.bind_verify_code(&challenge.state_token, Channel::Sms, "+86 136 0013 6000", &code).await.success();
    assert_eq!(check_tokens(&s, &tokens, &["wechat", "sms"]).await["sub"], by_phone.as_str());

    let challenge = s.challenge("o_mail").await;
    let code = s.fetch_code(Channel::Email, "wang@example.com", &challenge.state_token).await;
    let tokens = s.bind_verify_code(&challenge.state_token, Channel::Email, "wang@example.com", &code).await.success();
    assert_eq!(check_tokens(&s, &tokens, &["wechat", "otp"]).await["sub"], by_email.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_by_wechat_phone() {
    // USER_REGISTER, unknown number: a new user with that number.
    let s = TestServer::start().await;
    let challenge = s.challenge("o_phone_new").await;
    let tokens = s.bind_wechat_phone(&challenge.state_token, "13500135000").await.success();
    let claims = check_tokens(&s, &tokens, &["wechat", "wechat_phone"]).await;
    assert_eq!(profile(&claims), json!({ "phone_number": "+8613500135000", "phone_number_verified": true }));
    // A foreign number keeps its country code.
    let challenge = s.challenge("o_phone_uk").await;
    let tokens = s.bind_wechat_phone(&challenge.state_token, "+447911123456").await.success();
    assert_eq!(check_tokens(&s, &tokens, &["wechat", "wechat_phone"]).await["phone_number"], "+447911123456");

    // SOCIAL_BIND: the user who owns the number.
    let s = TestServer::start_closed().await;
    let user = s.add_user(UserSpec { phone: Some("+8613500135000".into()), ..UserSpec::default() }).await;
    let challenge = s.challenge("o_phone_existing").await;
    let tokens = s.bind_wechat_phone(&challenge.state_token, "+8613500135000").await.success();
    assert_eq!(check_tokens(&s, &tokens, &["wechat", "wechat_phone"]).await["sub"], user.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_login() {
    let s = TestServer::start().await;
    let user = s.add_user(full_user("zhang", "+8613400134000", "zhang@example.com")).await;
    let tokens = s.login_phone("13400134000").await.success();
    let claims = check_tokens(&s, &tokens, &["wechat_phone"]).await;
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["email"], "zhang@example.com");

    // Registration open: an unknown number makes a user, once.
    let first = s.login_phone("+8613300133000").await.success();
    let second = s.login_phone("13300133000").await.success();
    let (first, second) = (s.verify(&first.id_token).await.1, s.verify(&second.id_token).await.1);
    assert_ne!(first["sub"], user.as_str());
    assert_eq!(first["sub"], second["sub"]);
    assert_eq!(profile(&first), json!({ "phone_number": "+8613300133000", "phone_number_verified": true }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_the_session_token_and_keeps_the_login() {
    let s = TestServer::start().await;
    let login = s.register("o_refresh").await;
    let login_claims = s.verify(&login.id_token).await.1;

    let mut current = login.clone();
    for round in 1..=3 {
        s.advance(ID_TOKEN_TTL - 60);
        let next = s.refresh(&current.session_token).await.refreshed();
        assert_ne!(next.session_token, current.session_token, "rotated");
        assert_ne!(next.id_token, current.id_token);
        let claims = check_tokens(&s, &next, &["wechat"]).await;
        assert_eq!(claims["sub"], login_claims["sub"]);
        assert_eq!(claims["auth_time"], login_claims["auth_time"], "the login time stays");
        assert_eq!(claims["iat"], login_claims["iat"].as_i64().unwrap() + round * (ID_TOKEN_TTL as i64 - 60));
        assert_eq!(next.session_expires_in, IDLE_TTL, "the idle lifetime starts again");
        assert_eq!(s.family_size(&next.session_token).await, round + 1);
        current = next;
    }
    // The id_token from before expired; the refreshed one is good.
    s.userinfo(&login.id_token).await.expect_error(401, ApiErrorCode::Unauthorized);
    s.userinfo(&current.id_token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_lifetime_is_capped_by_the_absolute_lifetime() {
    let s = TestServer::start_with(|c| {
        c.session_idle_ttl = 3600;
        c.session_absolute_ttl = 5000;
    })
    .await;
    let login = s.register("o_short").await;
    assert_eq!(login.session_expires_in, 3600);
    s.advance(3000);
    let next = s.refresh(&login.session_token).await.refreshed();
    assert_eq!(next.session_expires_in, 2000, "what is left of the absolute lifetime");
    s.advance(1999);
    let last = s.refresh(&next.session_token).await.refreshed();
    assert_eq!(last.session_expires_in, 1);
    s.advance(1);
    s.refresh(&last.session_token).await.expect_error(401, ApiErrorCode::InvalidSession);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let s = TestServer::start().await;
    let tokens = s.register("o_logout").await;
    let answer = s.logout(&tokens.session_token).await;
    answer.expect(204);
    assert!(answer.body.is_empty());
    s.refresh(&tokens.session_token).await.expect_error(401, ApiErrorCode::InvalidSession);
    // Logging out again, or with a token nobody knows, is fine: the session
    // is over either way.
    s.logout(&tokens.session_token).await.expect(204);
    s.logout("never-issued").await.expect(204);
    // The id_token lives until it expires (it is stateless).
    s.userinfo(&tokens.id_token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_accepts_any_bearer_spelling() {
    let s = TestServer::start().await;
    let tokens = s.register("o_info").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let answer = s.http.get_authorized("/v1/userinfo", &format!("{scheme} {}", tokens.id_token)).await;
        answer.expect(200);
        assert!(answer.content_type().starts_with("application/json"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_and_discovery() {
    let s = TestServer::start().await;
    let answer = s.http.get("/.well-known/jwks.json").await;
    answer.expect(200);
    assert!(answer.content_type().starts_with("application/json"));
    assert_eq!(answer.headers["cache-control"], "public, max-age=300");
    let keys = answer.json["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(keys_of(key), ["alg", "e", "kid", "kty", "n", "use"], "public members only");
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(key["kid"].as_str().unwrap().len(), 43, "an RFC 7638 SHA-256 thumbprint");

    let tokens = s.register("o_jwks").await;
    assert_eq!(unverified_part(&tokens.id_token, 0)["kid"], key["kid"]);

    let discovery = s.http.get("/.well-known/openid-configuration").await;
    discovery.expect(200);
    let doc = &discovery.json;
    let issuer = s.issuer();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(doc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(doc["userinfo_endpoint"], format!("{issuer}/v1/userinfo"));
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    let claims: Vec<&str> = doc["claims_supported"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for claim in s.verify(&tokens.id_token).await.1.keys() {
        assert!(claims.contains(&claim.as_str()), "{claim} is listed in claims_supported");
    }
    // The advertised URLs work.
    let jwks_path = doc["jwks_uri"].as_str().unwrap().strip_prefix(&issuer).unwrap();
    s.http.get(jwks_path).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_every_path() {
    let s = TestServer::start().await;
    let answer = s.http.get("/openapi.json").await;
    answer.expect(200);
    let doc = &answer.json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    let expected = [
        ("/v1/login/wechat", "post"),
        ("/v1/login/wechat-phone", "post"),
        ("/v1/login/douyin", "post"),
        ("/v1/login/chat", "post"),
        ("/v1/login/chat/poll", "post"),
        ("/v1/verify-codes", "post"),
        ("/v1/bind/wechat-phone", "post"),
        ("/v1/bind/verify-code", "post"),
        ("/v1/bind/password", "post"),
        ("/v1/register", "post"),
        ("/v1/session/refresh", "post"),
        ("/v1/logout", "post"),
        ("/v1/userinfo", "get"),
        ("/v1/chat-links", "get"),
        ("/v1/chat-links", "post"),
        ("/v1/chat-links/confirm", "post"),
        ("/v1/chat-links/{contactId}", "delete"),
        ("/v1/bot/link-tickets", "post"),
        ("/v1/bot/contacts/{contactId}", "get"),
        ("/v1/bot/challenges", "post"),
        ("/v1/bot/deliveries", "get"),
        ("/v1/bot/deliveries/{id}/ack", "post"),
        ("/v1/bot/rooms", "get"),
        ("/v1/bot/rooms/{id}", "put"),
        ("/v1/bot/rooms/{id}", "delete"),
        ("/v1/rooms/{id}", "get"),
        ("/v1/rooms/{id}/members/{memberId}", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/.well-known/openid-configuration", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ];
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
    // Field limits come from the request types, the same that deserialise.
    let schemas = &doc["components"]["schemas"];
    for (schema, field, min, max) in [
        ("CodeRequest", "code", 1, 256),
        ("SessionRequest", "session_token", 1, 128),
        ("BindPasswordRequest", "password", 1, 1024),
        ("ProfileUpdate", "picture", 9, 2048),
    ] {
        let text = schemas[schema]["properties"][field]["oneOf"]
            .as_array()
            .and_then(|options| options.iter().find(|option| option["type"] == "string"))
            .unwrap_or_else(|| panic!("{schema}.{field} is a string: {}", schemas[schema]));
        assert_eq!((&text["minLength"], &text["maxLength"]), (&json!(min), &json!(max)), "{schema}.{field}");
    }
    let v1 = paths.keys().filter(|p| p.starts_with("/v1/")).count();
    let mut expected_v1: Vec<&str> = expected.iter().map(|(p, _)| *p).filter(|p| p.starts_with("/v1/")).collect();
    expected_v1.dedup();
    assert_eq!(v1, expected_v1.len(), "no undocumented extra: {paths:?}");
    // Every documented /v1 path is served (no 404 for the right method).
    for (path, method) in expected {
        let answer = match method {
            "get" => s.http.get(path).await,
            "delete" => s.http.send(s.http.client.delete(s.http.url(path))).await,
            "put" => s.http.send(s.http.client.put(s.http.url(path)).json(&json!({}))).await,
            _ => s.http.post(path, json!({})).await,
        };
        assert_ne!(answer.status, 404, "{path}");
        assert_ne!(answer.status, 405, "{path}");
    }
    for schema in ["LoginResponse", "Tokens", "BindChallenge", "ErrorBody", "UserInfo"] {
        assert!(doc["components"]["schemas"].get(schema).is_some(), "{schema}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_keeps_old_tokens_verifiable_until_they_expire() {
    let s = TestServer::start().await;
    let before = s.register("o_rotate").await;
    let (old_kid, _) = s.verify(&before.id_token).await;

    let ttl_ms = ID_TOKEN_TTL as i64 * 1000;
    s.advance(1);
    let new_kid = keys::rotate(&s.app.db.write, SigningAlgorithm::Es256, s.clock.now()).await.unwrap();
    s.app.set_keys(keys::load(&s.app.db.write, s.clock.now(), ttl_ms).await.unwrap());
    assert_ne!(new_kid, old_kid);

    let jwks = s.jwks().await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()], "newest first, the retired key still published");
    let discovery = s.http.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.json["id_token_signing_alg_values_supported"], json!(["ES256"]));

    // New tokens are signed with the new key; the old token still verifies
    // (JWKS, jsonwebtoken and userinfo).
    let after = s.refresh(&before.session_token).await.refreshed();
    let header = unverified_part(&after.id_token, 0);
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("ES256"), Some(new_kid.as_str())));
    assert_eq!(s.verify(&after.id_token).await.0, new_kid);
    s.verify_jsonwebtoken(&after.id_token).await;
    assert_eq!(s.verify(&before.id_token).await.0, old_kid);
    s.verify_jsonwebtoken(&before.id_token).await;
    s.userinfo(&before.id_token).await.expect(200);
    s.userinfo(&after.id_token).await.expect(200);

    // Once every token the old key signed has expired (plus a minute), a
    // reload drops it.
    s.advance(ID_TOKEN_TTL + 61);
    s.app.set_keys(keys::load(&s.app.db.write, s.clock.now(), ttl_ms).await.unwrap());
    let jwks = s.jwks().await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [new_kid.as_str()]);
    let fresh = s.refresh(&after.session_token).await.refreshed();
    assert_eq!(s.verify(&fresh.id_token).await.0, new_kid);
    let stale = verify_with_core(&before.id_token, &jwks.to_string(), &s.issuer(), &s.audience(), s.clock.now());
    assert!(stale.is_err(), "the old key is gone and its token expired");
}

/// Measured before: the old key was retired in one transaction and the new
/// one inserted after it, so a failed insert left no key to sign with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_key_rotation_changes_nothing() {
    let s = TestServer::start().await;
    let active = || async {
        let kids: Vec<(String,)> = sqlx::query_as("SELECT kid FROM signing_keys WHERE retired_at IS NULL")
            .fetch_all(&s.app.db.write)
            .await
            .unwrap();
        kids
    };
    let before = active().await;
    assert_eq!(before.len(), 1);
    s.refuse_inserts_into("signing_keys").await;
    assert!(keys::rotate(&s.app.db.write, SigningAlgorithm::EdDsa, s.clock.now()).await.is_err());
    assert_eq!(active().await, before, "the old key is still the active one");
    let ttl_ms = ID_TOKEN_TTL as i64 * 1000;
    assert!(keys::load(&s.app.db.write, s.clock.now(), ttl_ms).await.is_ok(), "and the server can load it");
    s.register("o_after_failed_rotation").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_signing_algorithms() {
    for (alg, name, kty) in [(SigningAlgorithm::Es256, "ES256", "EC"), (SigningAlgorithm::EdDsa, "EdDSA", "OKP")] {
        let s = TestServer::start_with(|c| c.signing_alg = alg).await;
        let tokens = s.register("o_alg").await;
        assert_eq!(unverified_part(&tokens.id_token, 0)["alg"], name);
        assert_eq!(s.jwks().await["keys"][0]["kty"], kty);
        s.verify(&tokens.id_token).await;
        s.verify_jsonwebtoken(&tokens.id_token).await;
        s.userinfo(&tokens.id_token).await.expect(200);
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unionid_links_the_developers_other_apps() {
    // The simulator serves one AppID, so the other Mini Program's binding is
    // written directly: user bound as (wx_other_app, o_other, u_shared).
    let s = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    let user = s.add_user(UserSpec::with_password("linked")).await;
    let other = MiniProgramIdentity::wechat("wx_other_app", "o_other", Some("u_shared".into()));
    s.bind_identity(&user, &other).await;

    // A first login in this Mini Program with the same unionid is SUCCESS
    // for that user (no bind step), and links the openid.
    let code = s.wx_code_with("o_here", Some("u_shared")).await;
    let tokens = s.login_code(&code).await.success();
    assert_eq!(check_tokens(&s, &tokens, &["wechat"]).await["sub"], user.as_str());
    let here = MiniProgramIdentity::wechat(s.audience(), "o_here", None);
    let found = users::by_mini_program(&s.app.db, &here, s.clock.now()).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(user.clone()));

    // Another unionid is unknown: SOCIAL_BIND.
    let code = s.wx_code_with("o_stranger", Some("u_other")).await;
    s.login_code(&code).await.challenge("SOCIAL_BIND");

    // A bound identity that WeChat later gives a unionid remembers it, so a
    // third app with that unionid finds the user.
    let late = s.add_user(UserSpec::default()).await;
    s.bind_openid(&late, "o_late", None).await;
    let code = s.wx_code_with("o_late", Some("u_late")).await;
    s.login_code(&code).await.success();
    let third = MiniProgramIdentity::wechat("wx_third_app", "o_third", Some("u_late".into()));
    let found = users::by_mini_program(&s.app.db, &third, s.clock.now()).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(late));
}

#[tokio::test(flavor = "multi_thread")]
async fn browsers_from_listed_origins_may_call_the_api_and_others_may_not() {
    let s = TestServer::start_with(|c| c.cors_origins = vec!["https://app.example".into()]).await;
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, format!("{}/v1/session/refresh", s.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    assert!(allowed.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    // The default: no origin listed, no CORS headers at all.
    let plain = TestServer::start().await;
    let answer = client
        .get(format!("{}/.well-known/jwks.json", plain.base))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert!(answer.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_given_with_a_trailing_slash_is_used_without_it() {
    let s = TestServer::start_with(|c| c.issuer = Some("https://id.example.com/".into())).await;
    let doc = s.http.get("/.well-known/openid-configuration").await.json;
    assert_eq!(doc["issuer"], "https://id.example.com");
    assert_eq!(doc["jwks_uri"], "https://id.example.com/.well-known/jwks.json");
}
