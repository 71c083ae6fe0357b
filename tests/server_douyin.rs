//! Sign-in with Douyin Mini Programs (`POST /v1/login/douyin`), over HTTP
//! against a real server: logins of bound and unbound Douyin users, binds
//! that leave one user with a WeChat and a Douyin identity, used and foreign
//! codes, a server without Douyin credentials, Douyin's failures (-1, a
//! wrong AppID or AppSecret, an unknown `err_no`, no answer), the shared
//! rate limits, the identities that were there before the migration, and
//! the `session_key` and AppSecret in no answer and no log line.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::{ApiErrorCode as Code, BindFlow, Channel};
use miniauth::server::clock::Clock;
use miniauth::server::config::Registration;
use miniauth::server::db::Location;
use miniauth::server::users::{self, MiniProgramIdentity};
use miniauth::server::wechat::Provider;
use miniauth::server::{SIMULATOR_APPID, SIMULATOR_DOUYIN_APPID};
use serde_json::json;
use server::{concurrently, TempDir, TestServer, UserSpec, PASSWORD, SIMULATOR_DOUYIN_SECRET};

/// The `amr` and `sub` of an id_token, verified as a backend would.
async fn signed_in(s: &TestServer, id_token: &str) -> (serde_json::Value, String) {
    let (_, claims) = s.verify(id_token).await;
    assert_eq!(claims["aud"], s.audience().as_str(), "one audience for both platforms");
    (claims["amr"].clone(), claims["sub"].as_str().unwrap().to_owned())
}

fn ids(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter().map(|(p, a, o)| (p.to_string(), a.to_string(), o.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_douyin_user_signs_in() {
    let s = TestServer::start().await;
    let user = s.add_user(UserSpec { name: Some("Han Meimei".into()), ..UserSpec::default() }).await;
    s.bind_douyin_openid(&user, "tt_meimei", None).await;

    let tokens = s.login_douyin("tt_meimei").await.success();
    assert_eq!(signed_in(&s, &tokens.id_token).await, (json!(["douyin"]), user.clone()));
    let info = s.userinfo(&tokens.id_token).await;
    info.expect(200);
    assert_eq!(info.json["name"], "Han Meimei");
    // The session refreshes as any other, keeping its amr.
    let refreshed = s.refresh(&tokens.session_token).await.refreshed();
    assert_eq!(signed_in(&s, &refreshed.id_token).await.0, json!(["douyin"]));
    // Every login is a new session; the same openid at WeChat is someone else.
    assert_ne!(s.login_douyin("tt_meimei").await.success().session_token, tokens.session_token);
    s.login("tt_meimei").await.challenge("USER_REGISTER");
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_user_who_signs_in_on_douyin_binds_by_phone_and_is_one_user_with_both() {
    let s = TestServer::start().await;
    // Signs up on WeChat with a phone number.
    let challenge = s.challenge("o_lilei").await;
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    let tokens = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await.success();
    let (_, user) = signed_in(&s, &tokens.id_token).await;

    // Then on Douyin: unbound, no WeChat phone flow (a Douyin Mini Program
    // cannot ask WeChat), and the same phone number binds to the same user.
    let challenge = s.login_douyin("tt_lilei").await.challenge("USER_REGISTER");
    assert_eq!(
        challenge.flows,
        [BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, BindFlow::Register],
        "{:?}",
        challenge.flows
    );
    let body = json!({ "state_token": challenge.state_token, "code": s.wx_phone_code("13800138000").await });
    s.http.post("/v1/bind/wechat-phone", body).await.expect_error(403, Code::FlowNotAllowed);
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    let bound = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await.success();
    assert_eq!(signed_in(&s, &bound.id_token).await, (json!(["douyin", "sms"]), user.clone()));
    assert_eq!(
        s.identities_of(&user).await,
        ids(&[("douyin", SIMULATOR_DOUYIN_APPID, "tt_lilei"), ("wechat", SIMULATOR_APPID, "o_lilei")])
    );

    // From now on both sign in at once, as the same user.
    let (amr, sub) = signed_in(&s, &s.login_douyin("tt_lilei").await.success().id_token).await;
    assert_eq!((amr, sub), (json!(["douyin"]), user.clone()));
    let (amr, sub) = signed_in(&s, &s.login("o_lilei").await.success().id_token).await;
    assert_eq!((amr, sub), (json!(["wechat"]), user.clone()));

    // A second Douyin identity cannot join the same user: one per Mini Program.
    let challenge = s.login_douyin("tt_lilei_2").await.challenge("USER_REGISTER");
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    let refused = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await;
    refused.expect_error(409, Code::AlreadyBound);
    assert!(refused.json["message"].as_str().unwrap().contains("Douyin"), "{}", refused.body);

    // A Douyin user who registers is a user of their own.
    let challenge = s.login_douyin("tt_new").await.challenge("USER_REGISTER");
    let new = s.register_with(&challenge.state_token, Some("New")).await.success();
    let (amr, sub) = signed_in(&s, &new.id_token).await;
    assert_eq!(amr, json!(["douyin"]));
    assert_ne!(sub, user);
    assert_eq!(s.identities_of(&sub).await, ids(&[("douyin", SIMULATOR_DOUYIN_APPID, "tt_new")]));
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_bind_by_password_from_wechat_then_douyin() {
    let s = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    let user = s.add_user(UserSpec::with_password("lilei")).await;
    let challenge = s.challenge("o_pw").await;
    s.bind_password(&challenge.state_token, "lilei", PASSWORD).await.success();

    let challenge = s.login_douyin("tt_pw").await.challenge("SOCIAL_BIND");
    assert_eq!(challenge.flows, [BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, BindFlow::Password]);
    s.register_with(&challenge.state_token, None).await.expect_error(403, Code::FlowNotAllowed);
    s.bind_password(&challenge.state_token, "lilei", "wrong-password")
        .await
        .expect_error(401, Code::InvalidCredentials);
    let tokens = s.bind_password(&challenge.state_token, "lilei", PASSWORD).await.success();
    assert_eq!(signed_in(&s, &tokens.id_token).await, (json!(["douyin", "pwd"]), user.clone()));
    assert_eq!(
        s.identities_of(&user).await,
        ids(&[("douyin", SIMULATOR_DOUYIN_APPID, "tt_pw"), ("wechat", SIMULATOR_APPID, "o_pw")])
    );
    // The state token was spent by the bind.
    s.bind_password(&challenge.state_token, "lilei", PASSWORD).await.expect_error(400, Code::InvalidStateToken);
    s.login_douyin("tt_pw").await.success();
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn douyin_codes_are_single_use_and_no_wechat_codes() {
    let s = TestServer::start().await;
    let user = s.add_user(UserSpec::default()).await;
    s.bind_douyin_openid(&user, "tt_victim", None).await;
    let code = s.tt_code("tt_victim").await;
    s.login_douyin_code(&code).await.success();
    s.login_douyin_code(&code).await.expect_error(400, Code::WechatCodeInvalid);
    let answer = s.login_douyin_code("never-issued-code").await;
    answer.expect_error(400, Code::WechatCodeInvalid);
    assert!(answer.json["message"].as_str().unwrap().contains("Douyin"), "{}", answer.body);
    let stale = s.tt_code("tt_victim").await;
    s.advance(300);
    s.login_douyin_code(&stale).await.expect_error(400, Code::WechatCodeInvalid);

    // A code of one platform is nothing at the other.
    let wx = s.wx_code("tt_victim").await;
    s.login_douyin_code(&wx).await.expect_error(400, Code::WechatCodeInvalid);
    let tt = s.tt_code("tt_victim").await;
    s.login_code(&tt).await.expect_error(400, Code::WechatCodeInvalid);

    // Ten racing uses of one fresh code: exactly one session.
    let code = s.tt_code("tt_victim").await;
    let answers = concurrently(10, || {
        let (http, code) = (s.http.clone(), code.clone());
        async move { http.post("/v1/login/douyin", json!({ "code": code })).await }
    })
    .await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 1);
    assert!(answers.iter().filter(|a| a.status != 200).all(|a| a.error() == Code::WechatCodeInvalid.as_str()));
    // Not a code the platform could have given: refused before Douyin is asked.
    s.login_douyin_code("has space").await.expect_error(400, Code::InvalidRequest);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_douyin_unionid_links_douyin_apps_only() {
    let s = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    let user = s.add_user(UserSpec::default()).await;
    let other_app = MiniProgramIdentity {
        provider: Provider::Douyin,
        appid: "tt_other_app".into(),
        openid: "tt_other".into(),
        unionid: Some("u_shared".into()),
    };
    s.bind_identity(&user, &other_app).await;
    // A WeChat identity with the same unionid text: WeChat's unionids are
    // another namespace, it must not link.
    let wechat_user = s.add_user(UserSpec::default()).await;
    s.bind_openid(&wechat_user, "o_w", Some("u_wechat")).await;

    let code = s.tt_code_with("tt_here", Some("u_shared")).await;
    let tokens = s.login_douyin_code(&code).await.success();
    assert_eq!(signed_in(&s, &tokens.id_token).await.1, user);
    assert_eq!(s.identities_of(&user).await.len(), 2, "the openid was linked");

    let code = s.tt_code_with("tt_stranger", Some("u_wechat")).await;
    s.login_douyin_code(&code).await.challenge("SOCIAL_BIND");
    let code = s.wx_code_with("o_stranger", Some("u_shared")).await;
    s.login_code(&code).await.challenge("SOCIAL_BIND");

    // A unionid Douyin gives later is remembered, within Douyin.
    let late = s.add_user(UserSpec::default()).await;
    s.bind_douyin_openid(&late, "tt_late", None).await;
    let code = s.tt_code_with("tt_late", Some("u_late")).await;
    s.login_douyin_code(&code).await.success();
    let third = MiniProgramIdentity {
        provider: Provider::Douyin,
        appid: "tt_third".into(),
        openid: "tt_3".into(),
        unionid: Some("u_late".into()),
    };
    let found = users::by_mini_program(&s.app.db, &third, s.clock.now()).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(late));
    let wechat_third = MiniProgramIdentity::wechat("wx_third", "o_3", Some("u_late".into()));
    assert!(users::by_mini_program(&s.app.db, &wechat_third, s.clock.now()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_douyin_credentials_douyin_sign_in_is_provider_not_configured() {
    // A deployment with WeChat only.
    let s = TestServer::start_external(|c| {
        c.douyin_appid = None;
        c.douyin_secret = None;
    })
    .await;
    assert!(s.app.douyin.is_none());
    let code = s.wechat.as_ref().unwrap().sim.mint_douyin_code("tt_1", None);
    let answer = s.login_douyin_code(&code).await;
    answer.expect_error(404, Code::ProviderNotConfigured);
    assert!(answer.json["message"].as_str().unwrap().contains("Douyin"), "{}", answer.body);
    assert_eq!(s.wechat.as_ref().unwrap().sim.stats().douyin_session_requests, 0, "Douyin was not asked");
    // WeChat works as ever; the route is still documented.
    s.login("o_1").await.challenge("USER_REGISTER");
    let doc = s.http.get("/openapi.json").await;
    assert!(doc.json["paths"]["/v1/login/douyin"]["post"]["responses"]["404"].is_object());
    // Outside simulator mode there are no /sim/tt/ endpoints.
    s.http.post("/sim/tt/login", json!({ "openid": "o" })).await.expect_error(404, Code::NotFound);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn douyins_failures() {
    // -1: 503 wechat_busy, and the code is not spent.
    let s = TestServer::start().await;
    let code = s.tt_code("tt_busy").await;
    s.douyin_busy(1).await;
    let answer = s.login_douyin_code(&code).await;
    answer.expect_error(503, Code::WechatBusy);
    assert!(answer.json["message"].as_str().unwrap().contains("Douyin"), "{}", answer.body);
    s.login_douyin_code(&code).await.challenge("USER_REGISTER");
    // Douyin's busy is not WeChat's.
    s.douyin_busy(1).await;
    s.login("o_not_busy").await.challenge("USER_REGISTER");
    s.http.check_answers().await;

    // Douyin refuses the AppID (40015) or the AppSecret (40017): the
    // server's configuration, 502, and neither secret in the answer.
    for wrong in ["appid", "secret"] {
        let s = TestServer::start_external(|c| match wrong {
            "appid" => c.douyin_appid = Some("tt_not_ours".into()),
            _ => c.douyin_secret = Some("not-the-douyin-secret".into()),
        })
        .await;
        let wechat = s.wechat.as_ref().unwrap();
        let answer = s.login_douyin_code(&wechat.sim.mint_douyin_code("tt_1", None)).await;
        answer.expect_error(502, Code::WechatUnavailable);
        assert!(answer.json["message"].as_str().unwrap().contains("Douyin"), "{}", answer.body);
        assert!(!answer.body.contains("not-the-douyin-secret") && !answer.body.contains(&wechat.douyin_secret));
        let err_no = if wrong == "appid" { 40015 } else { 40017 };
        assert!(wechat.answers().iter().any(|a| a["err_no"] == err_no), "{wrong}");
        s.http.check_answers().await;
    }

    // An err_no this server does not know, and answers that are not
    // Douyin's API: 502 too.
    for body in [
        r#"{"err_no":28001005,"err_tips":"internal error","log_id":"x","data":{}}"#,
        r#"{"err_no":40019,"err_tips":"bad anonymous_code","log_id":"x","data":{}}"#,
        r#"{"err_no":0,"err_tips":"success","log_id":"x","data":{"openid":"tt_1"}}"#,
        "<html>502 Bad Gateway</html>",
    ] {
        let douyin = stub_douyin(body).await;
        let s = TestServer::start_with(|c| on_real_apis(c, &douyin)).await;
        s.login_douyin_code("some-code").await.expect_error(502, Code::WechatUnavailable);
        s.http.check_answers().await;
    }
    // Nobody answers at Douyin's address.
    let nowhere = format!("http://127.0.0.1:{}", server::free_port());
    let s = TestServer::start_with(|c| on_real_apis(c, &nowhere)).await;
    s.login_douyin_code("some-code").await.expect_error(502, Code::WechatUnavailable);
    s.http.check_answers().await;
}

/// Out of simulator mode, with Douyin's API at `douyin_api` (and WeChat's
/// nowhere).
fn on_real_apis(config: &mut miniauth::server::config::Config, douyin_api: &str) {
    config.simulator = false;
    config.wechat_appid = Some("wx_real".into());
    config.wechat_secret = Some("wechat-secret".into());
    config.wechat_api = format!("http://127.0.0.1:{}", server::free_port());
    config.douyin_appid = Some("tt_real".into());
    config.douyin_secret = Some("douyin-secret".into());
    config.douyin_api = douyin_api.to_owned();
}

/// A stand-in for Douyin that answers every exchange with `body`; its base URL.
async fn stub_douyin(body: &'static str) -> String {
    let router =
        axum::Router::new().route("/api/apps/v2/jscode2session", axum::routing::post(move || async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_rate_limits_count_douyin_as_wechat() {
    // Per client address: one budget for both platforms' logins.
    let s = TestServer::start_with(|c| c.rate_limit_ip = 3).await;
    s.login("o_1").await.challenge("USER_REGISTER");
    s.login_douyin("tt_1").await.challenge("USER_REGISTER");
    s.login_douyin("tt_2").await.challenge("USER_REGISTER");
    let answer = s.login_douyin("tt_3").await;
    answer.expect_error(429, Code::RateLimited);
    assert_eq!(answer.retry_after(), Some(60));
    s.login("o_2").await.expect_error(429, Code::RateLimited);
    s.http.check_answers().await;

    // Per account: one Douyin user logging in too often.
    let s = TestServer::start_with(|c| c.rate_limit_account = 2).await;
    s.login_douyin("tt_eager").await.challenge("USER_REGISTER");
    s.login_douyin("tt_eager").await.challenge("USER_REGISTER");
    s.login_douyin("tt_eager").await.expect_error(429, Code::RateLimited);
    s.login_douyin("tt_calm").await.challenge("USER_REGISTER");
    // The same openid at WeChat is another account.
    s.login("tt_eager").await.challenge("USER_REGISTER");
    s.http.check_answers().await;

    // A Douyin user's bind asks for codes under the same rules.
    let s = TestServer::start().await;
    let challenge = s.login_douyin("tt_codes").await.challenge("USER_REGISTER");
    s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await.expect(202);
    let again = s.send_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    again.expect_error(429, Code::VerifyCodeTooFrequent);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_identities_from_before_the_migration_stay_wechat() {
    let dir = TempDir::new("douyin-migration");
    let location = server::test_database(&dir).await;
    before_douyin(&location).await;

    let s = TestServer::start_with(|c| c.database = location.clone()).await;
    assert_eq!(s.identities_of("usr_old").await, ids(&[("wechat", SIMULATOR_APPID, "o_old")]));
    let (amr, sub) = signed_in(&s, &s.login("o_old").await.success().id_token).await;
    assert_eq!((amr, sub.as_str()), (json!(["wechat"]), "usr_old"));
    // The key is (provider, appid, openid): the same appid and openid at
    // Douyin is another identity, which the same user may hold.
    let same = MiniProgramIdentity {
        provider: Provider::Douyin,
        appid: SIMULATOR_APPID.into(),
        openid: "o_old".into(),
        unionid: None,
    };
    s.bind_identity("usr_old", &same).await;
    assert_eq!(
        s.identities_of("usr_old").await,
        ids(&[("douyin", SIMULATOR_APPID, "o_old"), ("wechat", SIMULATOR_APPID, "o_old")])
    );
    // And a user added on WeChat and bound on Douyin as ever.
    let challenge = s.login_douyin("tt_old").await.challenge("USER_REGISTER");
    let code = s.fetch_code(Channel::Sms, "13800138000", &challenge.state_token).await;
    let tokens = s.bind_verify_code(&challenge.state_token, Channel::Sms, "13800138000", &code).await.success();
    assert_eq!(signed_in(&s, &tokens.id_token).await.1, "usr_old");
}

/// The schema before Douyin's migration, with a user bound on WeChat
/// (`usr_old`, `o_old`, phone +8613800138000) as an older server left it.
async fn before_douyin(location: &Location) {
    use sqlx::migrate::Migrator;
    use std::borrow::Cow;
    fn before(mut migrator: Migrator) -> Migrator {
        let older: Vec<_> =
            migrator.migrations.iter().take_while(|m| !m.description.contains("douyin")).cloned().collect();
        assert!(older.len() < migrator.migrations.len(), "Douyin's migration is among them");
        migrator.migrations = Cow::Owned(older);
        migrator
    }
    const USER: &str =
        "INSERT INTO users (id, phone, phone_verified, created_at) VALUES ('usr_old', '+8613800138000', 1, 0)";
    const IDENTITY: &str = "INSERT INTO wechat_identities (appid, openid, unionid, user_id, created_at) \
                            VALUES ('wx_simulator_appid', 'o_old', NULL, 'usr_old', 0)";
    match location {
        Location::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            before(sqlx::migrate!("./migrations/sqlite")).run(&pool).await.unwrap();
            sqlx::query(USER).execute(&pool).await.unwrap();
            sqlx::query(IDENTITY).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Location::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            before(sqlx::migrate!("./migrations/postgres")).run(&pool).await.unwrap();
            sqlx::query(USER).execute(&pool).await.unwrap();
            sqlx::query(IDENTITY).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// Every Douyin flow against a Douyin that runs apart (as in production),
/// so that the `session_key`s it handed the server are known, with every
/// log line of the process captured: no answer and no log line carries a
/// `session_key` or the AppSecret, nor the `tt.login` codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_session_key_or_secret_in_answers_or_logs() {
    let logs = server::capture_logs();
    let s = TestServer::start_external(|c| c.registration = Registration::Closed).await;
    let user = s.add_user(UserSpec { email: Some("mail@example.com".into()), ..UserSpec::default() }).await;
    let mut codes = Vec::new();

    let code = s.tt_code_with("tt_secret", Some("tt_u_secret")).await;
    codes.push(code.clone());
    let challenge = s.login_douyin_code(&code).await.challenge("SOCIAL_BIND");
    let otp = s.fetch_code(Channel::Email, "mail@example.com", &challenge.state_token).await;
    let bound = s.bind_verify_code(&challenge.state_token, Channel::Email, "mail@example.com", &otp).await.success();
    assert_eq!(signed_in(&s, &bound.id_token).await.1, user);
    let code = s.tt_code("tt_secret").await;
    codes.push(code.clone());
    let again = s.login_douyin_code(&code).await.success();
    s.login_douyin_code(&code).await.expect_error(400, Code::WechatCodeInvalid);
    s.refresh(&again.session_token).await.refreshed();
    s.douyin_busy(1).await;
    let busy = s.tt_code("tt_secret").await;
    codes.push(busy.clone());
    s.login_douyin_code(&busy).await.expect_error(503, Code::WechatBusy);
    s.login_douyin_code(&busy).await.success();

    // And in simulator mode, with its built-in Douyin AppSecret (its
    // session_keys stay inside the process: only the AppSecret and the
    // codes are checked there).
    let sim = TestServer::start().await;
    let code = sim.tt_code("tt_sim_secret").await;
    codes.push(code.clone());
    let challenge = sim.login_douyin_code(&code).await.challenge("USER_REGISTER");
    sim.register_with(&challenge.state_token, None).await.success();

    let wechat = s.wechat.as_ref().unwrap();
    let session_keys = wechat.douyin_session_keys();
    assert_eq!(session_keys.len(), 3, "three exchanges went through: {:?}", wechat.answers());
    let log = logs.text();
    assert!(log.contains("/api/apps/v2/jscode2session"), "Douyin calls were logged (without secrets): {log}");
    let mut answers = s.http.transcript();
    // The simulator's /sim/ endpoints hand out codes by design.
    answers.extend(sim.http.transcript().into_iter().filter(|a| !a.path.starts_with("/sim/")));
    for (what, secret) in session_keys
        .iter()
        .map(|key| ("session_key", key.as_str()))
        .chain([("AppSecret", wechat.douyin_secret.as_str()), ("simulator AppSecret", SIMULATOR_DOUYIN_SECRET)])
    {
        assert!(!log.contains(secret), "a {what} was logged");
        assert!(answers.iter().all(|a| !a.whole().contains(secret)), "a {what} is in an answer");
    }
    for code in &codes {
        assert!(!log.contains(code.as_str()), "a tt.login code was logged");
    }
    s.http.check_answers().await;
    sim.http.check_answers().await;
}
