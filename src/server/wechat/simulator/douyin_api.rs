//! The simulator's Douyin side: the code exchange that
//! [`DouyinClient`](crate::server::wechat::DouyinClient) calls, answered as
//! Douyin answers it (always HTTP 200, `{"err_no", "err_tips", "log_id",
//! "data"}`).

use super::*;
use crate::server::wechat::douyin::PATH_SESSION;

impl Simulator {
    /// Douyin's API: `POST /api/apps/v2/jscode2session`.
    ///
    /// The router carries its own state, so it fits into a router of any
    /// state type `S` (`Router<()>` to serve it alone).
    pub fn douyin_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new().route(PATH_SESSION, post(jscode2session)).with_state(self.clone())
    }

    pub(super) fn douyin_session(&self, body: &[u8]) -> Result<Value, TtError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        state.stats.douyin_session_requests += 1;
        if state.douyin_busy_calls > 0 {
            state.douyin_busy_calls -= 1;
            return Err(TtError(-1, "system error"));
        }
        let body: HashMap<String, Value> = serde_json::from_slice(body).map_err(|_| TtError(40014, "bad params"))?;
        let field = |name: &str| match body.get(name) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(value)) => Ok(value.as_str()),
            Some(_) => Err(TtError(40014, "bad params")),
        };
        let (appid, secret, code, anonymous_code) =
            (field("appid")?, field("secret")?, field("code")?, field("anonymous_code")?);
        let Some((our_appid, our_secret)) = &self.inner.douyin else {
            return Err(TtError(40015, "bad appid"));
        };
        if appid != our_appid {
            return Err(TtError(40015, "bad appid"));
        }
        if secret != our_secret {
            return Err(TtError(40017, "bad secret"));
        }
        if !anonymous_code.is_empty() {
            return Err(TtError(40019, "bad anonymous_code"));
        }
        let entry = state.live_code(code, now).filter(|entry| !entry.spent).ok_or(TtError(40018, "bad code"))?;
        let Grant::Login { provider: Provider::Douyin, openid, unionid } = &entry.grant else {
            return Err(TtError(40018, "bad code"));
        };
        let data = json!({
            "session_key": self.random(16, STANDARD),
            "openid": openid,
            "anonymous_openid": "",
            "unionid": unionid.as_deref().unwrap_or(""),
        });
        if let Some(entry) = state.codes.get_mut(code) {
            entry.spent = true;
        }
        Ok(data)
    }

    /// Douyin's answer: always 200, `err_no` 0 with `data`, or the error
    /// with empty `data`.
    pub(super) fn douyin_answer(&self, result: Result<Value, TtError>) -> Response {
        let log_id = self.random(12, URL_SAFE_NO_PAD);
        let (err_no, err_tips, data) = match result {
            Ok(data) => (0, "success", data),
            Err(TtError(err_no, err_tips)) => (err_no, err_tips, json!({})),
        };
        tracing::debug!(path = PATH_SESSION, err_no, "simulated Douyin answered");
        let body = json!({ "err_no": err_no, "err_tips": err_tips, "log_id": log_id, "data": data });
        (StatusCode::OK, Json(body)).into_response()
    }
}

/// A Douyin API error: err_no and err_tips.
pub(super) struct TtError(i64, &'static str);

async fn jscode2session(State(sim): State<Simulator>, body: axum::body::Bytes) -> Response {
    sim.douyin_answer(sim.douyin_session(&body))
}
