//! The database: SQLite (one file, the embedded default) or PostgreSQL (for
//! several instances), both through sqlx's `Any` driver, so that one query
//! text serves both (placeholders are `$1`, `$2` …, integers `BIGINT`).
//! Each backend has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`), run on start.
//!
//! SQLite runs in WAL mode with `synchronous = FULL`, so every commit is
//! durable before the answer that depends on it goes out. It takes one
//! writer at a time, and connections competing for its lock wait in its
//! busy handler's sleeps (100 ms to 1 s tails under load); so writes go
//! through a pool of one connection, where waiting is a cheap queue, and
//! reads through read-only connections, which WAL lets run beside the
//! writer. PostgreSQL has one pool for both.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// SQLite's read-only connections.
const SQLITE_READERS: u32 = 4;
/// PostgreSQL connections per instance.
const POSTGRES_CONNECTIONS: u32 = 16;

/// Where the data lives (`--database`): an SQLite file, or a PostgreSQL
/// URL (`postgres://user:password@host/db`).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite database file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(String),
}

impl FromStr for Location {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text)))
        })
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Self::Sqlite(path)
    }
}

impl std::fmt::Debug for Location {
    // A PostgreSQL URL may carry a password: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&without_password(url)).finish(),
        }
    }
}

/// `postgres://user:…@host/db` for `postgres://user:secret@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "postgres://…".to_owned() };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:…@{host}"),
            None => format!("{credentials}@{host}"),
        },
        None => authority.to_owned(),
    };
    path.map_or_else(|| format!("{scheme}://{authority}"), |path| format!("{scheme}://{authority}/{path}"))
}

/// The pools. Code holding an SQLite write connection (a transaction, an
/// acquired connection) must not wait for another from the write pool:
/// there is only one.
#[derive(Clone, Debug)]
pub struct Db {
    /// What writes (and reads what it is about to change).
    pub write: AnyPool,
    /// What reads: SQLite's read-only connections, or the same pool.
    pub read: AnyPool,
}

impl Db {
    /// Closes the pools.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Makes transactions that check something and then write on it (a
/// budget, a ceiling, the active signing key) take turns per `key`, across
/// instances: on PostgreSQL through a lock held until the transaction ends;
/// on SQLite nothing is needed, its one write connection already runs them
/// one after another. Call it first in the transaction; a transaction that
/// takes several keys takes them in sorted order.
pub async fn take_turn(conn: &mut AnyConnection, key: &str) -> Result<(), sqlx::Error> {
    if conn.backend_name() != <sqlx::Postgres as sqlx::Database>::NAME {
        return Ok(());
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let mut id = [0; 8];
    id.copy_from_slice(&digest.as_ref()[..8]);
    // Wrapped so that the answer is a plain integer, not pg_advisory_xact_lock's void.
    sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS turn")
        .bind(i64::from_be_bytes(id))
        .execute(conn)
        .await
        .map(drop)
}

/// Opens (creating an SQLite file if needed) and migrates the database.
pub async fn open(location: &Location) -> Result<Db, sqlx::Error> {
    sqlx::any::install_default_drivers();
    match location {
        Location::Sqlite(path) => open_sqlite(path).await,
        Location::Postgres(url) => {
            let migrating = sqlx::PgPool::connect(url).await?;
            sqlx::migrate!("./migrations/postgres").run(&migrating).await?;
            migrating.close().await;
            let pool = AnyPoolOptions::new().max_connections(POSTGRES_CONNECTIONS).connect(url).await?;
            Ok(Db { write: pool.clone(), read: pool })
        }
    }
}

async fn open_sqlite(path: &std::path::Path) -> Result<Db, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // The migrations (and WAL mode, which the file keeps) on a connection of
    // SQLite's own driver; the pools then speak Any.
    let migrating = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
    sqlx::migrate!("./migrations/sqlite").run(&migrating).await?;
    migrating.close().await;
    // What the URL an Any pool is opened with cannot say, set on each
    // connection.
    let pool = |options: SqliteConnectOptions, size: u32| async move {
        let url = AnyConnectOptions::from_url(&options.to_url_lossy())?;
        AnyPoolOptions::new()
            .max_connections(size)
            // A connection to a local file does not drop: a ping before each
            // use would only cost a round trip to its worker thread.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000")
                        .await
                        .map(drop)
                })
            })
            .connect_with(url)
            .await
    };
    let write = pool(options.clone(), 1).await?;
    let read = pool(options.create_if_missing(false).read_only(true), SQLITE_READERS).await?;
    Ok(Db { write, read })
}

/// The `VALUES` rows of a multi-row insert: `rows` rows of `columns`
/// numbered placeholders each, `($1, $2), ($3, $4)` for 2 and 2.
pub fn value_rows(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let places: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
        format!("({})", places.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_both_backends_and_hide_passwords() {
        assert_eq!("miniauth.db".parse::<Location>().unwrap(), Location::Sqlite("miniauth.db".into()));
        assert_eq!("sqlite:/var/x.db".parse::<Location>().unwrap(), Location::Sqlite("/var/x.db".into()));
        let pg: Location = "postgres://app:s3cret@db.internal:5432/miniauth?sslmode=require".parse().unwrap();
        assert!(matches!(pg, Location::Postgres(_)));
        let shown = format!("{pg:?}");
        assert!(!shown.contains("s3cret") && shown.contains("app:…@db.internal:5432/miniauth"), "{shown}");
        assert!(!format!("{:?}", "postgresql://:pw@h/d".parse::<Location>().unwrap()).contains("pw"));
    }

    #[test]
    fn value_rows_number_every_placeholder_once() {
        assert_eq!(value_rows(1, 3), "($1, $2, $3)");
        assert_eq!(value_rows(2, 2), "($1, $2), ($3, $4)");
    }
}
