//! The command line: the options bench/server/run.sh passes, and their
//! defaults.

use clap::builder::RangedU64ValueParser;
use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The closed-loop load generator of `make bench-server`, for one or more
/// instances of `miniauth serve` on loopback, in simulator mode or beside
/// a `miniauth wechat-sim`.
#[derive(Parser)]
#[command(name = "miniauth-load")]
pub struct Options {
    /// The server's instances, each as http://IP:PORT with a literal
    /// loopback address; connection `i` goes to instance `i mod n`, as a
    /// load balancer spreads keep-alive connections.
    #[arg(long = "url", value_name = "URL,...", value_delimiter = ',', value_parser = loopback_url)]
    #[arg(required_unless_present = "summarize")]
    pub instances: Vec<SocketAddr>,
    /// Where `/sim/wx/login` mints codes: a `miniauth wechat-sim` the
    /// instances share. Default: the first instance (simulator mode).
    #[arg(long = "wechat-sim", value_name = "URL", value_parser = loopback_url)]
    wechat_sim: Option<SocketAddr>,
    /// The instances' process ids, to measure their CPU time from /proc.
    #[arg(long, value_name = "PID,...", value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`).
    #[arg(long, value_name = "HZ", default_value_t = 100.0)]
    pub clk_tck: f64,
    /// Length of each timed phase (s, at most 600).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub duration: Duration,
    /// Length of the warm-up before each timed phase (s, at most 600).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = seconds)]
    pub warmup: Duration,
    /// Connections (virtual users) each scenario runs at, in turn.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_value = "16,64")]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub concurrency: Vec<usize>,
    /// Scenarios to run, in this order.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',', default_value = "login,refresh,jwks")]
    pub scenarios: Vec<Scenario>,
    /// Requests a phase stops at, whatever its duration.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub max_requests: usize,
    /// How long one answer may take before it counts as an error (s).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub timeout: Duration,
    /// Connections used to register users and mint codes.
    #[arg(long, value_name = "N", default_value_t = 16)]
    #[arg(value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    pub prep_connections: usize,
    /// Bound users registered before the first scenario (at least the
    /// largest concurrency).
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub initial_users: usize,
    /// Instead of a run: one table of earlier runs' reports (their `--out`
    /// files, told apart by their `setup` and `signing_alg` meta entries),
    /// and all of them in one report at `--out`.
    #[arg(long, value_name = "FILE.json", num_args = 1.., conflicts_with = "instances")]
    pub summarize: Vec<PathBuf>,
    /// Where the JSON report goes.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// A context entry for the report's `meta` (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub meta: Vec<(String, String)>,
    /// A bot key for the room scenarios (`miniauth bots add`).
    #[arg(long, env = "MINIAUTH_BENCH_BOT_KEY", hide_env_values = true)]
    pub bot_key: Option<String>,
    /// An API client secret with `rooms:read` for `room-read`
    /// (`miniauth clients add --scope rooms:read`).
    #[arg(long, env = "MINIAUTH_BENCH_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Also load the JWKS with the wrk at PATH, a cross-check of the
    /// generator's own cost; empty: no cross-check.
    #[arg(long = "wrk", value_name = "PATH")]
    wrk_path: Option<String>,
}

/// What a phase loads.
#[derive(Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// `POST /v1/login/wechat` with a fresh code each time.
    Login,
    /// `POST /v1/session/refresh`, chaining the rotated tokens.
    Refresh,
    /// `GET /.well-known/jwks.json`.
    Jwks,
    /// `PUT /v1/bot/rooms/{id}`: a bot's snapshot of a 500-member room.
    RoomSync,
    /// `GET /v1/rooms/{id}` of a 500-member room, with a client secret.
    RoomRead,
}

impl Options {
    /// Where codes are minted.
    pub fn wechat_sim(&self) -> SocketAddr {
        self.wechat_sim.unwrap_or(self.instances[0])
    }

    /// The wrk to cross-check the JWKS with, if any (run.sh passes an
    /// empty path when it has none).
    pub fn wrk(&self) -> Option<&str> {
        self.wrk_path.as_deref().filter(|path| !path.is_empty())
    }
}

fn loopback_url(url: &str) -> Result<SocketAddr, String> {
    let hostport = url.strip_prefix("http://").ok_or("must be http://HOST:PORT")?.trim_end_matches('/');
    let addr: SocketAddr = hostport.parse().map_err(|_| "must be http://IP:PORT (a literal loopback address)")?;
    if !addr.ip().is_loopback() {
        return Err(format!("refusing {addr}: this generator only loads servers on loopback"));
    }
    Ok(addr)
}

fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= 600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "must be a number of seconds above 0 and at most 600".into())
}

fn key_value(value: &str) -> Result<(String, String), String> {
    let (key, value) = value.split_once('=').ok_or("must be KEY=VALUE")?;
    Ok((key.to_string(), value.to_string()))
}
