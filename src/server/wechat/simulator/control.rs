//! The simulator's control plane, `/sim/wx/*` and `/sim/tt/*`: what a Mini
//! Program would get from `wx.login`, `getPhoneNumber` and `tt.login`, and
//! fault injection. Errors are the server API's `{"error", "message"}`, not
//! WeChat's or Douyin's.

use super::*;
use axum::extract::rejection::JsonRejection;

impl Simulator {
    /// The Mini Program's side and fault injection:
    /// `POST /sim/wx/login {openid, unionid?}` → `{code}`,
    /// `POST /sim/wx/phone {phone}` → `{code}`,
    /// `POST /sim/wx/busy {calls}` → 204, and for Douyin
    /// `POST /sim/tt/login {openid, unionid?}` → `{code}` (what `tt.login`
    /// gives), `POST /sim/tt/busy {calls}` → 204. Errors are the server
    /// API's `{"error", "message"}`. Like
    /// [`wechat_router`](Self::wechat_router), it fits into a router of any
    /// state type.
    pub fn control_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/sim/wx/login", post(control_login))
            .route("/sim/wx/phone", post(control_phone))
            .route("/sim/wx/busy", post(control_busy))
            .route("/sim/tt/login", post(control_douyin_login))
            .route("/sim/tt/busy", post(control_douyin_busy))
            .with_state(self.clone())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    openid: String,
    #[serde(default)]
    unionid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusyBody {
    calls: u32,
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(body)| body).map_err(|rejection| AppError::invalid_request(rejection.body_text()))
}

async fn control_login(
    State(sim): State<Simulator>,
    request: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let request = body(request)?;
    let code = sim.try_mint_login_code(&request.openid, request.unionid.as_deref())?;
    Ok(Json(json!({ "code": code })))
}

async fn control_douyin_login(
    State(sim): State<Simulator>,
    request: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let request = body(request)?;
    let code = sim.try_mint_douyin_code(&request.openid, request.unionid.as_deref())?;
    Ok(Json(json!({ "code": code })))
}

async fn control_phone(
    State(sim): State<Simulator>,
    request: Result<Json<PhoneBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let request = body(request)?;
    let code = sim.mint_phone_code(&request.phone)?;
    Ok(Json(json!({ "code": code })))
}

async fn control_busy(
    State(sim): State<Simulator>,
    request: Result<Json<BusyBody>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    sim.set_busy(body(request)?.calls);
    Ok(StatusCode::NO_CONTENT)
}

async fn control_douyin_busy(
    State(sim): State<Simulator>,
    request: Result<Json<BusyBody>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    sim.set_douyin_busy(body(request)?.calls);
    Ok(StatusCode::NO_CONTENT)
}
