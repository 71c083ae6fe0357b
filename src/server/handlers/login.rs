//! Code login at either Mini Program platform, `POST /v1/login/wechat` and
//! `POST /v1/login/douyin` (one flow, `code_login`), `POST
//! /v1/login/wechat-phone`, and chat sign-in for the web: `POST
//! /v1/login/chat` and `POST /v1/login/chat/poll`.

use crate::protocol::{
    ApiErrorCode, ChatLoginChallenge, ChatLoginPoll, ChatLoginRequest, ChatLoginWaiting, CodeRequest, ErrorBody,
    LoginResponse,
};
use crate::server::app::AppState;
use crate::server::binding::{self, Identity, Mode};
use crate::server::chat::logins::{self, Polled};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ClientIp};
use crate::server::ratelimit::Scope;
use crate::server::session_tokens::Method;
use crate::server::users::{self, MiniProgramIdentity, NewUser};
use crate::server::wechat::Provider;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::IpAddr;

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
    code_login(&app, ip, Provider::Wechat, &request.code).await
}

/// Logs in with a `tt.login()` code from a Douyin Mini Program: the same
/// answers as `/v1/login/wechat`, and the same binds.
#[utoipa::path(
    post, path = "/v1/login/douyin", tag = "login",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens, or SOCIAL_BIND / USER_REGISTER with a state token", body = LoginResponse),
        (status = 400, description = "invalid_request, wechat_code_invalid (Douyin's code is invalid, expired or used)", body = ErrorBody),
        (status = 404, description = "provider_not_configured: this server has no Douyin credentials", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 502, description = "wechat_unavailable (Douyin could not be reached or refused this server's credentials)", body = ErrorBody),
        (status = 503, description = "wechat_busy (Douyin's -1)", body = ErrorBody),
    )
)]
pub async fn douyin(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<CodeRequest>,
) -> AppResult<Json<LoginResponse>> {
    code_login(&app, ip, Provider::Douyin, &request.code).await
}

/// A code login at `provider`: the code is exchanged for the user's
/// identity, which signs in the user it is bound to, or gets a state token
/// for a bind. The rate limits are the same for every platform.
async fn code_login(app: &AppState, ip: IpAddr, provider: Provider, code: &str) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Login, &ip.to_string())?;
    check_code(code)?;
    let identity = exchange(app, provider, code).await?;
    app.limits.check_account(Scope::Login, &identity.key())?;
    let now = app.clock.now();
    if let Some(user) = users::by_mini_program(&app.db, &identity, now).await? {
        let tokens = app.sessions.start(&app.db, &app.keys(), &user, &[Method::login(provider)], now).await?;
        return Ok(Json(LoginResponse::Success(tokens)));
    }
    let identity = Identity::MiniProgram(identity);
    let challenge = binding::challenge(&app.db.write, &identity, app.registration, app.state_token_ttl_ms, now).await?;
    Ok(Json(app.registration.answer(challenge)))
}

/// The identity behind a login code, from `provider`'s code exchange. The
/// session key stays here: it is never stored, logged or answered.
async fn exchange(app: &AppState, provider: Provider, code: &str) -> AppResult<MiniProgramIdentity> {
    let (appid, session) = match provider {
        Provider::Wechat => (app.appid.as_str(), app.wechat.code_to_session(code).await),
        Provider::Douyin => {
            let Some(douyin) = &app.douyin else {
                return Err(AppError::new(
                    ApiErrorCode::ProviderNotConfigured,
                    "this server does not sign in with Douyin (it has no Douyin credentials)",
                ));
            };
            (douyin.appid(), douyin.code_to_session(code).await)
        }
    };
    let session = session.map_err(|error| AppError::upstream(provider, error))?;
    Ok(MiniProgramIdentity { provider, appid: appid.to_owned(), openid: session.openid, unionid: session.unionid })
}

/// Starts a chat sign-in (the web, where there is no `wx.login`): show the
/// challenge; the person sends it to the bot in WeChat.
#[utoipa::path(
    post, path = "/v1/login/chat", tag = "login",
    request_body = ChatLoginRequest,
    responses(
        (status = 200, description = "the challenge to show, and the state token to poll with", body = ChatLoginChallenge),
        (status = 400, description = "invalid_request: no such bot", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn chat(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<ChatLoginRequest>,
) -> AppResult<Json<ChatLoginChallenge>> {
    app.limits.check_ip(Scope::Login, &ip.to_string())?;
    Ok(Json(logins::start(&app, request.bot.as_deref(), app.clock.now()).await?))
}

/// The outcome of a chat sign-in: pending (202) until the challenge arrives
/// in chat, then, once, SUCCESS (a linked contact) or SOCIAL_BIND /
/// USER_REGISTER with a state token to bind the contact.
#[utoipa::path(
    post, path = "/v1/login/chat/poll", tag = "login",
    request_body = ChatLoginPoll,
    responses(
        (status = 200, description = "SUCCESS with tokens, or SOCIAL_BIND / USER_REGISTER with a state token", body = LoginResponse),
        (status = 202, description = "PENDING: poll again", body = ChatLoginWaiting),
        (status = 400, description = "invalid_request, invalid_state_token, state_token_expired", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn chat_poll(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<ChatLoginPoll>,
) -> AppResult<Response> {
    app.limits.check_ip(Scope::Refresh, &ip.to_string())?;
    Ok(match logins::poll(&app, &request.state_token, app.clock.now()).await? {
        Polled::Pending(expires_in) => {
            (StatusCode::ACCEPTED, Json(ChatLoginWaiting::Pending { expires_in })).into_response()
        }
        Polled::Done(answer) => Json(answer).into_response(),
    })
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
    let tokens = app.sessions.start(&app.db, &app.keys(), &user, &[Method::WechatPhone], now).await?;
    Ok(Json(LoginResponse::Success(tokens)))
}

/// WeChat's and Douyin's codes are printable tokens (their length is
/// bounded by the request type); anything else is refused before it
/// reaches the platform.
pub(super) fn check_code(code: &str) -> AppResult<()> {
    if !code.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid_request("\"code\" must be the code the platform gave the Mini Program"));
    }
    Ok(())
}
