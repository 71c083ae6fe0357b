//! The simulator's WeChat side: the paths of WeChat's API that
//! [`WechatClient`](crate::server::wechat::WechatClient) calls, and
//! `/cgi-bin/token`, answered as WeChat answers them (always HTTP 200,
//! `{"errcode", "errmsg"}` on failure).

use super::*;
use axum::extract::Query;

impl Simulator {
    /// WeChat's API: `GET /sns/jscode2session`, `GET /cgi-bin/token`,
    /// `POST /cgi-bin/stable_token`, `POST /wxa/business/getuserphonenumber`.
    ///
    /// The router carries its own state, so it fits into a router of any
    /// state type `S` (`Router<()>` to serve it alone).
    pub fn wechat_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/sns/jscode2session", get(jscode2session))
            .route("/cgi-bin/token", get(access_token))
            .route("/cgi-bin/stable_token", post(stable_access_token))
            .route("/wxa/business/getuserphonenumber", post(phone_number))
            .with_state(self.clone())
    }

    /// Counts the call and, if the simulator was told to be busy, spends one
    /// busy call.
    fn begin(&self, state: &mut SimState, count: fn(&mut SimStats) -> &mut u64) -> Result<(), WxError> {
        *count(&mut state.stats) += 1;
        if state.busy_calls > 0 {
            state.busy_calls -= 1;
            return Err(WxError(-1, "system error"));
        }
        Ok(())
    }

    fn check_app(&self, appid: Option<&str>, secret: Option<&str>) -> Result<(), WxError> {
        let appid = appid.filter(|v| !v.is_empty()).ok_or(WxError(41002, "appid missing"))?;
        let secret = secret.filter(|v| !v.is_empty()).ok_or(WxError(41004, "appsecret missing"))?;
        if appid != self.inner.appid {
            return Err(WxError(40013, "invalid appid"));
        }
        if secret != self.inner.secret {
            return Err(WxError(40125, "invalid appsecret"));
        }
        Ok(())
    }

    fn session(&self, params: &HashMap<String, String>) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.session_requests)?;
        self.check_app(param(params, "appid"), param(params, "secret"))?;
        if param(params, "grant_type") != Some("authorization_code") {
            return Err(WxError(40002, "invalid grant_type"));
        }
        let code = param(params, "js_code").filter(|v| !v.is_empty()).ok_or(WxError(41008, "missing code"))?;
        let entry = state.live_code(code, now).ok_or(WxError(40029, "invalid code"))?;
        if entry.spent {
            return Err(WxError(40163, "code been used"));
        }
        let Grant::Login { provider: Provider::Wechat, openid, unionid } = &entry.grant else {
            return Err(WxError(40029, "invalid code"));
        };
        let (openid, unionid) = (openid.clone(), unionid.clone());
        // The rate limit counts exchanges that went through.
        let recent = state.exchanges.entry(openid.clone()).or_default();
        while recent.front().is_some_and(|at| *at + RATE_WINDOW_MS <= now) {
            recent.pop_front();
        }
        if recent.len() >= RATE_LIMIT_PER_MINUTE as usize {
            return Err(WxError(45011, "api minute-quota reach limit, must slower, retry next minute"));
        }
        recent.push_back(now);
        if let Some(entry) = state.codes.get_mut(code) {
            entry.spent = true;
        }
        let mut answer = json!({ "openid": openid, "session_key": self.random(16, STANDARD) });
        if let Some(unionid) = unionid {
            answer["unionid"] = Value::String(unionid);
        }
        Ok(answer)
    }

    fn access_token(&self, params: &HashMap<String, String>) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.token_requests)?;
        if param(params, "grant_type") != Some("client_credential") {
            return Err(WxError(40002, "invalid grant_type"));
        }
        self.check_app(param(params, "appid"), param(params, "secret"))?;
        // As on WeChat, a new token leaves the older ones five more minutes;
        // stable tokens are another kind and keep their life.
        for token in state.tokens.values_mut().filter(|token| !token.stable) {
            token.expires_at = token.expires_at.min(now + TOKEN_OVERLAP_MS);
        }
        let token = self.random(48, URL_SAFE_NO_PAD);
        state.issue_token(token.clone(), now, false);
        Ok(json!({ "access_token": token, "expires_in": ACCESS_TOKEN_LIFETIME_SECS }))
    }

    fn stable_access_token(&self, body: &[u8]) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.stable_token_requests)?;
        let body: Value = serde_json::from_slice(body).map_err(|_| WxError(47001, "data format error"))?;
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        if field("grant_type") != Some("client_credential") {
            return Err(WxError(40002, "invalid grant_type"));
        }
        self.check_app(field("appid"), field("secret"))?;
        let force = body.get("force_refresh").and_then(Value::as_bool).unwrap_or(false);
        let current = state.current_stable_token();
        let answer = |token: &str, expires_at: Millis| json!({ "access_token": token, "expires_in": (expires_at - now).div_euclid(1000) });
        if let Some((token, expires_at)) = &current {
            let recently_forced = state.forced_refreshes.back().is_some_and(|at| now - at < FORCED_REFRESH_SPACING_MS);
            let renew_at = expires_at - TOKEN_OVERLAP_MS;
            if (!force && now < renew_at) || (force && recently_forced) {
                return Ok(answer(token, *expires_at));
            }
        }
        if force {
            while state.forced_refreshes.front().is_some_and(|at| now - at >= DAY_MS) {
                state.forced_refreshes.pop_front();
            }
            if state.forced_refreshes.len() >= FORCED_REFRESHES_PER_DAY {
                return Err(WxError(45009, "reach max api daily quota limit"));
            }
            state.forced_refreshes.push_back(now);
            // A forced refresh ends the current token at once.
            if let Some((token, _)) = &current {
                state.tokens.remove(token);
            }
        }
        let token = self.random(48, URL_SAFE_NO_PAD);
        state.issue_token(token.clone(), now, true);
        Ok(answer(&token, now + ACCESS_TOKEN_LIFETIME_SECS * 1000))
    }

    fn phone(&self, params: &HashMap<String, String>, body: &[u8]) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.phone_requests)?;
        let token =
            param(params, "access_token").filter(|v| !v.is_empty()).ok_or(WxError(41001, "access_token missing"))?;
        if !state.token_works(token, now) {
            return Err(WxError(40001, "invalid credential, access_token is invalid or not latest"));
        }
        let body: Value = serde_json::from_slice(body).map_err(|_| WxError(47001, "data format error"))?;
        let code = body.get("code").and_then(Value::as_str).filter(|v| !v.is_empty());
        let code = code.ok_or(WxError(41008, "missing code"))?;
        let entry = state.live_code(code, now).ok_or(WxError(40029, "invalid code"))?;
        // A reused phone code is "invalid code" too.
        let Grant::Phone(number) = &entry.grant else {
            return Err(WxError(40029, "invalid code"));
        };
        if entry.spent {
            return Err(WxError(40029, "invalid code"));
        }
        // WeChat leaves +86 off mainland numbers.
        let (country_code, pure) = (number.country_code(), number.national());
        let phone_number = if country_code == "86" { pure.to_owned() } else { number.e164() };
        let answer = json!({
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": phone_number,
                "purePhoneNumber": pure,
                "countryCode": country_code,
                "watermark": { "timestamp": entry.issued_at.div_euclid(1000), "appid": self.inner.appid },
            },
        });
        if let Some(entry) = state.codes.get_mut(code) {
            entry.spent = true;
        }
        Ok(answer)
    }

    /// WeChat's answer: the JSON as is, or `{"errcode", "errmsg"}`; always 200.
    fn answer(&self, path: &'static str, result: Result<Value, WxError>) -> Response {
        let body = match result {
            Ok(body) => {
                tracing::debug!(path, errcode = 0, "simulated WeChat answered");
                body
            }
            Err(WxError(errcode, errmsg)) => {
                tracing::debug!(path, errcode, "simulated WeChat answered");
                let rid = self.random(6, URL_SAFE_NO_PAD);
                json!({ "errcode": errcode, "errmsg": format!("{errmsg}, rid: {rid}") })
            }
        };
        (StatusCode::OK, Json(body)).into_response()
    }
}

/// A WeChat API error: errcode and errmsg.
struct WxError(i64, &'static str);

/// The query string; a malformed one reads as empty, so the call fails with
/// the errcode of a missing parameter.
type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

fn query(params: Params) -> HashMap<String, String> {
    params.map(|Query(params)| params).unwrap_or_default()
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str)
}

async fn jscode2session(State(sim): State<Simulator>, params: Params) -> Response {
    let params = query(params);
    sim.answer("/sns/jscode2session", sim.session(&params))
}

async fn access_token(State(sim): State<Simulator>, params: Params) -> Response {
    let params = query(params);
    sim.answer("/cgi-bin/token", sim.access_token(&params))
}

async fn stable_access_token(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    sim.answer("/cgi-bin/stable_token", sim.stable_access_token(&body))
}

async fn phone_number(State(sim): State<Simulator>, params: Params, body: axum::body::Bytes) -> Response {
    let params = query(params);
    sim.answer("/wxa/business/getuserphonenumber", sim.phone(&params, &body))
}
