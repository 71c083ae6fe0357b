//! One caller for every platform API call, WeChat's and Douyin's: the HTTP
//! client (a time limit on the whole call, no redirects), the size limit on
//! the answer, the JSON reading, the `debug` log line of each answer (the
//! path and the error number only) and the count of failed calls.
//!
//! Secrets (an AppSecret, an access token) may travel in a query string, so
//! no URL is ever logged or put in an error (`reqwest::Error::without_url`).

use super::{Provider, ProviderError};
use crate::server::telemetry::Metrics;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::Duration;

/// The longest a whole call may take, answer included.
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);
/// The platforms' answers are a few hundred bytes; anything past this is
/// not their API.
pub(super) const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// An error text (`errmsg`, `err_tips`) is the platform's; it is cut to
/// this many characters in errors.
const MAX_ERRMSG_CHARS: usize = 200;

/// Where and how calls to one platform go.
pub(super) struct Upstream {
    provider: Provider,
    /// Either the HTTP client, or why none could be built (every call then
    /// answers [`ProviderError::Unavailable`]).
    http: Result<reqwest::Client, String>,
    /// The base URL without a trailing `/`.
    base: String,
    /// Counts failed calls by error number.
    metrics: Metrics,
}

impl Upstream {
    /// Calls to `provider`'s API at `base_url`, each within `timeout`.
    pub(super) fn new(provider: Provider, base_url: &str, metrics: Metrics, timeout: Duration) -> Self {
        // Secrets may travel in the query string: the shared client follows
        // no redirects.
        let http = crate::server::http_client(timeout);
        Self { provider, http, base: base_url.trim_end_matches('/').to_owned(), metrics }
    }

    /// Whether an HTTP client could be built, for `Debug`.
    pub(super) fn ready(&self) -> bool {
        self.http.is_ok()
    }

    /// The HTTP client.
    pub(super) fn http(&self) -> Result<&reqwest::Client, ProviderError> {
        self.http.as_ref().map_err(|why| ProviderError::Unavailable(why.clone()))
    }

    /// The URL of `path` with `query`.
    pub(super) fn url(&self, path: &'static str, query: &[(&str, &str)]) -> Result<reqwest::Url, ProviderError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|_| {
            ProviderError::Unavailable(format!("the {} base URL {:?} is not a URL", self.provider, self.base))
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends `request` and reads the platform's JSON answer (any status but
    /// 2xx, a body that is not JSON, or a transport failure is
    /// `Unavailable`). Answers with an error number, and failures, are
    /// counted.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        path: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let result = async {
            let mut response = request.send().await.map_err(|error| transport_error(path, error))?;
            let status = response.status();
            if !status.is_success() {
                return Err(ProviderError::Unavailable(format!("{path}: HTTP {status}")));
            }
            if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES as u64) {
                return Err(too_large(path));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|error| transport_error(path, error))? {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(too_large(path));
                }
                body.extend_from_slice(&chunk);
            }
            let not_json = || ProviderError::Unavailable(format!("{path}: the answer is not {}'s JSON", self.provider));
            let numbers = serde_json::from_slice::<ErrorNumbers>(&body).map_err(|_| not_json())?;
            let errcode = match self.provider {
                Provider::Wechat => numbers.errcode,
                Provider::Douyin => numbers.err_no,
            };
            tracing::debug!(path, errcode, "{} answered", self.provider);
            let answer = serde_json::from_slice::<T>(&body).map_err(|_| not_json())?;
            Ok((errcode, answer))
        }
        .await;
        match &result {
            Ok((0, _)) => {}
            Ok((errcode, _)) => self.metrics.wechat_error(path, Some(*errcode)),
            Err(error) => {
                if let ProviderError::Unavailable(why) = error {
                    tracing::debug!(path, error = %why, "{} call failed", self.provider);
                }
                self.metrics.wechat_error(path, None);
            }
        }
        result.map(|(_, answer)| answer)
    }
}

/// Enough of any answer to log its error number: WeChat's `errcode`
/// (absent on success), Douyin's `err_no`.
#[derive(Deserialize)]
struct ErrorNumbers {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    err_no: i64,
}

/// The platform's error text, cut for an error.
pub(super) fn cut(errmsg: &str) -> String {
    errmsg.chars().take(MAX_ERRMSG_CHARS).collect()
}

fn transport_error(path: &str, error: reqwest::Error) -> ProviderError {
    // `without_url`: the URL may hold the secret or the access token.
    let error = error.without_url();
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The innermost cause ("Connection refused", a DNS failure...) names no URL.
    let mut cause: &dyn std::error::Error = &error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    ProviderError::Unavailable(format!("{path}: {what}: {cause}"))
}

fn too_large(path: &str) -> ProviderError {
    ProviderError::Unavailable(format!("{path}: the answer is larger than {MAX_ANSWER_BYTES} bytes"))
}
