//! One error type for every handler; `IntoResponse` turns it into the API's
//! `{"error", "message"}` body with the status its code maps to here, and
//! only here. Messages are written for the client and never carry secrets.

use crate::protocol::{ApiErrorCode, ErrorBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::borrow::Cow;

/// Why a request failed: an [`ApiErrorCode`], which alone decides the
/// status, a message for the client, and `Retry-After` for 429s.
#[derive(Debug)]
pub struct AppError {
    code: ApiErrorCode,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
}

impl AppError {
    /// An error with its stable code and message.
    pub fn new(code: ApiErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ApiErrorCode::InvalidRequest, message)
    }

    /// `code` with `Retry-After`, for the codes that answer 429.
    pub fn too_many(code: ApiErrorCode, message: impl Into<Cow<'static, str>>, retry_after_secs: u64) -> Self {
        debug_assert_eq!(status_of(code), StatusCode::TOO_MANY_REQUESTS);
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(code, message) }
    }

    /// 401 `invalid_session`.
    pub fn invalid_session(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ApiErrorCode::InvalidSession, message)
    }

    /// 500 `internal_error`. The cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(ApiErrorCode::Internal, "internal error")
    }

    /// The code the body's `error` carries.
    pub fn code(&self) -> ApiErrorCode {
        self.code
    }

    /// The status the answer will have, as [`status_of`] maps the code.
    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(format_args!("database: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.as_str().into(), message: self.message.into_owned() };
        let mut response = (status_of(self.code), Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Handler results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The answer to a failed call to `provider`'s API. The codes are the
    /// same for every platform (`wechat_code_invalid` for Douyin's wrong
    /// code too); the message names the platform.
    pub fn upstream(provider: super::wechat::Provider, error: super::wechat::ProviderError) -> Self {
        use super::wechat::ProviderError;
        let name = provider.name();
        match error {
            ProviderError::InvalidCode => Self::new(
                ApiErrorCode::WechatCodeInvalid,
                format!("the {name} code is invalid, expired or already used"),
            ),
            ProviderError::RateLimited => Self::too_many(
                ApiErrorCode::WechatRateLimited,
                format!("{name} refused: too many logins for this user"),
                60,
            ),
            ProviderError::Busy => Self::new(ApiErrorCode::WechatBusy, format!("{name} is busy; try again")),
            other => {
                tracing::error!(error = %other, "{name} call failed");
                Self::new(ApiErrorCode::WechatUnavailable, format!("{name} could not be reached"))
            }
        }
    }
}

/// A failed WeChat call (`?` in the WeChat handlers).
impl From<super::wechat::ProviderError> for AppError {
    fn from(error: super::wechat::ProviderError) -> Self {
        Self::upstream(super::wechat::Provider::Wechat, error)
    }
}

/// The HTTP status of each code: the one place it is decided.
pub fn status_of(code: ApiErrorCode) -> StatusCode {
    use ApiErrorCode::*;
    match code {
        InvalidRequest | WechatCodeInvalid | InvalidStateToken | StateTokenExpired | InvalidRecipient
        | InvalidVerifyCode | VerifyCodeExpired | VerifyCodeExhausted | RecipientNotAllowed | InvalidTicket => {
            StatusCode::BAD_REQUEST
        }
        Unauthorized | InvalidCredentials | InvalidSession => StatusCode::UNAUTHORIZED,
        FlowNotAllowed | InsufficientScope => StatusCode::FORBIDDEN,
        NotFound | UserNotFound | ProviderNotConfigured => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        AlreadyBound => StatusCode::CONFLICT,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        RateLimited | WechatRateLimited | VerifyCodeTooFrequent | VerifyCodeLimitReached | TooManyFailures => {
            StatusCode::TOO_MANY_REQUESTS
        }
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        WechatUnavailable | CodeDeliveryFailed => StatusCode::BAD_GATEWAY,
        WechatBusy | NotReady => StatusCode::SERVICE_UNAVAILABLE,
    }
}
