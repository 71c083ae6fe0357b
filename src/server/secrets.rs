//! Random values and how they are stored: session and state tokens are 256
//! random bits handed out once and kept only as SHA-256 hashes; one-time
//! codes are kept as salted hashes and compared in constant time; the
//! server's own secrets live in the database, shared by its instances.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is not something a server can go on from.
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A bearer secret: 256 random bits, base64url (43 characters).
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// An identifier with a readable prefix, e.g. `usr_…` (128 random bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(random_bytes::<16>()))
}

/// How a bearer token is stored and looked up.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

/// A session token derived from `parent` with the server's `key`: what
/// `parent` rotates to. 256 bits, base64url, as unpredictable as a random
/// token to anyone without the key.
pub fn derived_token(key: &[u8], parent: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, parent.as_bytes()).as_ref())
}

/// The server secret `name` (32 bytes), made on first use. Instances that
/// start together agree on one.
pub async fn server_secret(pool: &sqlx::AnyPool, name: &str, now: i64) -> Result<Vec<u8>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    super::db::take_turn(&mut tx, &format!("server-secret:{name}")).await?;
    let stored: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT secret FROM server_secrets WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
    let secret = match stored {
        Some((secret,)) => secret,
        None => {
            let secret = random_bytes::<32>().to_vec();
            sqlx::query("INSERT INTO server_secrets (name, secret, created_at) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(&secret)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            secret
        }
    };
    tx.commit().await?;
    Ok(secret)
}

/// A uniformly random six-digit code, leading zeros included.
pub fn new_six_digit_code() -> String {
    // Rejection sampling keeps the distribution uniform.
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>());
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The stored form of a one-time code: SHA-256 over salt and code.
pub fn salted_hash(salt: &[u8], code: &str) -> Vec<u8> {
    let mut input = salt.to_vec();
    input.extend_from_slice(code.as_bytes());
    digest(&SHA256, &input).as_ref().to_vec()
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_url_safe() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn derived_tokens_depend_on_key_and_parent() {
        let parent = new_token();
        let child = derived_token(b"key one", &parent);
        assert_eq!(child, derived_token(b"key one", &parent), "the same on every instance");
        assert_eq!(child.len(), 43);
        assert_ne!(child, derived_token(b"key two", &parent));
        assert_ne!(child, derived_token(b"key one", &new_token()));
        assert_ne!(child, parent);
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let code = new_six_digit_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn salted_hashes_compare_in_constant_time() {
        let salt = random_bytes::<16>();
        let stored = salted_hash(&salt, "123456");
        assert!(constant_time_eq(&stored, &salted_hash(&salt, "123456")));
        assert!(!constant_time_eq(&stored, &salted_hash(&salt, "123457")));
        assert!(!constant_time_eq(&stored, &stored[..31]));
    }
}
