//! One error type for every handler; `IntoResponse` turns it into the API's
//! `{"error", "message"}` body with a fitting status. Messages are written
//! for the client and never carry secrets.

use crate::protocol::{error_code, ErrorBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::borrow::Cow;

/// A failed request.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
}

impl AppError {
    /// An error with its status, stable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error_code::INVALID_REQUEST, message)
    }

    /// 429 `rate_limited` (or another code) with `Retry-After`.
    pub fn too_many(code: &'static str, message: impl Into<Cow<'static, str>>, retry_after_secs: u64) -> Self {
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message) }
    }

    /// 401 `invalid_session`.
    pub fn invalid_session(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error_code::INVALID_SESSION, message)
    }

    /// 500 `internal_error`. The cause goes to the log, not to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, error_code::INTERNAL, "internal error")
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(format_args!("database: {error}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.into(), message: self.message.into_owned() };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Handler results.
pub type AppResult<T> = Result<T, AppError>;

impl From<super::wechat::WechatError> for AppError {
    fn from(error: super::wechat::WechatError) -> Self {
        use super::wechat::WechatError;
        match error {
            WechatError::InvalidCode => Self::new(
                StatusCode::BAD_REQUEST,
                error_code::WECHAT_CODE_INVALID,
                "the WeChat code is invalid, expired or already used",
            ),
            WechatError::RateLimited => {
                Self::too_many(error_code::WECHAT_RATE_LIMITED, "WeChat refused: too many logins for this user", 60)
            }
            WechatError::Busy => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, error_code::WECHAT_BUSY, "WeChat is busy; try again")
            }
            other => {
                tracing::error!(error = %other, "WeChat call failed");
                Self::new(StatusCode::BAD_GATEWAY, error_code::WECHAT_UNAVAILABLE, "WeChat could not be reached")
            }
        }
    }
}
