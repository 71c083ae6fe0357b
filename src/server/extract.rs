//! Request extractors that fail with the API's JSON errors instead of axum's
//! plain-text rejections.

use super::app::AppState;
use super::chat::bots::{self, Bot};
use super::error::AppError;
use crate::protocol::ApiErrorCode;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON object body. A body not sent as JSON is `415
/// unsupported_media_type`, JSON that is not the object this endpoint takes
/// `400 invalid_request` (an array in place of the object too, which serde
/// would read field by field), an oversized one `413 payload_too_large`. Messages name the fields, never
/// the Rust types behind them.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::new(
                ApiErrorCode::UnsupportedMediaType,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::new(ApiErrorCode::PayloadTooLarge, "the body is too large"))
            }
            Err(_) => return Err(AppError::invalid_request("the body could not be read")),
        };
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(AppError::invalid_request("the body must be a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|error| AppError::invalid_request(format!("invalid JSON body: {error}")))
    }
}

/// `Content-Type: application/json`, with parameters or as `…+json`.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
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

/// A path parameter; one that does not decode is `400 invalid_request`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::invalid_request(format!("invalid path: {}", rejection.body_text()))),
        }
    }
}

/// The client's address, for per-address limits: the peer's, or what a
/// trusted proxy says it is ([`super::client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .ok_or_else(|| AppError::internal("no peer address on the connection"))?
            .0
            .ip();
        Ok(Self(app.proxies.client(peer, &parts.headers)))
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

/// The bot whose current key is in `Authorization: Bearer`.
pub struct BotKey(pub Bot);

impl FromRequestParts<AppState> for BotKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(key) = Bearer::from_request_parts(parts, app)
            .await
            .map_err(|_| AppError::new(ApiErrorCode::Unauthorized, "a current bot key is required"))?;
        Ok(Self(bots::authenticate(&app.db.read, &key).await?))
    }
}
