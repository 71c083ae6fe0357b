//! Prometheus metrics, kept per server instance.
//!
//! Each [`Metrics`] owns its own `PrometheusRecorder` (built with
//! `build_recorder`, never installed as the process's global recorder) and
//! records through it with [`metrics::with_local_recorder`], so that several
//! servers in one process (the integration tests) keep separate counts. The
//! exporter's own HTTP listener is not built in: [`serve`] renders the
//! recorder on the `--metrics-listen` address, and without that flag nothing
//! is recorded at all.
//!
//! Every label value comes from a fixed set (a route template, a method, a
//! status, an outcome, a known WeChat errcode): nothing a client sends, and
//! no secret, becomes a label.
//!
//! | metric | labels |
//! | --- | --- |
//! | `miniauth_http_requests_total` | `method`, `route`, `status` |
//! | `miniauth_http_request_duration_seconds` (histogram) | `method`, `route` |
//! | `miniauth_session_refreshes_total` | `outcome` |
//! | `miniauth_codes_sent_total` | `channel`, `outcome` |
//! | `miniauth_wechat_errors_total` (WeChat's and Douyin's, by path) | `api`, `errcode` |

use super::error::AppError;
use crate::protocol::ApiErrorCode;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const REQUESTS: &str = "miniauth_http_requests_total";
const REQUEST_DURATION: &str = "miniauth_http_request_duration_seconds";
const REFRESHES: &str = "miniauth_session_refreshes_total";
const CODES_SENT: &str = "miniauth_codes_sent_total";
const WECHAT_ERRORS: &str = "miniauth_wechat_errors_total";

/// The `route` of requests that matched no route (a 404 from the fallback):
/// the raw path is the client's to choose, so it is never a label.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets, in seconds: from a cached lookup to a slow WeChat call.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes (they are kept one by one until then).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The metrics of one server: enabled (its own recorder) or disabled
/// (every call does nothing). Cheap to clone; clones share the recorder.
#[derive(Clone)]
pub struct Metrics(Option<Arc<PrometheusRecorder>>);

/// How a `POST /v1/session/refresh` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new pair was issued.
    Rotated,
    /// The token was rotated moments ago: the same new pair again.
    GraceReplay,
    /// A rotated token came back after the grace window: its family is
    /// revoked.
    ReuseDetected,
    /// Unknown, revoked or expired session, or rate limited.
    Refused,
}

impl RefreshOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rotated => "rotated",
            Self::GraceReplay => "grace_replay",
            Self::ReuseDetected => "reuse_detected",
            Self::Refused => "refused",
        }
    }
}

/// What the sender said about a one-time code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeSendOutcome {
    /// Delivered.
    Sent,
    /// It may or may not have gone out (a timeout).
    Unknown,
    /// It did not go out.
    NotSent,
}

impl CodeSendOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Unknown => "unknown",
            Self::NotSent => "not_sent",
        }
    }
}

impl Metrics {
    /// Metrics with a recorder of their own.
    pub fn enabled() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&DURATION_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!(REQUESTS, "HTTP requests answered, by route template, method and status.");
            metrics::describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "Time to answer an HTTP request (to its headers), by route template and method."
            );
            metrics::describe_counter!(REFRESHES, "Session refreshes, by outcome.");
            metrics::describe_counter!(CODES_SENT, "One-time codes handed to the sender, by channel and outcome.");
            metrics::describe_counter!(WECHAT_ERRORS, "WeChat API calls that failed, by API path and errcode.");
        });
        Self(Some(Arc::new(recorder)))
    }

    /// Metrics that record nothing (no `--metrics-listen`).
    pub fn disabled() -> Self {
        Self(None)
    }

    /// Whether anything is recorded.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The handle that renders what this recorder holds, for [`serve`];
    /// `None` when disabled.
    pub fn exporter(&self) -> Option<PrometheusHandle> {
        self.0.as_ref().map(|recorder| recorder.handle())
    }

    fn record(&self, record: impl FnOnce()) {
        if let Some(recorder) = &self.0 {
            metrics::with_local_recorder(recorder.as_ref(), record);
        }
    }

    /// One answered request: `route` is the matched route template, or
    /// [`UNMATCHED`].
    pub fn request(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        self.record(|| {
            let (method, route) = (method_label(method), route.to_owned());
            metrics::counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status.to_string())
                .increment(1);
            metrics::histogram!(REQUEST_DURATION, "method" => method, "route" => route).record(elapsed.as_secs_f64());
        });
    }

    /// One refresh and how it ended.
    pub fn refresh(&self, outcome: RefreshOutcome) {
        self.record(|| metrics::counter!(REFRESHES, "outcome" => outcome.as_str()).increment(1));
    }

    /// One one-time code handed to the sender, and what the sender said.
    pub fn code_sent(&self, channel: &'static str, outcome: CodeSendOutcome) {
        self.record(|| metrics::counter!(CODES_SENT, "channel" => channel, "outcome" => outcome.as_str()).increment(1));
    }

    /// One failed call to `api` (a path of WeChat's or Douyin's API, which
    /// tells the two apart): the `errcode` (`err_no`) the platform answered,
    /// or `None` when no answer of its API came back (transport failure,
    /// HTTP error, not its JSON).
    pub fn wechat_error(&self, api: &'static str, errcode: Option<i64>) {
        self.record(|| {
            metrics::counter!(WECHAT_ERRORS, "api" => api, "errcode" => errcode_label(errcode)).increment(1)
        });
    }
}

/// Methods outside this list (HTTP allows any token) share one label.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PATCH, "PATCH"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    KNOWN.iter().find(|(known, _)| known == method).map_or("other", |(_, label)| label)
}

/// WeChat's errcodes and Douyin's err_no that the clients know (see
/// `wechat::client` and `wechat::douyin`); any other is `other`, so that a
/// misbehaving upstream cannot grow the label set.
fn errcode_label(errcode: Option<i64>) -> &'static str {
    match errcode {
        None => "unavailable",
        Some(-1) => "-1",
        Some(40001) => "40001",
        Some(40013) => "40013",
        Some(40014) => "40014",
        Some(40015) => "40015",
        Some(40017) => "40017",
        Some(40018) => "40018",
        Some(40019) => "40019",
        Some(40029) => "40029",
        Some(40125) => "40125",
        Some(40163) => "40163",
        Some(40226) => "40226",
        Some(42001) => "42001",
        Some(45011) => "45011",
        Some(_) => "other",
    }
}

/// The middleware of the API router (`Router::layer`, so that axum has set
/// [`MatchedPath`] by the time it runs): counts and times every answer.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    if !metrics.is_enabled() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| UNMATCHED.to_owned(), |m| m.as_str().into());
    let response = next.run(request).await;
    metrics.request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// Serves `GET /metrics` (and nothing else) from `exporter` on `listener`
/// until `stop` completes, folding histogram samples in the meantime.
pub async fn serve(
    listener: TcpListener,
    exporter: PrometheusHandle,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let upkeep = {
        let exporter = exporter.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                tick.tick().await;
                exporter.run_upkeep();
            }
        })
    };
    let router = Router::new()
        .route("/metrics", get(render))
        .fallback(|| async { AppError::new(ApiErrorCode::NotFound, "only /metrics is served here") })
        .with_state(exporter);
    let served = axum::serve(listener, router).with_graceful_shutdown(stop).await;
    upkeep.abort();
    served
}

async fn render(State(exporter): State<PrometheusHandle>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], exporter.render()).into_response()
}
