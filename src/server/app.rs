//! The application: its shared state, the one router, and the OpenAPI
//! document generated from the handlers.

use super::binding::Mode;
use super::chat::deliveries::Deliveries;
use super::clock::{Clock, Millis};
use super::codes::{Budgets, Outbox, Sender, SmsCountries};
use super::db::Db;
use super::error::{status_of, AppError};
use super::handlers::{bind, bot, chat, discovery, health, login, outbox, rooms, signed_in, sim_chat};
use super::keys::KeyRing;
use super::ratelimit::RateLimiter;
use super::session_tokens::Sessions;
use super::telemetry::{self, Metrics};
use super::wechat::{DouyinClient, Simulator, WechatClient};
use crate::protocol::{self, ApiErrorCode};
use crate::verifier::Validation;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method};
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::sync::{Arc, RwLock};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Everything handlers share.
pub struct App {
    /// The write pool and the read pool over the one SQLite file; see [`Db`]
    /// for which to use.
    pub db: Db,
    /// Where every time rule reads now: the system clock when served, a
    /// [`super::clock::ManualClock`] in tests.
    pub clock: Arc<dyn Clock>,
    /// The WeChat Mini Program this server serves.
    pub appid: String,
    /// Whether unbound identities may register.
    pub registration: Mode,
    /// How long a state token lets a bind complete, in milliseconds.
    pub state_token_ttl_ms: Millis,
    /// Token issuing and refresh.
    pub sessions: Sessions,
    /// What `/v1/userinfo` requires of an id_token.
    pub id_token_validation: Validation,
    /// WeChat's API (real or simulated).
    pub wechat: WechatClient,
    /// Douyin's API (real or simulated), when the server signs in with
    /// Douyin too.
    pub douyin: Option<DouyinClient>,
    /// Delivers one-time codes.
    pub sender: Arc<dyn Sender>,
    /// The bots' long-polls for what to deliver in chat.
    pub deliveries: Deliveries,
    /// How many codes may go out.
    pub code_budgets: Budgets,
    /// Where SMS codes may go.
    pub sms_countries: SmsCountries,
    /// The simulator's outbox, in simulator mode.
    pub outbox: Option<Arc<Outbox>>,
    /// The WeChat simulator, in simulator mode.
    pub simulator: Option<Simulator>,
    /// Which peers may name the client's address.
    pub proxies: super::client_ip::Proxies,
    /// Per-address and per-account request counts, checked by each handler.
    pub limits: RateLimiter,
    /// This server's own metrics (recording nothing without
    /// `--metrics-listen`).
    pub metrics: Metrics,
    /// The signing keys and the published key set; see [`App::keys`].
    pub(super) keys: RwLock<Arc<KeyRing>>,
}

/// The axum state of every handler: the one [`App`] that [`super::start`]
/// builds, shared.
pub type AppState = Arc<App>;

impl App {
    /// The keys as of now. Hold the snapshot for one request: a reload or
    /// rotation after the call replaces it, and does not change it.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the keys (after a rotation, or as retired keys age out).
    pub fn set_keys(&self, keys: Arc<KeyRing>) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }
}

/// The CORS policy for browser clients: the API's methods and headers for
/// the listed origins (`*` for any); no origin listed, no CORS headers.
pub fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        layer.allow_origin(AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok())))
    }
}

/// The router: every endpoint of the API in one place.
pub fn router(app: AppState, cors: CorsLayer) -> Router {
    let api = Router::new()
        .route("/v1/login/wechat", post(login::wechat))
        .route("/v1/login/wechat-phone", post(login::wechat_phone))
        .route("/v1/login/douyin", post(login::douyin))
        .route("/v1/login/chat", post(login::chat))
        .route("/v1/login/chat/poll", post(login::chat_poll))
        .route("/v1/verify-codes", post(bind::send_code))
        .route("/v1/bind/wechat-phone", post(bind::wechat_phone))
        .route("/v1/bind/verify-code", post(bind::verify_code))
        .route("/v1/bind/password", post(bind::password))
        .route("/v1/register", post(bind::register))
        .route("/v1/session/refresh", post(signed_in::refresh))
        .route("/v1/logout", post(signed_in::logout))
        .route(
            "/v1/userinfo",
            get(signed_in::userinfo).patch(signed_in::update_userinfo).post(signed_in::update_userinfo),
        )
        .route("/v1/chat-links", get(chat::list).post(chat::open))
        .route("/v1/chat-links/confirm", post(chat::confirm))
        .route("/v1/chat-links/{contact_id}", delete(chat::unlink))
        .route("/v1/bot/link-tickets", post(bot::link_ticket))
        .route("/v1/bot/contacts/{contact_id}", get(bot::contact))
        .route("/v1/bot/challenges", post(bot::challenge))
        .route("/v1/bot/deliveries", get(bot::deliveries))
        .route("/v1/bot/deliveries/{id}/ack", post(bot::ack))
        .route("/v1/bot/rooms", get(rooms::of_bot))
        .route(
            "/v1/bot/rooms/{id}",
            put(rooms::sync).layer(DefaultBodyLimit::max(rooms::MAX_SNAPSHOT_BYTES)).delete(rooms::leave),
        )
        .route("/v1/rooms/{id}", get(rooms::room))
        .route("/v1/rooms/{id}/members/{member_id}", get(rooms::member))
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/openapi.json", get(discovery::openapi))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    let mut router = api;
    if let Some(simulator) = &app.simulator {
        router = router
            .route("/sim/outbox", get(outbox::outbox))
            .route("/sim/chat/say", post(sim_chat::say))
            .merge(simulator.control_router())
            .nest(SIMULATED_WECHAT_PATH, simulator.wechat_router())
            .nest(SIMULATED_DOUYIN_PATH, simulator.douyin_router());
    }
    let metrics = app.metrics.clone();
    router
        .fallback(|| async { AppError::new(ApiErrorCode::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            AppError::new(ApiErrorCode::MethodNotAllowed, "this endpoint does not take that method")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        // Outermost, so that it times and counts what CORS answers too.
        .layer(axum::middleware::from_fn_with_state(metrics, telemetry::track))
        .with_state(app)
}

/// Where the built-in simulator serves WeChat's own API, so that the
/// server's WeChat client talks HTTP to it exactly as it would to WeChat.
pub const SIMULATED_WECHAT_PATH: &str = "/sim/wechat";

/// Where the built-in simulator serves Douyin's API, likewise.
pub const SIMULATED_DOUYIN_PATH: &str = "/sim/douyin";

/// The OpenAPI document, from the handlers' `#[utoipa::path]` and the
/// protocol types.
#[derive(OpenApi)]
#[openapi(
    info(title = "miniauth identity server", version = "1", description = "WeChat and Douyin Mini Program login, binding and sessions."),
    paths(
        login::wechat, login::wechat_phone, login::douyin, login::chat, login::chat_poll,
        bind::send_code, bind::wechat_phone, bind::verify_code, bind::password, bind::register,
        signed_in::refresh, signed_in::logout, signed_in::userinfo, signed_in::update_userinfo,
        discovery::jwks, discovery::openid_configuration,
        chat::open, chat::confirm, chat::list, chat::unlink,
        bot::link_ticket, bot::contact, bot::challenge, bot::deliveries, bot::ack,
        rooms::sync, rooms::leave, rooms::of_bot, rooms::room, rooms::member,
        health::healthz, health::readyz,
    ),
    components(schemas(
        protocol::CodeRequest, protocol::LoginResponse, protocol::Tokens, protocol::BindChallenge, protocol::BindFlow,
        protocol::Channel, protocol::VerifyCodeRequest, protocol::VerifyCodeSent, protocol::BindWechatPhoneRequest,
        protocol::BindVerifyCodeRequest, protocol::BindPasswordRequest, protocol::RegisterRequest,
        protocol::SessionRequest, protocol::UserInfo, protocol::ProfileUpdate, protocol::ErrorBody,
        protocol::ChatContact, protocol::LinkTicketRequest, protocol::LinkTicket, protocol::ChatLinkRequest,
        protocol::ChatLinkConfirm, protocol::ChatLink, protocol::Delivery, protocol::ChatLoginRequest,
        protocol::ChatLoginChallenge, protocol::ChatLoginPoll, protocol::ChatLoginWaiting,
        protocol::ChatChallengeRequest, protocol::ChatChallengeAnswer, protocol::RoomSnapshot, protocol::RoomMember,
        protocol::RoomSynced, protocol::Room, health::HealthStatus,
    )),
    modifiers(&BearerAuth, &BodyRefusals),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let bot_key = Http::builder().scheme(HttpAuthScheme::Bearer).description(Some("a bot key (mab_…)")).build();
        components.add_security_scheme("bot_key", SecurityScheme::Http(bot_key));
        let client =
            Http::builder().scheme(HttpAuthScheme::Bearer).description(Some("an API client secret (mac_…)")).build();
        components.add_security_scheme("client_secret", SecurityScheme::Http(client));
    }
}

/// The answers every endpoint with a body may give before its handler
/// runs ([`super::extract::ApiJson`]), added here once instead of on each.
struct BodyRefusals;

impl utoipa::Modify for BodyRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, ResponseBuilder};
        let refusal = |code: ApiErrorCode| {
            let body = Content::new(Some(Ref::from_schema_name("ErrorBody")));
            (
                status_of(code).as_u16().to_string(),
                ResponseBuilder::new().description(code.as_str()).content("application/json", body).build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.post, &mut item.patch, &mut item.put].into_iter().flatten() {
                if operation.request_body.is_some() {
                    for code in [ApiErrorCode::PayloadTooLarge, ApiErrorCode::UnsupportedMediaType] {
                        let (status, response) = refusal(code);
                        operation.responses.responses.insert(status, response.into());
                    }
                }
            }
        }
    }
}
