//! Named credentials that callers other than users present as
//! `Authorization: Bearer`: bot keys ([`super::chat::bots`]) and API client
//! secrets ([`super::clients`]). Each is shown once, when it is added, and
//! stored only as a hash; a revoked one is refused from then on, and its
//! name is never reused.

use super::clock::Millis;
use super::db::value_rows;
use super::error::AppResult;
use super::secrets::{new_id, new_token, token_hash};
use sqlx::{AnyConnection, AnyPool};

/// One kind of credential: the table that holds them and how they look.
pub struct Kind {
    /// The table: `id`, `name`, `key_hash`, `created_at`, `revoked_at`, and
    /// what the kind adds.
    pub table: &'static str,
    /// What every key starts with, so that one found in a config file or a
    /// leak report is known for what it is (and the server knows which kind
    /// a presented key claims to be).
    pub prefix: &'static str,
    /// What the server's ids of them start with.
    pub id_prefix: &'static str,
    /// What one is called in messages.
    pub noun: &'static str,
    /// What `list` shows of each beside its name and state: an SQL
    /// expression over the table's columns (`''` for nothing).
    pub listed: &'static str,
}

impl Kind {
    /// Whether `key` looks like one of this kind (its prefix).
    pub fn claims(&self, key: &str) -> bool {
        key.starts_with(self.prefix)
    }
}

/// Why a credential could not be added or revoked.
#[derive(Debug)]
pub enum CredentialError {
    /// The name is empty, too long, or not letters, digits, `-`, `_`, `.`.
    InvalidName,
    /// One of that name exists (revoked ones too); names the kind.
    NameTaken(&'static str),
    /// No current one has that name; names the kind.
    Unknown(&'static str),
    /// The database failed.
    Database(sqlx::Error),
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidName => f.write_str("a name is 1 to 64 letters, digits, '-', '_' or '.'"),
            Self::NameTaken(noun) => write!(f, "a {noun} of that name exists"),
            Self::Unknown(noun) => write!(f, "no current {noun} has that name"),
            Self::Database(error) => write!(f, "database: {error}"),
        }
    }
}

impl std::error::Error for CredentialError {}

impl From<sqlx::Error> for CredentialError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

/// 1 to 64 letters, digits, `-`, `_`, `.`: what a credential may be named.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Adds one of `kind` named `name`, with the kind's own `columns` (name and
/// value), and answers its key, which is not kept.
pub async fn add(
    pool: &AnyPool,
    kind: &Kind,
    name: &str,
    columns: &[(&str, &str)],
    now: Millis,
) -> Result<String, CredentialError> {
    if !valid_name(name) {
        return Err(CredentialError::InvalidName);
    }
    let key = format!("{}{}", kind.prefix, new_token());
    let names: String = columns.iter().map(|(column, _)| format!(", {column}")).collect();
    let sql = format!(
        "INSERT INTO {} (id, name, key_hash, created_at{names}) VALUES {} ON CONFLICT (name) DO NOTHING",
        kind.table,
        value_rows(1, 4 + columns.len())
    );
    let mut insert = sqlx::query(&sql).bind(new_id(kind.id_prefix)).bind(name).bind(token_hash(&key)).bind(now);
    for (_, value) in columns {
        insert = insert.bind(*value);
    }
    if insert.execute(pool).await?.rows_affected() == 0 {
        return Err(CredentialError::NameTaken(kind.noun));
    }
    Ok(key)
}

/// Revokes the current one of `kind` named `name`, in the transaction
/// `conn` is in (where the kind drops what it owned), and answers its id.
pub async fn revoke(conn: &mut AnyConnection, kind: &Kind, name: &str, now: Millis) -> Result<String, CredentialError> {
    let revoked: Option<(String,)> = sqlx::query_as(&format!(
        "UPDATE {} SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING id",
        kind.table
    ))
    .bind(now)
    .bind(name)
    .fetch_optional(conn)
    .await?;
    revoked.map(|(id,)| id).ok_or(CredentialError::Unknown(kind.noun))
}

/// A credential as `miniauth bots list` and `clients list` show it.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// When it was added (ms since the epoch).
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// What its kind adds ([`Kind::listed`]); may be empty.
    pub detail: String,
}

/// Every one of `kind`, current and revoked, by name.
pub async fn list(pool: &AnyPool, kind: &Kind) -> Result<Vec<Listed>, CredentialError> {
    let sql =
        format!("SELECT name, created_at, revoked_at, {} AS detail FROM {} ORDER BY name", kind.listed, kind.table);
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}

/// The `columns` of the current one of `kind` whose key `key` is. A key
/// without the kind's prefix is nobody's, and is not looked up.
pub async fn current<T>(pool: &AnyPool, kind: &Kind, columns: &str, key: &str) -> AppResult<Option<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    if !kind.claims(key) {
        return Ok(None);
    }
    let sql = format!("SELECT {columns} FROM {} WHERE key_hash = $1 AND revoked_at IS NULL", kind.table);
    Ok(sqlx::query_as(&sql).bind(token_hash(key)).fetch_optional(pool).await?)
}
