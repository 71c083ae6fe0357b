//! Signing keys: generated on first start and kept in the database, rotated
//! on command. The newest key signs; older keys stay in the JWKS until every
//! id_token they signed has expired, so a rotation never breaks a verifier
//! that has cached the set.

use super::clock::Millis;
use super::db::take_turn;
use super::ring_provider;
use super::secrets::random_bytes;
use crate::jwk::KeySet;
use crate::jws::Keys;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};
use sqlx::AnyPool;
use std::sync::{Arc, OnceLock};

/// The algorithms the server signs id_tokens with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys: what every verifier supports.
    #[value(name = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl SigningAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Rs256, Self::Es256, Self::EdDsa].into_iter().find(|a| a.name() == name)
    }
}

/// The newest unretired key, which signs every id_token until the next
/// rotation.
pub struct ActiveKey {
    /// Its `kid` (the RFC 7638 thumbprint).
    pub kid: String,
    /// Its algorithm.
    pub alg: Algorithm,
    /// The private key, for `jsonwebtoken::encode`.
    pub encoding_key: EncodingKey,
}

/// A snapshot of the keys: the signer, and the public set as served and as
/// the server's own verifier sees it.
pub struct KeyRing {
    /// Signs id_tokens.
    pub active: ActiveKey,
    /// `/.well-known/jwks.json`, serialised once.
    pub jwks_json: String,
    /// The same set, imported into the miniauth core for `/v1/userinfo`.
    pub verify_keys: Keys,
    /// Whether `active` signs, found out once: the snapshot never changes.
    signs: OnceLock<bool>,
}

impl KeyRing {
    /// Whether the active key can sign an id_token. Loading does not parse
    /// the private key (a corrupt one only fails when it signs), so this
    /// signs a throwaway token with it, once per snapshot.
    pub fn can_sign(&self) -> bool {
        *self.signs.get_or_init(|| {
            let header = jsonwebtoken::Header::new(self.active.alg);
            jsonwebtoken::encode(&header, &json!({ "probe": true }), &self.active.encoding_key).is_ok()
        })
    }
}

/// Loads the keys, generating the first one when there is none.
pub async fn load_or_create(
    pool: &AnyPool,
    alg: SigningAlgorithm,
    now: Millis,
    id_token_ttl_ms: Millis,
) -> Result<Arc<KeyRing>, KeyError> {
    // Instances starting together on a new database make one key between them.
    let mut tx = pool.begin().await?;
    take_turn(&mut tx, "signing-keys").await?;
    let active: Option<(String,)> =
        sqlx::query_as("SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if active.is_none() {
        NewKey::generate(alg)?.insert(&mut tx, now).await?;
    }
    tx.commit().await?;
    load(pool, now, id_token_ttl_ms).await
}

/// Makes a new key the signer and retires the others. Returns the new `kid`.
/// The key is made first and the switch is one transaction: the server
/// never runs without an active key, and a failed rotation changes nothing.
pub async fn rotate(pool: &AnyPool, alg: SigningAlgorithm, now: Millis) -> Result<String, KeyError> {
    let key = NewKey::generate(alg)?;
    let mut tx = pool.begin().await?;
    take_turn(&mut tx, "signing-keys").await?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL").bind(now).execute(&mut *tx).await?;
    key.insert(&mut tx, now).await?;
    tx.commit().await?;
    Ok(key.kid)
}

/// Reads the current signer and the keys still worth publishing.
pub async fn load(pool: &AnyPool, now: Millis, id_token_ttl_ms: Millis) -> Result<Arc<KeyRing>, KeyError> {
    // A retired key is published until its last token has expired (plus a
    // minute for clock skew).
    let keep_after = now - id_token_ttl_ms - 60_000;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT kid, alg, private_der, public_jwk, retired_at FROM signing_keys
         WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid",
    )
    .bind(keep_after)
    .fetch_all(pool)
    .await?;
    let active = rows.iter().find(|r| r.retired_at.is_none()).ok_or(KeyError::NoActiveKey)?;
    let alg = SigningAlgorithm::from_name(&active.alg).ok_or(KeyError::Corrupt("unknown algorithm"))?;
    let der = &active.private_der;
    let encoding_key = match alg {
        SigningAlgorithm::Rs256 => EncodingKey::from_rsa_der(der),
        SigningAlgorithm::Es256 => EncodingKey::from_ec_der(der),
        SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(der),
    };
    let keys: Vec<Value> = rows
        .iter()
        .map(|row| serde_json::from_str(&row.public_jwk).map_err(|_| KeyError::Corrupt("public JWK is not JSON")))
        .collect::<Result<_, _>>()?;
    let jwks_json = json!({ "keys": keys }).to_string();
    let key_set =
        KeySet::from_jwks_json(jwks_json.as_bytes()).map_err(|_| KeyError::Corrupt("JWKS does not import"))?;
    ring_provider::install();
    Ok(Arc::new(KeyRing {
        active: ActiveKey { kid: active.kid.clone(), alg: alg.jwt(), encoding_key },
        jwks_json,
        verify_keys: Keys::Set(key_set),
        signs: OnceLock::new(),
    }))
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_der: Vec<u8>,
    public_jwk: String,
    retired_at: Option<i64>,
}

/// A generated key, not stored yet.
struct NewKey {
    kid: String,
    alg: SigningAlgorithm,
    private_der: Vec<u8>,
    public_jwk: Value,
}

impl NewKey {
    fn generate(alg: SigningAlgorithm) -> Result<Self, KeyError> {
        let (private_der, mut public_jwk) = generate(alg)?;
        let kid = thumbprint(&public_jwk);
        public_jwk["kid"] = json!(kid);
        public_jwk["alg"] = json!(alg.name());
        public_jwk["use"] = json!("sig");
        Ok(Self { kid, alg, private_der, public_jwk })
    }

    async fn insert(&self, conn: &mut sqlx::AnyConnection, now: Millis) -> Result<(), KeyError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&self.kid)
        .bind(self.alg.name())
        .bind(&self.private_der)
        .bind(self.public_jwk.to_string())
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// A new key pair: the private key as `jsonwebtoken` reads it (PKCS#1 DER
/// for RSA, PKCS#8 DER otherwise) and the public JWK.
fn generate(alg: SigningAlgorithm) -> Result<(Vec<u8>, Value), KeyError> {
    let rng = SystemRandom::new();
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match alg {
        SigningAlgorithm::Rs256 => {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            use rsa::traits::PublicKeyParts;
            // ring cannot generate RSA keys; the rsa crate does, once.
            let key = rsa::RsaPrivateKey::new(&mut OsRandom, 2048).map_err(|_| KeyError::Generate)?;
            let der = key.to_pkcs1_der().map_err(|_| KeyError::Generate)?.as_bytes().to_vec();
            let jwk = json!({ "kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be()) });
            Ok((der, jwk))
        }
        SigningAlgorithm::Es256 => {
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| KeyError::Generate)?;
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).map_err(|_| KeyError::Generate)?;
            let point = pair.public_key().as_ref();
            let jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65]) });
            Ok((pkcs8.as_ref().to_vec(), jwk))
        }
        SigningAlgorithm::EdDsa => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Generate)?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError::Generate)?;
            let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()) });
            Ok((pkcs8.as_ref().to_vec(), jwk))
        }
    }
}

/// The RFC 7638 thumbprint: SHA-256 over the required members in order.
fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    // serde_json without preserve_order writes object members sorted.
    let canonical: serde_json::Map<String, Value> = members.iter().map(|m| (m.to_string(), jwk[*m].clone())).collect();
    let digest = ring::digest::digest(&ring::digest::SHA256, Value::Object(canonical).to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The operating system's randomness for the rsa crate's key generation.
struct OsRandom;

impl rsa::rand_core::RngCore for OsRandom {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(random_bytes())
    }

    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(random_bytes())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use ring::rand::SecureRandom;
        SystemRandom::new().fill(dest).expect("the operating system's random source failed");
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for OsRandom {}

/// Why keys could not be loaded or made.
#[derive(Debug)]
pub enum KeyError {
    /// A query on `signing_keys` failed.
    Database(sqlx::Error),
    /// Key generation failed.
    Generate,
    /// No unretired key exists.
    NoActiveKey,
    /// A stored key's algorithm or public JWK cannot be read back; the text
    /// says which.
    Corrupt(&'static str),
}

impl From<sqlx::Error> for KeyError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database(e) => write!(f, "database: {e}"),
            Self::Generate => f.write_str("key generation failed"),
            Self::NoActiveKey => f.write_str("no active signing key"),
            Self::Corrupt(why) => write!(f, "stored signing key is corrupt: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}
