//! Storing session tokens, and group commit of rotations.
//!
//! Every refresh stores one token, and every store is a commit: on SQLite
//! a write through its one connection and an fsync. [`Rotations`] queues
//! the rotations of concurrent refreshes and stores all that are waiting
//! in one statement, so that under load one commit serves many refreshes;
//! alone, a rotation goes at once, in a batch of one.

use super::clock::Millis;
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

/// Rotations stored in one statement at most (5 parameters each).
const MAX_BATCH: usize = 64;
/// Rotations waiting beyond the batch being stored; callers past it wait
/// for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// A session token to store (by its hash).
pub struct NewToken {
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// The session family it belongs to.
    pub family_id: String,
    /// When it was issued.
    pub issued_at: Millis,
    /// When it expires if unused.
    pub idle_expires_at: Millis,
    /// The hash of the token it replaces, for a rotation.
    pub parent_hash: Option<Vec<u8>>,
}

/// Stores `tokens` in one statement: each unless a token with its hash, or
/// another successor of its parent, is stored already. Storing a successor
/// marks its parent rotated (the trigger of migration 0007). Answers the
/// hashes stored.
pub async fn insert(conn: &mut AnyConnection, tokens: &[&NewToken]) -> Result<HashSet<Vec<u8>>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO session_tokens (token_hash, family_id, issued_at, idle_expires_at, parent_hash) VALUES {}
         ON CONFLICT DO NOTHING RETURNING token_hash",
        super::db::value_rows(tokens.len(), 5)
    );
    let mut query = sqlx::query_as::<_, (Vec<u8>,)>(&sql);
    for token in tokens {
        query = query
            .bind(&token.hash)
            .bind(&token.family_id)
            .bind(token.issued_at)
            .bind(token.idle_expires_at)
            .bind(&token.parent_hash);
    }
    Ok(query.fetch_all(conn).await?.into_iter().map(|(hash,)| hash).collect())
}

/// The queue of rotations waiting to be stored, and the task storing them.
pub struct Rotations {
    queue: mpsc::Sender<Waiting>,
}

struct Waiting {
    successor: NewToken,
    /// Whether the successor was stored; a message if storing failed.
    stored: oneshot::Sender<Result<bool, String>>,
}

impl Rotations {
    /// Starts the task storing rotations through `pool`; it ends when the
    /// [`Rotations`] is dropped.
    pub fn start(pool: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(store_batches(pool, waiting));
        Self { queue }
    }

    /// Stores `successor`, the next token of its parent: true if it was
    /// stored, false if the parent had a successor already (stored by
    /// someone else, on this instance or another). Answers once the commit
    /// that stored it is durable.
    pub async fn rotate(&self, successor: NewToken) -> Result<bool, String> {
        let (stored, answer) = oneshot::channel();
        let lost = || "the rotation queue stopped".to_owned();
        self.queue.send(Waiting { successor, stored }).await.map_err(|_| lost())?;
        answer.await.map_err(|_| lost())?
    }
}

/// Stores whatever is waiting, up to [`MAX_BATCH`] at a time, until the
/// queue closes.
async fn store_batches(pool: AnyPool, mut queue: mpsc::Receiver<Waiting>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Sorted by parent, so that batches of two instances on PostgreSQL
        // take the unique index's locks in one order and cannot deadlock.
        batch.sort_by(|a, b| a.successor.parent_hash.cmp(&b.successor.parent_hash));
        // Of two rotations of one parent in a batch (the same successor,
        // since it is derived from the parent), the first is stored; the
        // second is told the parent was rotated first.
        let mut parents = HashSet::new();
        let (first, repeated): (Vec<Waiting>, Vec<Waiting>) =
            batch.drain(..).partition(|w| parents.insert(w.successor.parent_hash.clone()));
        let tokens: Vec<&NewToken> = first.iter().map(|w| &w.successor).collect();
        let stored = match pool.acquire().await {
            Ok(mut conn) => insert(&mut conn, &tokens).await,
            Err(error) => Err(error),
        };
        match stored {
            Ok(stored) => {
                for waiting in first {
                    let _ = waiting.stored.send(Ok(stored.contains(&waiting.successor.hash)));
                }
                for waiting in repeated {
                    let _ = waiting.stored.send(Ok(false));
                }
            }
            // Each caller logs the failure with its request.
            Err(error) => {
                for waiting in first.into_iter().chain(repeated) {
                    let _ = waiting.stored.send(Err(format!("storing rotations: {error}")));
                }
            }
        }
    }
}
