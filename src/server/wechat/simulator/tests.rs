use super::*;
use crate::protocol::ErrorBody;
use crate::server::clock::ManualClock;
use base64::Engine as _;
use std::time::Duration;
use std::vec::Vec;
use tokio::net::TcpListener;

const APPID: &str = "wx_sim_app";
const SECRET: &str = "sim-secret";
const TT_APPID: &str = "tt_sim_app";
const TT_SECRET: &str = "tt-sim-secret";

struct Setup {
    sim: Simulator,
    clock: Arc<ManualClock>,
    base: String,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let sim = Simulator::new(APPID, SECRET, clock.clone()).with_douyin(TT_APPID, TT_SECRET);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router: Router = sim.wechat_router().merge(sim.douyin_router()).merge(sim.control_router());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Plain HTTP only: no system CA roots needed.
    let http = reqwest::Client::builder().tls_certs_only(std::iter::empty()).build().unwrap();
    Setup { sim, clock, base: format!("http://{address}"), http }
}

impl Setup {
    async fn get(&self, path_and_query: &str) -> Value {
        let response = self.http.get(format!("{}{path_and_query}", self.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Option<Value>) {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).ok())
    }

    async fn session(&self, code: &str) -> Value {
        self.get(&format!(
            "/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}&grant_type=authorization_code"
        ))
        .await
    }

    /// Douyin's exchange of `code`, with `extra` fields over the app's.
    async fn douyin_session(&self, code: &str, extra: Value) -> Value {
        let mut body = json!({ "appid": TT_APPID, "secret": TT_SECRET, "code": code, "anonymous_code": "" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, answer) = self.post("/api/apps/v2/jscode2session", body).await;
        assert_eq!(status, StatusCode::OK);
        answer.unwrap()
    }

    async fn token(&self) -> String {
        let answer =
            self.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}")).await;
        assert_eq!(answer["expires_in"], 7200);
        answer["access_token"].as_str().unwrap().to_owned()
    }

    async fn phone(&self, token: &str, body: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/wxa/business/getuserphonenumber?access_token={token}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

fn errcode(answer: &Value) -> i64 {
    answer["errcode"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn jscode2session_speaks_wechat() {
    let s = setup().await;
    let code = s.sim.mint_login_code("o_1", Some("u_1"));
    assert_eq!(code.len(), 32);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let answer = s.session(&code).await;
    assert_eq!(answer["openid"], "o_1");
    assert_eq!(answer["unionid"], "u_1");
    assert!(answer.get("errcode").is_none(), "success has no errcode: {answer}");
    let key = STANDARD.decode(answer["session_key"].as_str().unwrap()).unwrap();
    assert_eq!(key.len(), 16);

    let reused = s.session(&code).await;
    assert_eq!(errcode(&reused), 40163);
    assert!(reused["errmsg"].as_str().unwrap().starts_with("code been used, rid: "));
    assert_eq!(errcode(&s.session("unknown").await), 40029);

    let code = s.sim.mint_login_code("o_1", None);
    let base = format!("js_code={code}&grant_type=authorization_code");
    let wrong = [
        (format!("/sns/jscode2session?appid=wx_other&secret={SECRET}&{base}"), 40013),
        (format!("/sns/jscode2session?appid={APPID}&secret=nope&{base}"), 40125),
        (format!("/sns/jscode2session?secret={SECRET}&{base}"), 41002),
        (format!("/sns/jscode2session?appid={APPID}&{base}"), 41004),
        (format!("/sns/jscode2session?appid={APPID}&secret={SECRET}&grant_type=authorization_code"), 41008),
        (format!("/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}&grant_type=x"), 40002),
    ];
    for (path, expected) in wrong {
        assert_eq!(errcode(&s.get(&path).await), expected, "{path}");
    }
    assert!(s.session(&code).await.get("session_key").is_some(), "refused calls do not spend the code");
    assert!(answer.get("unionid").is_some());
    assert!(s.session(&s.sim.mint_login_code("o_2", None)).await.get("unionid").is_none());
    assert_eq!(s.sim.stats().session_requests, 11);
}

fn err_no(answer: &Value) -> i64 {
    answer["err_no"].as_i64().expect("Douyin always answers err_no")
}

#[tokio::test]
async fn jscode2session_speaks_douyin() {
    let s = setup().await;
    let code = s.sim.mint_douyin_code("tt_o_1", Some("tt_u_1"));
    let answer = s.douyin_session(&code, json!({})).await;
    assert_eq!((err_no(&answer), &answer["err_tips"]), (0, &json!("success")), "{answer}");
    assert!(answer["log_id"].as_str().is_some_and(|id| !id.is_empty()));
    let data = &answer["data"];
    assert_eq!(
        (&data["openid"], &data["unionid"], &data["anonymous_openid"]),
        (&json!("tt_o_1"), &json!("tt_u_1"), &json!(""))
    );
    assert_eq!(STANDARD.decode(data["session_key"].as_str().unwrap()).unwrap().len(), 16);

    let reused = s.douyin_session(&code, json!({})).await;
    assert_eq!((err_no(&reused), &reused["err_tips"], &reused["data"]), (40018, &json!("bad code"), &json!({})));
    assert_eq!(err_no(&s.douyin_session("unknown", json!({})).await), 40018);
    let wechat_code = s.sim.mint_login_code("o_1", None);
    assert_eq!(err_no(&s.douyin_session(&wechat_code, json!({})).await), 40018, "a WeChat code is no Douyin code");
    assert_eq!(errcode(&s.session(&s.sim.mint_douyin_code("tt_o_1", None)).await), 40029, "nor the other way");

    let code = s.sim.mint_douyin_code("tt_o_2", None);
    for (extra, expected) in [
        (json!({ "appid": "tt_other" }), 40015),
        (json!({ "appid": APPID }), 40015),
        (json!({ "secret": "nope" }), 40017),
        (json!({ "secret": null }), 40017),
        (json!({ "anonymous_code": "anon" }), 40019),
        (json!({ "code": 12 }), 40014),
    ] {
        assert_eq!(err_no(&s.douyin_session(&code, extra.clone()).await), expected, "{extra}");
    }
    let not_json = s.http.post(format!("{}/api/apps/v2/jscode2session", s.base)).body("appid=x");
    assert_eq!(err_no(&not_json.send().await.unwrap().json().await.unwrap()), 40014);
    // Busy, as fault injection asks: -1, and the code is not spent.
    let (status, _) = s.post("/sim/tt/busy", json!({"calls": 1})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(err_no(&s.douyin_session(&code, json!({})).await), -1);
    let answer = s.douyin_session(&code, json!({}));
    assert_eq!(answer.await["data"]["unionid"], "", "refused calls do not spend the code; no unionid is empty");
    assert_eq!(s.sim.stats().douyin_session_requests, 13);

    // A code minted over HTTP, and a code that outlives five minutes.
    let (status, answer) = s.post("/sim/tt/login", json!({"openid": "tt-http", "unionid": "u"})).await;
    assert_eq!(status, StatusCode::OK);
    let code = answer.unwrap()["code"].as_str().unwrap().to_owned();
    assert_eq!(s.douyin_session(&code, json!({})).await["data"]["openid"], "tt-http");
    let (status, _) = s.post("/sim/tt/login", json!({"openid": "has space"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let code = s.sim.mint_douyin_code("tt_o_3", None);
    s.clock.advance(Duration::from_millis(CODE_LIFETIME_MS as u64));
    assert_eq!(err_no(&s.douyin_session(&code, json!({})).await), 40018);
}

#[tokio::test]
async fn without_a_douyin_app_every_exchange_is_a_wrong_appid() {
    let clock = Arc::new(ManualClock::new(0));
    let sim = Simulator::new(APPID, SECRET, clock);
    let code = sim.mint_douyin_code("tt_o_1", None);
    let body = json!({ "appid": "", "secret": "", "code": code }).to_string();
    let answer = sim.douyin_answer(sim.douyin_session(body.as_bytes()));
    let bytes = axum::body::to_bytes(answer.into_body(), 1 << 16).await.unwrap();
    assert_eq!(err_no(&serde_json::from_slice(&bytes).unwrap()), 40015);
}

#[tokio::test]
async fn codes_expire_after_five_minutes_and_are_purged() {
    let s = setup().await;
    let code = s.sim.mint_login_code("o_1", None);
    s.sim.mint_phone_code("13800138000").unwrap();
    assert_eq!(s.sim.stats().live_codes, 2);
    s.clock.advance(Duration::from_millis(CODE_LIFETIME_MS as u64));
    assert_eq!(errcode(&s.session(&code).await), 40029);
    assert_eq!(s.sim.stats().live_codes, 0);
}

#[tokio::test]
async fn rate_limit_per_openid() {
    let s = setup().await;
    for _ in 0..RATE_LIMIT_PER_MINUTE {
        assert!(s.session(&s.sim.mint_login_code("o_1", None)).await.get("openid").is_some());
    }
    let code = s.sim.mint_login_code("o_1", None);
    let answer = s.session(&code).await;
    assert_eq!(errcode(&answer), 45011);
    s.clock.advance(Duration::from_secs(59));
    assert_eq!(errcode(&s.session(&code).await), 45011);
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(s.session(&code).await["openid"], "o_1");
}

#[tokio::test]
async fn access_tokens_and_phone_numbers() {
    let s = setup().await;
    let first = s.token().await;
    let code = s.sim.mint_phone_code("+8613800138000").unwrap();
    let body = format!(r#"{{"code":"{code}"}}"#);
    let answer = s.phone(&first, &body).await;
    assert_eq!(errcode(&answer), 0);
    assert_eq!(answer["errmsg"], "ok");
    let info = &answer["phone_info"];
    assert_eq!(info["phoneNumber"], "13800138000");
    assert_eq!(info["purePhoneNumber"], "13800138000");
    assert_eq!(info["countryCode"], "86");
    assert_eq!(info["watermark"]["appid"], APPID);
    assert_eq!(info["watermark"]["timestamp"], 1_700_000_000);
    assert_eq!(errcode(&s.phone(&first, &body).await), 40029, "single use");

    let foreign = s.sim.mint_phone_code("+447911123456").unwrap();
    let answer = s.phone(&first, &format!(r#"{{"code":"{foreign}"}}"#)).await;
    assert_eq!(answer["phone_info"]["phoneNumber"], "+447911123456");
    assert_eq!(answer["phone_info"]["countryCode"], "44");
    assert_eq!(answer["phone_info"]["purePhoneNumber"], "7911123456");

    assert_eq!(errcode(&s.phone(&first, "not json").await), 47001);
    assert_eq!(errcode(&s.phone(&first, "{}").await), 41008);
    assert_eq!(errcode(&s.phone("", &body).await), 41001);
    assert_eq!(errcode(&s.phone("forged", &body).await), 40001);
    let login = s.sim.mint_login_code("o_1", None);
    assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{login}"}}"#)).await), 40029);

    // A new token leaves the old one five more minutes.
    let second = s.token().await;
    assert_ne!(first, second);
    let fresh = |s: &Setup| s.sim.mint_phone_code("13800138000").unwrap();
    let code = fresh(&s);
    assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{code}"}}"#)).await), 0);
    s.clock.advance(Duration::from_secs(300));
    let code = fresh(&s);
    assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
    assert_eq!(errcode(&s.phone(&second, &format!(r#"{{"code":"{code}"}}"#)).await), 0);
    // ... and a token lives 7200 s.
    s.clock.advance(Duration::from_secs(7200 - 300));
    let code = fresh(&s);
    assert_eq!(errcode(&s.phone(&second, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
    assert_eq!(s.sim.stats().live_access_tokens, 0);

    let wrong = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret=x")).await;
    assert_eq!(errcode(&wrong), 40125);
    let wrong = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid=wx9&secret={SECRET}")).await;
    assert_eq!(errcode(&wrong), 40013);
    let wrong = s.get(&format!("/cgi-bin/token?appid={APPID}&secret={SECRET}")).await;
    assert_eq!(errcode(&wrong), 40002);

    let third = s.token().await;
    s.sim.revoke_access_tokens();
    let code = fresh(&s);
    assert_eq!(errcode(&s.phone(&third, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
}

impl Setup {
    /// `POST /cgi-bin/stable_token` with `body`'s fields besides the app's.
    async fn stable_token_with(&self, extra: Value) -> Value {
        let mut body = json!({ "grant_type": "client_credential", "appid": APPID, "secret": SECRET });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, answer) = self.post("/cgi-bin/stable_token", body).await;
        assert_eq!(status, StatusCode::OK);
        answer.unwrap()
    }

    /// A stable token in normal mode, and its `expires_in`.
    async fn stable_token(&self, force_refresh: bool) -> (String, i64) {
        let answer = self.stable_token_with(json!({ "force_refresh": force_refresh })).await;
        (answer["access_token"].as_str().unwrap().to_owned(), answer["expires_in"].as_i64().unwrap())
    }

    async fn phone_works(&self, token: &str) -> bool {
        let code = self.sim.mint_phone_code("13800138000").unwrap();
        errcode(&self.phone(token, &format!(r#"{{"code":"{code}"}}"#)).await) == 0
    }
}

#[tokio::test]
async fn the_stable_token_is_one_for_every_caller_and_renewed_with_an_overlap() {
    let s = setup().await;
    // Normal mode: every caller gets the current token, with its life left.
    let (first, expires_in) = s.stable_token(false).await;
    assert_eq!(expires_in, 7200);
    s.clock.advance(Duration::from_secs(100));
    assert_eq!(s.stable_token(false).await, (first.clone(), 7100));
    // /cgi-bin/token is another kind: it does not cut the stable token short.
    s.token().await;
    s.clock.advance(Duration::from_secs(7200 - 300 - 1 - 100));
    assert_eq!(s.stable_token(false).await, (first.clone(), 301));
    // In its last five minutes the next token is issued; the old one works
    // on until it expires.
    s.clock.advance(Duration::from_secs(1));
    let (second, expires_in) = s.stable_token(false).await;
    assert_ne!(second, first);
    assert_eq!(expires_in, 7200);
    assert!(s.phone_works(&first).await && s.phone_works(&second).await);
    s.clock.advance(Duration::from_secs(300));
    assert!(!s.phone_works(&first).await, "expired");
    assert!(s.phone_works(&second).await);

    // A forced refresh ends the current token at once; another within 30 s
    // answers the current one.
    let (third, _) = s.stable_token(true).await;
    assert_ne!(third, second);
    assert!(!s.phone_works(&second).await && s.phone_works(&third).await);
    s.clock.advance(Duration::from_secs(29));
    assert_eq!(s.stable_token(true).await.0, third);
    // At most 20 a day.
    for _ in 1..20 {
        s.clock.advance(Duration::from_secs(30));
        s.stable_token(true).await;
    }
    s.clock.advance(Duration::from_secs(30));
    assert_eq!(errcode(&s.stable_token_with(json!({ "force_refresh": true })).await), 45009);
    assert_eq!(s.sim.stats().stable_token_requests, 26);

    for (extra, expected) in [
        (json!({ "secret": "x" }), 40125),
        (json!({ "appid": "wx9" }), 40013),
        (json!({ "grant_type": "authorization_code" }), 40002),
        (json!({ "secret": "" }), 41004),
    ] {
        assert_eq!(errcode(&s.stable_token_with(extra.clone()).await), expected, "{extra}");
    }
    let not_json = s.http.post(format!("{}/cgi-bin/stable_token", s.base)).body("grant_type=client_credential");
    let answer: Value = not_json.send().await.unwrap().json().await.unwrap();
    assert_eq!(errcode(&answer), 47001);
}

#[tokio::test]
async fn busy_answers_minus_one_for_the_next_calls() {
    let s = setup().await;
    let code = s.sim.mint_login_code("o_1", None);
    let (status, answer) = s.post("/sim/wx/busy", json!({"calls": 2})).await;
    assert_eq!((status, answer), (StatusCode::NO_CONTENT, None));
    let busy = s.session(&code).await;
    assert_eq!(errcode(&busy), -1);
    assert!(busy["errmsg"].as_str().unwrap().starts_with("system error"));
    let busy = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}")).await;
    assert_eq!(errcode(&busy), -1);
    assert_eq!(s.session(&code).await["openid"], "o_1");
}

#[tokio::test]
async fn control_endpoints() {
    let s = setup().await;
    let (status, answer) = s.post("/sim/wx/login", json!({"openid": "o-1_A", "unionid": "u1"})).await;
    assert_eq!(status, StatusCode::OK);
    let code = answer.unwrap()["code"].as_str().unwrap().to_owned();
    assert_eq!(s.session(&code).await["unionid"], "u1");

    let long = "o".repeat(65);
    for body in [
        json!({"openid": ""}),
        json!({"openid": long}),
        json!({"openid": "has space"}),
        json!({"openid": "o1", "unionid": "bad/union"}),
        json!({"openid": "o1", "extra": 1}),
        json!({}),
    ] {
        let (status, answer) = s.post("/sim/wx/login", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let error: ErrorBody = serde_json::from_value(answer.unwrap()).unwrap();
        assert_eq!(error.error, ApiErrorCode::InvalidRequest.as_str());
    }

    let (status, answer) = s.post("/sim/wx/phone", json!({"phone": "13800138000"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer.unwrap()["code"].as_str().unwrap().len(), 32);
    for phone in ["", "+", "1380013800", "23800138000", "+86138001380001", "+0123456", "+8612800138000", "+1234", "abc"]
    {
        let (status, answer) = s.post("/sim/wx/phone", json!({ "phone": phone })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{phone}");
        assert_eq!(answer.unwrap()["error"], ApiErrorCode::InvalidRequest.as_str());
    }
    let (status, _) = s.post("/sim/wx/busy", json!({"calls": -1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn at_most_max_live_codes() {
    let s = setup().await;
    let clock = s.clock.clone();
    let codes: Vec<String> = (0..MAX_LIVE_CODES).map(|_| s.sim.mint_login_code("o_1", None)).collect();
    assert_eq!(codes.len(), MAX_LIVE_CODES);
    assert!(matches!(s.sim.mint_phone_code("13800138000"), Err(SimError::Full { retry_after_secs: 300 })));
    let response =
        s.http.post(format!("{}/sim/wx/login", s.base)).json(&json!({"openid": "o_2"})).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "300");
    let error: ErrorBody = response.json().await.unwrap();
    assert_eq!(error.error, ApiErrorCode::RateLimited.as_str());
    // Spent codes still count until they expire; expired ones make room.
    clock.advance(Duration::from_millis(CODE_LIFETIME_MS as u64));
    assert_eq!(s.sim.stats().live_codes, 0);
    s.sim.mint_login_code("o_2", None);
}

#[test]
fn debug_hides_the_secret() {
    let sim = Simulator::new(APPID, SECRET, Arc::new(ManualClock::new(0))).with_douyin(TT_APPID, TT_SECRET);
    let debug = format!("{sim:?}");
    assert!(debug.contains(APPID) && !debug.contains(SECRET), "{debug}");
    assert!(debug.contains(TT_APPID) && !debug.contains(TT_SECRET), "{debug}");
}
