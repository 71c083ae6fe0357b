//! `GET /.well-known/jwks.json`, `GET /.well-known/openid-configuration` and
//! `GET /openapi.json`.

use crate::server::app::{ApiDoc, AppState};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa::OpenApi;

/// How long verifiers may cache the key set. Rotation keeps old keys
/// published for longer than this.
const JWKS_MAX_AGE: &str = "public, max-age=300";

/// The JWK Set of the signing keys: the active one and retired ones whose
/// id_tokens may still be unexpired. Cacheable for five minutes.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery",
    responses((status = 200, description = "JWK Set of the active and recently retired signing keys", content_type = "application/json")))]
pub async fn jwks(State(app): State<AppState>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], app.keys().jwks_json.clone()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(JWKS_MAX_AGE));
    response
}

/// OpenID Provider metadata, as far as it applies to this server.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery",
    responses((status = 200, description = "discovery document", content_type = "application/json")))]
pub async fn openid_configuration(State(app): State<AppState>) -> Json<Value> {
    let issuer = &app.sessions.settings().issuer;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "userinfo_endpoint": format!("{issuer}/v1/userinfo"),
        "id_token_signing_alg_values_supported": [format!("{:?}", app.keys().active.alg)],
        "subject_types_supported": ["public"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "name", "preferred_username",
            "phone_number", "phone_number_verified", "email", "email_verified", "nickname", "picture", "gender",
            "birthdate", "locale"],
    }))
}

/// This API's OpenAPI document, generated from the handlers' own types.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
