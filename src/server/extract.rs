//! Request extractors that fail with the API's JSON errors instead of axum's
//! plain-text rejections.

use super::error::AppError;
use crate::protocol::ApiErrorCode;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON body; malformed input is `400 invalid_request`, an oversized one
/// `413 payload_too_large`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::BytesRejection(rejection)) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(ApiErrorCode::PayloadTooLarge, "the body is too large"))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::invalid_request("the body must be JSON (Content-Type: application/json)"))
            }
            Err(rejection) => Err(AppError::invalid_request(format!("invalid JSON body: {}", rejection.body_text()))),
        }
    }
}

/// A query string; a malformed or incomplete one is `400 invalid_request`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::invalid_request(format!("invalid query: {}", rejection.body_text()))),
        }
    }
}

/// The client's address, for per-address rate limits.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| Self(info.0.ip()))
            .ok_or_else(|| AppError::internal("no peer address on the connection"))
    }
}

/// The token of an `Authorization: Bearer` header.
pub struct Bearer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let unauthorized = || AppError::new(ApiErrorCode::Unauthorized, "a Bearer id_token is required");
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(unauthorized)?;
        let value = value.to_str().map_err(|_| unauthorized())?;
        let (scheme, token) = value.split_once(' ').ok_or_else(unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(unauthorized());
        }
        Ok(Self(token.trim().to_string()))
    }
}
