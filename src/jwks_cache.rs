//! When a remote JWK Set must be fetched again: the policy only, with the
//! fetch left to the caller (fetch on web and Node, `wx.request` in Mini
//! Programs), in the sans-I/O style of the rest of the core.
//!
//! The rules follow jose's remote key sets: a set older than
//! `cache_max_age` is fetched again before use; a token whose `kid` the set
//! lacks triggers one refetch, but not more often than every `cooldown`, so
//! a stream of forged `kid`s cannot turn into a stream of fetches.

use crate::error::Result;
use crate::jwk::KeySet;
use crate::jws::Keys;

/// Default `cacheMaxAge`: 10 minutes.
pub const DEFAULT_CACHE_MAX_AGE_MS: f64 = 600_000.0;
/// Default `cooldown`: 30 seconds.
pub const DEFAULT_COOLDOWN_MS: f64 = 30_000.0;

/// The cached key set of one JWKS URL and when it was fetched.
#[derive(Debug)]
pub struct JwksCache {
    keys: Option<Keys>,
    fetched_at_ms: f64,
    cache_max_age_ms: f64,
    cooldown_ms: f64,
}

impl JwksCache {
    /// An empty cache with the given lifetimes, in milliseconds.
    pub fn new(cache_max_age_ms: f64, cooldown_ms: f64) -> Self {
        Self { keys: None, fetched_at_ms: 0.0, cache_max_age_ms, cooldown_ms }
    }

    /// The cached keys, if a set has been stored.
    pub fn keys(&self) -> Option<&Keys> {
        self.keys.as_ref()
    }

    /// Whether the cached set may be used without fetching first.
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        self.keys.is_some() && now_ms - self.fetched_at_ms < self.cache_max_age_ms
    }

    /// Whether a token with an unknown `kid` may trigger a refetch now.
    pub fn may_refetch(&self, now_ms: f64) -> bool {
        self.keys.is_none() || now_ms - self.fetched_at_ms >= self.cooldown_ms
    }

    /// Stores a freshly fetched JWKS document. A malformed one leaves the
    /// cache as it was.
    pub fn store(&mut self, jwks_json: &[u8], now_ms: f64) -> Result<()> {
        let set = KeySet::from_jwks_json(jwks_json)?;
        self.keys = Some(Keys::Set(set));
        self.fetched_at_ms = now_ms;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &[u8] = br#"{"keys":[{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#;

    #[test]
    fn empty_cache_must_fetch() {
        let cache = JwksCache::new(1000.0, 100.0);
        assert!(!cache.is_fresh(0.0));
        assert!(cache.may_refetch(0.0));
        assert!(cache.keys().is_none());
    }

    #[test]
    fn freshness_and_cooldown_follow_the_clock() {
        let mut cache = JwksCache::new(1000.0, 100.0);
        cache.store(JWKS, 5000.0).unwrap();
        assert!(cache.is_fresh(5999.0));
        assert!(!cache.is_fresh(6000.0));
        assert!(!cache.may_refetch(5099.0));
        assert!(cache.may_refetch(5100.0));
    }

    #[test]
    fn a_bad_document_keeps_the_old_set() {
        let mut cache = JwksCache::new(1000.0, 100.0);
        cache.store(JWKS, 0.0).unwrap();
        let err = cache.store(b"{\"keys\":5}", 500.0).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::JwksInvalid);
        assert!(cache.keys().is_some());
        assert!(!cache.may_refetch(50.0), "the failed store did not count as a fetch");
    }
}
