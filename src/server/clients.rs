//! API clients: app backends that read what the server holds on behalf of
//! no particular user (the rooms, for `rooms:read`). Each is added with
//! `miniauth clients add`, which prints its secret once; it presents it as
//! `Authorization: Bearer mac_…`.

use super::clock::Millis;
use super::credentials::{self, CredentialError, Kind, Listed};
use super::error::AppResult;
use sqlx::AnyPool;

/// API client secrets: `mac_…`.
pub const KIND: Kind =
    Kind { table: "api_clients", prefix: "mac_", id_prefix: "cli", noun: "client", listed: "scopes" };

/// What a client may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// Read any room and its members (`GET /v1/rooms/…`).
    #[value(name = "rooms:read")]
    RoomsRead,
}

impl Scope {
    /// The scope as stored and as `--scope` takes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RoomsRead => "rooms:read",
        }
    }
}

/// A client that presented a current secret.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Client {
    /// The name it was added with.
    pub name: String,
    /// Its scopes, space-separated.
    scopes: String,
}

impl Client {
    /// Whether it was added with `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.split(' ').any(|granted| granted == scope.as_str())
    }
}

/// Adds a client named `name` with `scopes` and answers its secret, which
/// is not kept.
pub async fn add(pool: &AnyPool, name: &str, scopes: &[Scope], now: Millis) -> Result<String, CredentialError> {
    let mut granted: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    granted.sort_unstable();
    granted.dedup();
    credentials::add(pool, &KIND, name, &[("scopes", &granted.join(" "))], now).await
}

/// Revokes the client named `name`: its secret is refused from now on.
pub async fn revoke(pool: &AnyPool, name: &str, now: Millis) -> Result<(), CredentialError> {
    let mut conn = pool.acquire().await?;
    credentials::revoke(&mut conn, &KIND, name, now).await.map(drop)
}

/// Every client, current and revoked, by name, with its scopes.
pub async fn list(pool: &AnyPool) -> Result<Vec<Listed>, CredentialError> {
    credentials::list(pool, &KIND).await
}

/// The current client whose secret `secret` is.
pub async fn authenticate(pool: &AnyPool, secret: &str) -> AppResult<Option<Client>> {
    credentials::current(pool, &KIND, "name, scopes", secret).await
}
