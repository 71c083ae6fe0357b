//! Binding an unbound WeChat identity (or chat contact): `POST /v1/verify-codes`,
//! `/v1/bind/wechat-phone`, `/v1/bind/verify-code`, `/v1/bind/password` and
//! `/v1/register`. Every bind spends its state token and answers SUCCESS.

use super::login::check_code;
use crate::protocol::{
    ApiErrorCode, BindFlow, BindPasswordRequest, BindVerifyCodeRequest, BindWechatPhoneRequest, Channel, ErrorBody,
    LoginResponse, RegisterRequest, Text, VerifyCodeRequest, VerifyCodeSent,
};
use crate::server::app::AppState;
use crate::server::binding::{self, Mode, Pending, Target};
use crate::server::chat::links;
use crate::server::codes::{self, Destination};
use crate::server::error::{AppError, AppResult};
use crate::server::extract::{ApiJson, ClientIp};
use crate::server::guesses::{self, Guess};
use crate::server::profile;
use crate::server::ratelimit::Scope;
use crate::server::session_tokens::Method;
use crate::server::users::{self, NewUser};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Sends a one-time code by SMS, email or, to the chat contact linked to
/// an existing user, in WeChat chat. The answer is the same whether or not
/// the account named for `wechat` exists or has a linked contact.
#[utoipa::path(
    post, path = "/v1/verify-codes", tag = "bind",
    request_body = VerifyCodeRequest,
    responses(
        (status = 202, description = "the code is on its way", body = VerifyCodeSent),
        (status = 400, description = "invalid_request, invalid_recipient, recipient_not_allowed, invalid_state_token, state_token_expired", body = ErrorBody),
        (status = 403, description = "flow_not_allowed", body = ErrorBody),
        (status = 429, description = "rate_limited, verify_code_too_frequent, verify_code_limit_reached", body = ErrorBody),
        (status = 502, description = "code_delivery_failed", body = ErrorBody),
    )
)]
pub async fn send_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<VerifyCodeRequest>,
) -> AppResult<(StatusCode, Json<VerifyCodeSent>)> {
    app.limits.check_ip(Scope::VerifyCode, &ip.to_string())?;
    let now = app.clock.now();
    let pending = binding::pending(&app.db.read, &request.state_token, flow_of(request.channel), now).await?;
    app.limits.check_account(Scope::VerifyCode, &pending.identity.key())?;
    let recipient = Recipient::of(&app, request.channel, &request.to).await?;
    codes::issue(&app, &pending.code_owner(), recipient.destination(), now).await?;
    Ok((StatusCode::ACCEPTED, Json(codes::sent())))
}

/// Binds with the phone number WeChat vouches for.
#[utoipa::path(
    post, path = "/v1/bind/wechat-phone", tag = "bind",
    request_body = BindWechatPhoneRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens", body = LoginResponse),
        (status = 400, description = "invalid_request, invalid_state_token, state_token_expired, wechat_code_invalid", body = ErrorBody),
        (status = 403, description = "flow_not_allowed (a chat sign-in has no Mini Program to ask)", body = ErrorBody),
        (status = 404, description = "user_not_found (SOCIAL_BIND)", body = ErrorBody),
        (status = 409, description = "already_bound", body = ErrorBody),
        (status = 429, description = "rate_limited, wechat_rate_limited", body = ErrorBody),
        (status = 502, description = "wechat_unavailable", body = ErrorBody),
        (status = 503, description = "wechat_busy", body = ErrorBody),
    )
)]
pub async fn wechat_phone(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<BindWechatPhoneRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Bind, &ip.to_string())?;
    check_code(&request.code)?;
    let pending = binding::pending(&app.db.read, &request.state_token, BindFlow::WechatPhone, app.clock.now()).await?;
    app.limits.check_account(Scope::Bind, &pending.identity.key())?;
    let phone = app.wechat.phone_number(&request.code).await?.phone_number;
    let existing = users::by_phone(&app.db.read, &phone).await?.map(|u| u.id);
    let target = target_for(&pending, existing, || NewUser { phone: Some(phone), ..NewUser::default() })?;
    finish(&app, &pending, target, Method::WechatPhone).await
}

/// Binds with a phone number or email address and the code sent to it.
#[utoipa::path(
    post, path = "/v1/bind/verify-code", tag = "bind",
    request_body = BindVerifyCodeRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens", body = LoginResponse),
        (status = 400, description = "invalid_request, invalid_recipient, invalid_state_token, state_token_expired, invalid_verify_code, verify_code_expired, verify_code_exhausted", body = ErrorBody),
        (status = 403, description = "flow_not_allowed", body = ErrorBody),
        (status = 404, description = "user_not_found (SOCIAL_BIND)", body = ErrorBody),
        (status = 409, description = "already_bound", body = ErrorBody),
        (status = 429, description = "rate_limited, too_many_failures", body = ErrorBody),
    )
)]
pub async fn verify_code(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<BindVerifyCodeRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Bind, &ip.to_string())?;
    let now = app.clock.now();
    let pending = binding::pending(&app.db.read, &request.state_token, flow_of(request.channel), now).await?;
    app.limits.check_account(Scope::Bind, &pending.identity.key())?;
    let recipient = Recipient::of(&app, request.channel, &request.to).await?;
    let destination = recipient.destination();
    let guess = Guess { target: Some(destination.key()), guesser: pending.identity.key(), source: Some(ip) };
    codes::redeem(&app.db.write, &pending.token_hash, destination, &request.code, &guess, now).await?;
    let (target, method) = match recipient {
        Recipient::Phone(phone) => {
            let existing = users::by_phone(&app.db.read, &phone).await?.map(|u| u.id);
            (target_for(&pending, existing, || NewUser { phone: Some(phone), ..NewUser::default() })?, Method::Sms)
        }
        Recipient::Email(email) => {
            let existing = users::by_email(&app.db.read, &email).await?.map(|u| u.id);
            (target_for(&pending, existing, || NewUser { email: Some(email), ..NewUser::default() })?, Method::Email)
        }
        Recipient::Contact { user_id, .. } => (Target::Existing(user_id), Method::Chat),
        // Nobody got that code: a right guess of it still finds no user.
        Recipient::Nobody(_) => return Err(no_user()),
    };
    finish(&app, &pending, target, method).await
}

/// Binds to an existing user by username and password (SOCIAL_BIND only).
#[utoipa::path(
    post, path = "/v1/bind/password", tag = "bind",
    request_body = BindPasswordRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens", body = LoginResponse),
        (status = 400, description = "invalid_request, invalid_state_token, state_token_expired", body = ErrorBody),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 403, description = "flow_not_allowed", body = ErrorBody),
        (status = 409, description = "already_bound", body = ErrorBody),
        (status = 429, description = "rate_limited, too_many_failures", body = ErrorBody),
    )
)]
pub async fn password(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<BindPasswordRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Bind, &ip.to_string())?;
    let now = app.clock.now();
    let pending = binding::pending(&app.db.read, &request.state_token, BindFlow::Password, now).await?;
    app.limits.check_account(Scope::Bind, &pending.identity.key())?;
    let guess = Guess {
        target: Some(format!("username:{}", &*request.username)),
        guesser: pending.identity.key(),
        source: Some(ip),
    };
    let attempt = guesses::begin(&app.db.write, &guess, now).await?;
    let found = users::by_username(&app.db.read, &request.username).await?;
    let hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    // argon2 is slow on purpose: off the async workers.
    let password = request.password.into_string();
    let matches = tokio::task::spawn_blocking(move || users::verify_password(&password, hash.as_deref()))
        .await
        .map_err(AppError::internal)?;
    let user = match found {
        Some((user, _)) if matches => user,
        _ => return Err(AppError::new(ApiErrorCode::InvalidCredentials, "wrong username or password")),
    };
    attempt.forgive(&app.db.write).await?;
    finish(&app, &pending, Target::Existing(user.id), Method::Password).await
}

/// Registers a new user for the WeChat identity (USER_REGISTER only).
#[utoipa::path(
    post, path = "/v1/register", tag = "bind",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "SUCCESS with tokens", body = LoginResponse),
        (status = 400, description = "invalid_request, invalid_state_token, state_token_expired", body = ErrorBody),
        (status = 403, description = "flow_not_allowed", body = ErrorBody),
        (status = 409, description = "already_bound (the WeChat identity was bound meanwhile)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    )
)]
pub async fn register(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> AppResult<Json<LoginResponse>> {
    app.limits.check_ip(Scope::Bind, &ip.to_string())?;
    let name = request.name.map(|name| profile::display_text(&name, "name")).transpose()?;
    let pending = binding::pending(&app.db.read, &request.state_token, BindFlow::Register, app.clock.now()).await?;
    let new = NewUser { name: name.map(Text::into_string), ..NewUser::default() };
    finish(&app, &pending, Target::New(new), pending.identity.method()).await
}

fn flow_of(channel: Channel) -> BindFlow {
    match channel {
        Channel::Sms => BindFlow::SmsCode,
        Channel::Email => BindFlow::EmailCode,
        Channel::Wechat => BindFlow::WechatCode,
    }
}

/// Whom a bind's code goes to: a phone number or email address, or (the
/// `wechat` channel) the chat contact linked to the user an account name
/// names.
enum Recipient {
    Phone(String),
    Email(String),
    Contact {
        user_id: String,
        bot_id: String,
        contact_id: String,
    },
    /// No user by that name, or none with a contact at a current bot.
    Nobody(String),
}

impl Recipient {
    /// The recipient `to` names on `channel`, normalised.
    async fn of(app: &AppState, channel: Channel, to: &str) -> AppResult<Self> {
        let to = codes::normalize_recipient(channel, to)?;
        app.sms_countries.check(channel, &to)?;
        match channel {
            Channel::Sms => return Ok(Self::Phone(to)),
            Channel::Email => return Ok(Self::Email(to)),
            Channel::Wechat => {}
        }
        let Some(user) = users::by_account(&app.db.read, &to).await? else { return Ok(Self::Nobody(to)) };
        Ok(match links::reachable_contact(&app.db.read, &user.id).await? {
            Some((bot_id, contact_id)) => Self::Contact { user_id: user.id, bot_id, contact_id },
            None => Self::Nobody(to),
        })
    }

    fn destination(&self) -> Destination<'_> {
        match self {
            Self::Phone(phone) => Destination::Address(Channel::Sms, phone),
            Self::Email(email) => Destination::Address(Channel::Email, email),
            Self::Contact { bot_id, contact_id, .. } => Destination::Chat { bot_id, contact_id },
            Self::Nobody(account) => Destination::Nobody { account },
        }
    }
}

fn no_user() -> AppError {
    AppError::new(ApiErrorCode::UserNotFound, "no user has this phone number or email")
}

/// The existing user, or (USER_REGISTER) a new one; SOCIAL_BIND needs an
/// existing user.
fn target_for(pending: &Pending, existing: Option<String>, new: impl FnOnce() -> NewUser) -> AppResult<Target> {
    match (existing, pending.mode) {
        (Some(id), _) => Ok(Target::Existing(id)),
        (None, Mode::UserRegister) => Ok(Target::New(new())),
        (None, Mode::SocialBind) => Err(no_user()),
    }
}

async fn finish(app: &AppState, pending: &Pending, target: Target, method: Method) -> AppResult<Json<LoginResponse>> {
    let now = app.clock.now();
    let user_id = binding::complete(&app.db.write, pending, target, now).await?;
    // A chat contact's bind linked it: its bot hears of it.
    app.deliveries.wake();
    let user = users::by_id(&app.db.read, &user_id).await?.ok_or_else(|| AppError::internal("bound user vanished"))?;
    // The login (WeChat, or a chat contact) always came first; a second
    // method is added when the bind proved something more (a phone, an
    // email, a password).
    let first = pending.identity.method();
    let methods: &[Method] = if method == first { &[first] } else { &[first, method] };
    let tokens = app.sessions.start(&app.db, &app.keys(), &user, methods, now).await?;
    Ok(Json(LoginResponse::Success(tokens)))
}
