//! The database: SQLite through sqlx, one file in WAL mode, migrated on
//! start. `synchronous = FULL` makes every commit durable before the answer
//! that depends on it goes out, so a token the server has handed out
//! survives a crash or a SIGKILL.
//!
//! SQLite takes one writer at a time, and connections competing for its
//! lock wait in its busy handler's sleeps (100 ms to 1 s tails under load).
//! So writes go through a pool of one connection, where waiting is a cheap
//! queue, and reads through a pool of read-only connections, which WAL lets
//! run beside the writer.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Read-only connections.
const READERS: u32 = 4;

/// The two pools over one database file. Code holding the write connection
/// (a transaction, an acquired connection) must not wait for another from
/// the write pool: there is only one.
#[derive(Clone, Debug)]
pub struct Db {
    /// The one connection that writes (and reads what it is about to change).
    pub write: SqlitePool,
    /// Read-only connections for lookups.
    pub read: SqlitePool,
}

impl Db {
    /// Closes both pools.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Opens (creating if needed) and migrates the database at `path`.
pub async fn open(path: &Path) -> Result<Db, sqlx::Error> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
    sqlx::migrate!("./migrations").run(&write).await?;
    let read = SqlitePoolOptions::new().max_connections(READERS).connect_with(options.read_only(true)).await?;
    Ok(Db { write, read })
}
