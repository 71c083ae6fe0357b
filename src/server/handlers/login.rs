//! `POST /v1/login/wechat` and `POST /v1/login/wechat-phone`.

use crate::protocol::{ApiErrorCode, CodeRequest, ErrorBody, LoginResponse};
use crate::server::app::AppState;
use crate::server::binding::{self, Mode};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ClientIp};
use crate::server::ratelimit::Scope;
use crate::server::session_tokens::Method;
use crate::server::users::{self, NewUser, WechatIdentity};
use axum::extract::State;
use axum::Json;

/// Logs in with a `wx.login()` code.
#[utoipa::path(
    post, path = "/v1/login/wechat", tag = "login",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens, or SOCIAL_BIND / USER_REGISTER with a state token", body = LoginResponse),
        (status = 400, description = "invalid_request, wechat_code_invalid", body = ErrorBody),
        (status = 429, description = "rate_limited, wechat_rate_limited", body = ErrorBody),
        (status = 502, description = "wechat_unavailable", body = ErrorBody),
        (status = 503, description = "wechat_busy", body = ErrorBody),
    )
)]
pub async fn wechat(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<CodeRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Login, &ip.to_string())?;
    check_code(&request.code)?;
    let session = app.wechat.code_to_session(&request.code).await?;
    // session.session_key stays here: it is never stored, logged or answered.
    let identity = WechatIdentity { appid: app.appid.clone(), openid: session.openid, unionid: session.unionid };
    app.limits.check_account(Scope::Login, &identity.openid)?;
    let now = app.clock.now();
    if let Some(user) = users::by_wechat(&app.db, &identity, now).await? {
        let tokens = app.sessions.start(&app.db.write, &app.keys(), &user, &[Method::Wechat], now).await?;
        return Ok(Json(LoginResponse::Success(tokens)));
    }
    let challenge = binding::challenge(&app.db.write, &identity, app.registration, app.state_token_ttl_ms, now).await?;
    Ok(Json(match app.registration {
        Mode::SocialBind => LoginResponse::SocialBind(challenge),
        Mode::UserRegister => LoginResponse::UserRegister(challenge),
    }))
}

/// Logs in with a `getPhoneNumber` code: the user who owns the number, or
/// (registration open) a new user with it.
#[utoipa::path(
    post, path = "/v1/login/wechat-phone", tag = "login",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens", body = LoginResponse),
        (status = 400, description = "invalid_request, wechat_code_invalid", body = ErrorBody),
        (status = 404, description = "user_not_found (registration closed)", body = ErrorBody),
        (status = 429, description = "rate_limited, wechat_rate_limited", body = ErrorBody),
        (status = 502, description = "wechat_unavailable", body = ErrorBody),
        (status = 503, description = "wechat_busy", body = ErrorBody),
    )
)]
pub async fn wechat_phone(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<CodeRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Login, &ip.to_string())?;
    check_code(&request.code)?;
    let phone = app.wechat.phone_number(&request.code).await?.phone_number;
    app.limits.check_account(Scope::Login, &phone)?;
    let now = app.clock.now();
    let user = match users::by_phone(&app.db.read, &phone).await? {
        Some(user) => user,
        None if app.registration == Mode::UserRegister => {
            let id = users::create(&app.db.write, NewUser { phone: Some(phone), ..NewUser::default() }, now).await?;
            users::by_id(&app.db.read, &id).await?.ok_or_else(|| AppError::internal("new user vanished"))?
        }
        None => return Err(AppError::new(ApiErrorCode::UserNotFound, "no user has this phone number")),
    };
    let tokens = app.sessions.start(&app.db.write, &app.keys(), &user, &[Method::WechatPhone], now).await?;
    Ok(Json(LoginResponse::Success(tokens)))
}

/// WeChat codes are printable tokens (their length is bounded by the
/// request type); anything else is refused before it reaches WeChat.
pub(super) fn check_code(code: &str) -> AppResult<()> {
    if !code.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid_request("\"code\" must be the code WeChat gave the Mini Program"));
    }
    Ok(())
}
