//! `miniauth`: the reference identity server and its admin commands.

use clap::{Parser, Subcommand};
use miniauth::protocol::Channel;
use miniauth::server::chat::bots;
use miniauth::server::clients::{self, Scope};
use miniauth::server::clock::{Clock, SystemClock};
use miniauth::server::config::{Config, LogFormat};
use miniauth::server::credentials::Listed;
use miniauth::server::db::{self, Location};
use miniauth::server::keys::{self, SigningAlgorithm};
use miniauth::server::users::{self, NewUser};
use miniauth::server::{codes, start};
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

/// miniauth: WeChat Mini Program login, binding and sessions.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the identity server (Ctrl-C or SIGTERM stops it cleanly).
    // Boxed: the settings are much larger than the other commands.
    Serve(Box<Config>),
    /// Manages users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manages signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manages chat bots (the Wechaty plugin's keys).
    #[command(subcommand)]
    Bots(BotsCommand),
    /// Manages API clients (app backends' secrets, e.g. to read rooms).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Runs the WeChat simulator alone (WeChat's and Douyin's API, and the
    /// /sim/wx/ and /sim/tt/ endpoints).
    WechatSim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8788")]
        listen: std::net::SocketAddr,
        /// The AppID it accepts.
        #[arg(long, default_value = miniauth::server::SIMULATOR_APPID)]
        appid: String,
        /// The AppSecret it accepts.
        #[arg(long, env = "WECHAT_SECRET", hide_env_values = true)]
        secret: String,
        /// The Douyin AppID it accepts.
        #[arg(long, default_value = miniauth::server::SIMULATOR_DOUYIN_APPID)]
        douyin_appid: String,
        /// The Douyin AppSecret it accepts (default: the WeChat one).
        #[arg(long, env = "DOUYIN_SECRET", hide_env_values = true)]
        douyin_secret: Option<String>,
    },
}

/// The database an admin command works on.
#[derive(clap::Args)]
struct Database {
    /// The server's database: an SQLite file or a `postgres://` URL.
    #[arg(long, env = "MINIAUTH_DATABASE", default_value = "miniauth.db", hide_env_values = true)]
    database: Location,
}

impl Database {
    /// Its write pool, migrated.
    async fn open(&self) -> Result<sqlx::AnyPool, Box<dyn std::error::Error>> {
        Ok(db::open(&self.database).await?.write)
    }
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Adds a user that WeChat identities can bind to. The password, if
    /// any, is read from standard input (one line), never from a flag.
    Add {
        #[command(flatten)]
        database: Database,
        /// Username, for binding by password.
        #[arg(long)]
        username: Option<String>,
        /// Read a password from standard input.
        #[arg(long, requires = "username")]
        password_stdin: bool,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Verified phone number.
        #[arg(long)]
        phone: Option<String>,
        /// Verified email address.
        #[arg(long)]
        email: Option<String>,
        /// A WeChat openid to bind the user to, so that it signs in at once.
        #[arg(long)]
        wechat_openid: Option<String>,
        /// The Mini Program of that openid (default: the simulator's).
        #[arg(long, requires = "wechat_openid", default_value = miniauth::server::SIMULATOR_APPID)]
        wechat_appid: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generates a new signing key and retires the current one; running
    /// servers pick it up within a minute, and keep publishing the old key
    /// until its tokens have expired.
    Rotate {
        #[command(flatten)]
        database: Database,
        /// Algorithm of the new key.
        #[arg(long, value_enum, default_value_t = SigningAlgorithm::Rs256)]
        signing_alg: SigningAlgorithm,
    },
}

#[derive(Subcommand)]
enum BotsCommand {
    /// Adds a bot and prints its key, once, alone on the last line; the
    /// server keeps only a hash. Give it to the bot as MINIAUTH_BOT_KEY.
    Add {
        #[command(flatten)]
        database: Database,
        /// The bot's name (letters, digits, `-`, `_`, `.`), unique.
        #[arg(long)]
        name: String,
    },
    /// Revokes a bot: its key is refused from now on.
    Revoke {
        #[command(flatten)]
        database: Database,
        /// The bot's name.
        name: String,
    },
    /// Lists the bots, current and revoked.
    List {
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Adds an API client and prints its secret, once, alone on the last
    /// line; the server keeps only a hash. The backend sends it as
    /// `Authorization: Bearer`.
    Add {
        #[command(flatten)]
        database: Database,
        /// The client's name (letters, digits, `-`, `_`, `.`), unique.
        #[arg(long)]
        name: String,
        /// What it may do (repeat for several): `rooms:read` reads every room.
        #[arg(long = "scope", value_enum)]
        scopes: Vec<Scope>,
    },
    /// Revokes an API client: its secret is refused from now on.
    Revoke {
        #[command(flatten)]
        database: Database,
        /// The client's name.
        name: String,
    },
    /// Lists the API clients, current and revoked.
    List {
        #[command(flatten)]
        database: Database,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Serve(config) => config.log_format,
        _ => LogFormat::Text,
    };
    init_logs(format);
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("miniauth: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs as `--log-format` says. In JSON the event's message and fields sit
/// at the top level of each object, beside `timestamp`, `level` and `target`.
fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt().with_env_filter(log_filter());
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// What to log: `MINIAUTH_LOG`, else the conventional `RUST_LOG`, else `info`.
fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    EnvFilter::try_from_env("MINIAUTH_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| "info".into())
}

async fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve(config) => {
            let running = start(&config, clock).await?;
            println!("miniauth listening on http://{}", running.addr);
            running.run_until(shutdown_signal()).await?;
            println!("miniauth stopped");
        }
        Command::Users(UsersCommand::Add {
            database,
            username,
            password_stdin,
            name,
            phone,
            email,
            wechat_openid,
            wechat_appid,
        }) => {
            let pool = database.open().await?;
            let password_hash = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let password = line.trim_end_matches(['\r', '\n']);
                if password.is_empty() {
                    return Err("the password on standard input is empty".into());
                }
                Some(users::hash_password(password).map_err(|e| format!("hashing: {}", e.code()))?)
            } else {
                None
            };
            // The rules of the one-time codes, so that codes reach these users.
            let recipient = |channel, to: String, what| codes::normalize_recipient(channel, &to).map_err(|_| what);
            let phone = phone.map(|p| recipient(Channel::Sms, p, "not a valid phone number")).transpose()?;
            let email = email.map(|e| recipient(Channel::Email, e, "not a valid email address")).transpose()?;
            let new = NewUser { username, password_hash, name, phone, email };
            let id = users::create(&pool, new, clock.now()).await.map_err(|e| e.code().to_string())?;
            if let Some(openid) = wechat_openid {
                let identity = users::MiniProgramIdentity::wechat(wechat_appid, openid, None);
                let mut conn = pool.acquire().await?;
                users::bind_identity(&mut conn, &identity, &id, clock.now()).await.map_err(|e| e.code().to_string())?;
            }
            println!("{id}");
        }
        Command::Keys(KeysCommand::Rotate { database, signing_alg }) => {
            let pool = database.open().await?;
            let kid = keys::rotate(&pool, signing_alg, clock.now()).await?;
            println!("new signing key {kid}");
        }
        Command::Bots(BotsCommand::Add { database, name }) => {
            let pool = database.open().await?;
            let key = bots::add(&pool, &name, clock.now()).await?;
            println!("bot {name} added; its key, shown only now:");
            println!("{key}");
        }
        Command::Bots(BotsCommand::Revoke { database, name }) => {
            let pool = database.open().await?;
            bots::revoke(&pool, &name, clock.now()).await?;
            println!("bot {name} revoked");
        }
        Command::Bots(BotsCommand::List { database }) => {
            print_listed(&bots::list(&database.open().await?).await?);
        }
        Command::Clients(ClientsCommand::Add { database, name, scopes }) => {
            let pool = database.open().await?;
            let secret = clients::add(&pool, &name, &scopes, clock.now()).await?;
            println!("client {name} added; its secret, shown only now:");
            println!("{secret}");
        }
        Command::Clients(ClientsCommand::Revoke { database, name }) => {
            clients::revoke(&database.open().await?, &name, clock.now()).await?;
            println!("client {name} revoked");
        }
        Command::Clients(ClientsCommand::List { database }) => {
            print_listed(&clients::list(&database.open().await?).await?);
        }
        Command::WechatSim { listen, appid, secret, douyin_appid, douyin_secret } => {
            let douyin_secret = douyin_secret.unwrap_or_else(|| secret.clone());
            let simulator =
                miniauth::server::wechat::Simulator::new(appid, secret, clock).with_douyin(douyin_appid, douyin_secret);
            let router = simulator.wechat_router().merge(simulator.douyin_router()).merge(simulator.control_router());
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("WeChat simulator listening on http://{}", listener.local_addr()?);
            axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
        }
    }
    Ok(())
}

/// `bots list` and `clients list`: a name, its state and what its kind adds (a client's scopes), a line.
fn print_listed(listed: &[Listed]) {
    for credential in listed {
        let state = if credential.revoked_at.is_some() { "revoked" } else { "current" };
        match credential.detail.as_str() {
            "" => println!("{}\t{state}", credential.name),
            detail => println!("{}\t{state}\t{detail}", credential.name),
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
