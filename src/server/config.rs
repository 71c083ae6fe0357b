//! Configuration of `miniauth serve`, from flags or environment variables.

use super::binding::Mode;
use super::client_ip::{Cidr, ProxyHeader};
use super::db::Location;
use super::keys::SigningAlgorithm;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of the identity server. Not `Debug`: it holds the platforms'
/// secrets, which no log may show.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Address to listen on. Loopback by default; put a TLS-terminating proxy
    /// in front for anything else.
    #[arg(long, env = "MINIAUTH_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// The database, migrated on start: an SQLite file (created if missing,
    /// WAL mode), or `postgres://user:password@host/db` for several
    /// instances (prefer the environment variable for a password: flags show
    /// up in process lists).
    #[arg(long, env = "MINIAUTH_DATABASE", default_value = "miniauth.db", hide_env_values = true)]
    pub database: Location,

    /// `iss` of id_tokens and base of the discovery URLs, without a trailing
    /// `/` (one is dropped). Default: `http://<listen address>`.
    #[arg(long, env = "MINIAUTH_ISSUER")]
    pub issuer: Option<String>,

    /// `aud` of id_tokens. Default: the Mini Program's AppID.
    #[arg(long, env = "MINIAUTH_AUDIENCE")]
    pub audience: Option<String>,

    /// Run the built-in WeChat simulator instead of WeChat (and of Douyin),
    /// for local use and tests: anyone can then mint a login or phone code
    /// for any user, and read every one-time code at /sim/outbox. Without it
    /// the server needs WECHAT_APPID and WECHAT_SECRET.
    #[arg(
        long,
        env = "MINIAUTH_SIMULATOR",
        conflicts_with_all = ["wechat_appid", "wechat_secret", "douyin_appid", "douyin_secret"]
    )]
    pub simulator: bool,

    /// Let the simulator listen on an address other than loopback.
    #[arg(long, env = "MINIAUTH_SIMULATOR_PUBLIC", requires = "simulator")]
    pub simulator_public: bool,

    /// The Mini Program's AppID.
    #[arg(long, env = "WECHAT_APPID", requires = "wechat_secret")]
    pub wechat_appid: Option<String>,

    /// The Mini Program's AppSecret (prefer the environment variable: flags
    /// show up in process lists).
    #[arg(long, env = "WECHAT_SECRET", hide_env_values = true, requires = "wechat_appid")]
    pub wechat_secret: Option<String>,

    /// Base URL of WeChat's API (for a proxy, or a simulator run alone).
    #[arg(long, env = "WECHAT_API", default_value = super::wechat::WECHAT_API)]
    pub wechat_api: String,

    /// The Douyin Mini Program's AppID, for sign-in with Douyin (`POST
    /// /v1/login/douyin`); without it that route answers 404
    /// `provider_not_configured`.
    #[arg(long, env = "DOUYIN_APPID", requires = "douyin_secret")]
    pub douyin_appid: Option<String>,

    /// The Douyin Mini Program's AppSecret (prefer the environment variable:
    /// flags show up in process lists).
    #[arg(long, env = "DOUYIN_SECRET", hide_env_values = true, requires = "douyin_appid")]
    pub douyin_secret: Option<String>,

    /// Base URL of Douyin's API (for a proxy, or a simulator run alone).
    #[arg(long, env = "DOUYIN_API", default_value = super::wechat::DOUYIN_API)]
    pub douyin_api: String,

    /// Where one-time codes are POSTed as `{"channel","to","code"}` for
    /// delivery (an SMS or mail gateway, a chat bot). In simulator mode codes
    /// go to the outbox at /sim/outbox instead.
    #[arg(long, env = "MINIAUTH_CODE_WEBHOOK")]
    pub code_webhook: Option<String>,

    /// Seconds to wait for the webhook's answer. A code whose webhook does
    /// not answer in time may have gone out: the resend rule still holds.
    #[arg(long, env = "MINIAUTH_CODE_WEBHOOK_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub code_webhook_timeout: u32,

    /// Country calling codes SMS codes may be sent to, comma separated
    /// (`86,852`). Email is not restricted.
    #[arg(long, env = "MINIAUTH_SMS_COUNTRIES", value_delimiter = ',', default_value = "86")]
    pub sms_countries: Vec<String>,

    /// One-time codes one phone number or email address may receive in a
    /// day (one WeChat user may send it at most 5 of them, a bind at most 3).
    #[arg(long, env = "MINIAUTH_CODES_PER_RECIPIENT_PER_DAY", default_value_t = 10)]
    pub codes_per_recipient_per_day: u32,

    /// One-time codes one WeChat user may ask for in a day.
    #[arg(long, env = "MINIAUTH_CODES_PER_IDENTITY_PER_DAY", default_value_t = 10)]
    pub codes_per_identity_per_day: u32,

    /// One-time codes the server sends in a minute, to everyone.
    #[arg(long, env = "MINIAUTH_CODES_PER_MINUTE", default_value_t = 60)]
    pub codes_per_minute: u32,

    /// One-time codes the server sends in a day, to everyone.
    #[arg(long, env = "MINIAUTH_CODES_PER_DAY", default_value_t = 5_000)]
    pub codes_per_day: u32,

    /// Web origins allowed to call the API from a browser (CORS), comma
    /// separated, e.g. `https://app.example.com`; `*` allows any. Default:
    /// none (Mini Programs and same-origin pages need no CORS).
    #[arg(long, env = "MINIAUTH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Whether WeChat users bound to nobody may register (USER_REGISTER) or
    /// must bind to an existing user (SOCIAL_BIND).
    #[arg(long, env = "MINIAUTH_REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,

    /// Algorithm of newly generated signing keys.
    #[arg(long, env = "MINIAUTH_SIGNING_ALG", value_enum, default_value_t = SigningAlgorithm::Rs256)]
    pub signing_alg: SigningAlgorithm,

    /// id_token lifetime, in seconds.
    #[arg(long, env = "MINIAUTH_ID_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u32).range(60..=86_400))]
    pub id_token_ttl: u32,

    /// A session_token unused for this many seconds expires.
    #[arg(long, env = "MINIAUTH_SESSION_IDLE_TTL", default_value_t = 30 * 86_400, value_parser = clap::value_parser!(u32).range(60..))]
    pub session_idle_ttl: u32,

    /// Sessions end this many seconds after login, however they are used.
    #[arg(long, env = "MINIAUTH_SESSION_ABSOLUTE_TTL", default_value_t = 90 * 86_400, value_parser = clap::value_parser!(u32).range(60..))]
    pub session_absolute_ttl: u32,

    /// Seconds during which a rotated session_token still gets the same new
    /// pair (a client that lost the answer retries safely); replayed later,
    /// it revokes the session family.
    #[arg(long, env = "MINIAUTH_REFRESH_GRACE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub refresh_grace: u32,

    /// State token (bind) lifetime, in seconds.
    #[arg(long, env = "MINIAUTH_STATE_TOKEN_TTL", default_value_t = 600, value_parser = clap::value_parser!(u32).range(30..=3_600))]
    pub state_token_ttl: u32,

    /// Requests per minute per client address, per endpoint group.
    #[arg(long, env = "MINIAUTH_RATE_LIMIT_IP", default_value_t = 120)]
    pub rate_limit_ip: u32,

    /// Refreshes and logouts per minute per client address: higher, since
    /// each needs a secret token and is limited per session too, and a
    /// carrier NAT puts thousands of phones behind one address.
    #[arg(long, env = "MINIAUTH_RATE_LIMIT_IP_REFRESH", default_value_t = 3_000)]
    pub rate_limit_ip_refresh: u32,

    /// Reverse proxies whose word on the client's address is taken, comma
    /// separated addresses or blocks (`10.0.0.0/8,127.0.0.1`). Default: none,
    /// and forwarding headers are ignored (anyone can write them).
    #[arg(long, env = "MINIAUTH_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Cidr>,

    /// The header the trusted proxies set: read right to left, skipping
    /// trusted hops. Name the one your proxy writes, not one it passes on.
    #[arg(long, env = "MINIAUTH_PROXY_HEADER", value_enum, default_value_t = ProxyHeader::XForwardedFor)]
    pub proxy_header: ProxyHeader,

    /// Requests per minute per account (WeChat user, recipient, session),
    /// per endpoint group.
    #[arg(long, env = "MINIAUTH_RATE_LIMIT_ACCOUNT", default_value_t = 20)]
    pub rate_limit_account: u32,

    /// Serve the playground page in DIR (index.html, main.js, style.css) at
    /// /playground/, with the built npm package at /playground/pkg/.
    /// Simulator mode only.
    #[arg(long, env = "MINIAUTH_PLAYGROUND", value_name = "DIR")]
    pub playground: Option<PathBuf>,

    /// The built npm package the playground loads (its web/index.js and
    /// miniauth_bg.wasm).
    #[arg(long, env = "MINIAUTH_PLAYGROUND_PKG", value_name = "DIR", default_value = "pkg")]
    pub playground_pkg: PathBuf,

    /// Seconds a client has to send a request's headers, counted from the
    /// connection's opening (the first request) or from the first byte of
    /// the next request on a kept-alive connection; then it is closed.
    #[arg(long, env = "MINIAUTH_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=3_600))]
    pub header_timeout: u32,

    /// Seconds a client has to send a request's whole body, counted from the
    /// end of its headers; a late body is answered 400.
    #[arg(long, env = "MINIAUTH_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3_600))]
    pub body_timeout: u32,

    /// A kept-alive connection with no request in flight on which nothing
    /// was read or written for this many seconds is closed.
    #[arg(long, env = "MINIAUTH_IDLE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3_600))]
    pub idle_timeout: u32,

    /// Connections served at once; more wait, unaccepted, until one ends.
    /// Lowered when the process's open-file limit is too small for it.
    #[arg(long, env = "MINIAUTH_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Address of a second listener that serves only `GET /metrics`
    /// (Prometheus text format), e.g. `127.0.0.1:9187`; keep it off the
    /// public network. Default: none, and no metrics are kept.
    #[arg(long, env = "MINIAUTH_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// How `miniauth serve` writes its logs: `text` for people, or `json`,
    /// one object a line, for log collectors.
    #[arg(long, env = "MINIAUTH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The format of the log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, with `timestamp`, `level`, `message`,
    /// `target` and the event's fields.
    Json,
}

/// Whether unbound WeChat users may register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// New users may register: unbound logins answer USER_REGISTER.
    Open,
    /// Only existing users: unbound logins answer SOCIAL_BIND.
    Closed,
}

impl From<Registration> for Mode {
    fn from(registration: Registration) -> Self {
        match registration {
            Registration::Open => Mode::UserRegister,
            Registration::Closed => Mode::SocialBind,
        }
    }
}

impl Config {
    /// The defaults, in simulator mode, listening on an ephemeral loopback
    /// port: for in-process test servers. The environment is not read, so a
    /// developer's `WECHAT_SECRET` or `MINIAUTH_*` never reaches a test.
    pub fn for_tests(database: PathBuf) -> Self {
        use clap::{Args, FromArgMatches};
        let command = Self::augment_args(clap::Command::new("miniauth")).mut_args(|arg| arg.env(None));
        let mut config = Self::from_arg_matches(&command.get_matches_from(["miniauth"]))
            .expect("the defaults are a valid configuration");
        config.database = Location::Sqlite(database);
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.simulator = true;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs itself again in a child process whose environment names real
    /// WeChat credentials and another issuer (setting variables in this
    /// process would race the other tests' threads); the child checks that
    /// `for_tests` ignored them.
    #[test]
    fn for_tests_ignores_the_environment() {
        const CHILD: &str = "MINIAUTH_CONFIG_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let config = Config::for_tests("t.db".into());
            assert_eq!(config.wechat_appid, None);
            assert_eq!(config.wechat_secret, None);
            assert_eq!(config.douyin_appid, None);
            assert_eq!(config.douyin_secret, None);
            assert_eq!(config.douyin_api, crate::server::wechat::DOUYIN_API);
            assert_eq!(config.issuer, None);
            assert_eq!(config.rate_limit_ip, 120);
            return;
        }
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "server::config::tests::for_tests_ignores_the_environment", "--quiet"])
            .env(CHILD, "1")
            .env("WECHAT_APPID", "wx_real")
            .env("WECHAT_SECRET", "real-secret")
            .env("DOUYIN_APPID", "tt_real")
            .env("DOUYIN_SECRET", "real-douyin-secret")
            .env("DOUYIN_API", "https://douyin.example.com")
            .env("MINIAUTH_ISSUER", "https://id.example.com")
            .env("MINIAUTH_RATE_LIMIT_IP", "7")
            .status()
            .unwrap();
        assert!(status.success(), "for_tests read the environment");
    }
}
