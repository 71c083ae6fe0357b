//! Hits and misses are told apart by verifying with the wrong key: a hit
//! never looks at the signature, a miss fails on it.

use super::*;
use crate::base64url;
use crate::error::ErrorCode::{self, JwsSignatureVerificationFailed, JwtExpired, JwtNotYetValid};
use crate::jwk::VerifyingKey;
use alloc::format;
use ring::hmac;

const SECRET: &[u8] = b"the secret that signed every token of these tests, 32+ bytes";
const OTHER_SECRET: &[u8] = b"a secret that signed none of them, also long enough for HS256";
const NOW: f64 = 1_700_000_000.0;

fn ms(seconds: f64) -> f64 {
    seconds * 1000.0
}

fn token(claims: &str) -> String {
    let input = format!("{}.{}", base64url::encode(br#"{"alg":"HS256"}"#), base64url::encode(claims.as_bytes()));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", base64url::encode(tag.as_ref()))
}

fn keys(secret: &[u8]) -> Keys {
    Keys::Single(VerifyingKey::from_hmac_secret(secret).unwrap())
}

struct Fixture {
    validation: Validation,
    cache: TokenCache,
    right: Keys,
    wrong: Keys,
}

impl Fixture {
    fn new(options: &str) -> Self {
        let validation = Validation::from_json(options.as_bytes()).unwrap();
        let cache = TokenCache::new(validation.cache_settings().expect("the options ask for a cache"));
        Self { validation, cache, right: keys(SECRET), wrong: keys(OTHER_SECRET) }
    }

    fn verify(&mut self, token: &str, at: f64) -> Result<Lookup> {
        self.cache.verify(&self.validation, &self.right, token, ms(at))
    }

    /// Verifies with a key that did not sign `token`: succeeds only from the cache.
    fn only_from_cache(&mut self, token: &str, at: f64) -> Result<Lookup> {
        self.cache.verify(&self.validation, &self.wrong, token, ms(at))
    }
}

fn code(result: Result<Lookup>) -> ErrorCode {
    result.expect_err("expected a failure").code()
}

/// The slot a fresh verification was stored in.
fn stored(result: Result<Lookup>) -> u32 {
    match result {
        Ok(Lookup::Stored { slot, .. }) => slot,
        other => panic!("expected a stored verification, got {other:?}"),
    }
}

#[test]
fn a_verified_token_is_answered_from_the_cache_with_the_same_result() {
    let mut f = Fixture::new(r#"{"cache":true}"#);
    let t = token(&format!(r#"{{"sub":"u1","exp":{}}}"#, NOW + 60.0));
    let Lookup::Stored { slot, verified_json } = f.verify(&t, NOW).unwrap() else { panic!("a miss first") };
    assert!(verified_json.contains(r#""sub":"u1""#), "{verified_json}");
    assert_eq!(f.cache.len(), 1);
    assert_eq!(f.only_from_cache(&t, NOW + 1.0).unwrap(), Lookup::Hit(slot));
    let other = token(&format!(r#"{{"sub":"u2","exp":{}}}"#, NOW + 60.0));
    assert_eq!(code(f.only_from_cache(&other, NOW)), JwsSignatureVerificationFailed, "another token is a miss");
}

#[test]
fn a_token_differing_in_its_signature_is_a_miss() {
    let mut f = Fixture::new(r#"{"cache":true}"#);
    let t = token(r#"{"sub":"u1"}"#);
    f.verify(&t, NOW).unwrap();
    let last = if t.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &t[..t.len() - 1]);
    assert_eq!(code(f.verify(&forged, NOW)), JwsSignatureVerificationFailed);
}

#[test]
fn failures_are_never_cached() {
    let mut f = Fixture::new(r#"{"cache":true}"#);
    let expired = token(&format!(r#"{{"exp":{}}}"#, NOW - 1.0));
    assert_eq!(code(f.verify(&expired, NOW)), JwtExpired);
    let foreign = token(r#"{"sub":"u1"}"#);
    assert_eq!(code(f.only_from_cache(&foreign, NOW)), JwsSignatureVerificationFailed);
    assert!(f.cache.is_empty());
}

#[test]
fn a_hit_after_exp_is_expired_even_without_iat() {
    let mut f = Fixture::new(r#"{"cache":{"ttl":600}}"#);
    let t = token(&format!(r#"{{"exp":{}}}"#, NOW + 10.0));
    f.verify(&t, NOW).unwrap();
    f.only_from_cache(&t, NOW + 9.0).unwrap();
    assert_eq!(code(f.verify(&t, NOW + 10.0)), JwtExpired, "expired, though well within the ttl");
    assert!(f.cache.is_empty(), "the expired entry is dropped");
}

#[test]
fn clock_tolerance_applies_to_hits_as_to_full_verifications() {
    let mut f = Fixture::new(r#"{"cache":true,"clockTolerance":5}"#);
    let t = token(&format!(r#"{{"exp":{}}}"#, NOW + 10.0));
    f.verify(&t, NOW).unwrap();
    f.only_from_cache(&t, NOW + 14.0).unwrap();
    assert_eq!(code(f.verify(&t, NOW + 15.0)), JwtExpired);
}

#[test]
fn max_token_age_is_checked_on_every_hit() {
    let mut f = Fixture::new(r#"{"cache":true,"maxTokenAge":60}"#);
    let t = token(&format!(r#"{{"iat":{NOW}}}"#));
    f.verify(&t, NOW).unwrap();
    f.only_from_cache(&t, NOW + 60.0).unwrap();
    let error = f.verify(&t, NOW + 61.0).expect_err("too old");
    assert_eq!((error.code(), error.claim_name()), (JwtExpired, Some("iat")));
}

#[test]
fn a_token_not_yet_valid_is_not_cached_and_verifies_once_its_time_comes() {
    let mut f = Fixture::new(r#"{"cache":true}"#);
    let t = token(&format!(r#"{{"nbf":{}}}"#, NOW + 10.0));
    assert_eq!(code(f.verify(&t, NOW)), JwtNotYetValid);
    assert!(f.cache.is_empty());
    f.verify(&t, NOW + 10.0).unwrap();
    f.only_from_cache(&t, NOW + 11.0).unwrap();
}

#[test]
fn an_entry_is_used_for_at_most_the_ttl() {
    let mut f = Fixture::new(r#"{"cache":{"ttl":"2s"}}"#);
    let t = token(r#"{"sub":"no time claims at all"}"#);
    f.verify(&t, NOW).unwrap();
    f.only_from_cache(&t, NOW + 2.0).unwrap();
    assert_eq!(code(f.only_from_cache(&t, NOW + 2.001)), JwsSignatureVerificationFailed, "past the ttl: a miss");
    assert!(f.cache.is_empty());
}

#[test]
fn the_least_recently_used_entry_is_evicted_at_max() {
    let mut f = Fixture::new(r#"{"cache":{"max":2}}"#);
    let [a, b, c] = ["a", "b", "c"].map(|sub| token(&format!(r#"{{"sub":"{sub}"}}"#)));
    let slot_a = stored(f.verify(&a, NOW));
    let slot_b = stored(f.verify(&b, NOW));
    f.only_from_cache(&a, NOW).unwrap(); // a is now newer than b
    assert_eq!(stored(f.verify(&c, NOW)), slot_b, "c takes the slot of b, which was evicted");
    assert_eq!(f.cache.len(), 2);
    assert_eq!(f.only_from_cache(&a, NOW).unwrap(), Lookup::Hit(slot_a));
    assert_eq!(f.only_from_cache(&c, NOW).unwrap(), Lookup::Hit(slot_b));
    assert_eq!(code(f.only_from_cache(&b, NOW)), JwsSignatureVerificationFailed, "b was evicted");
}

#[test]
fn current_date_decides_the_claims_and_the_clock_the_ttl() {
    let options = format!(r#"{{"cache":{{"ttl":60}},"currentDate":{}}}"#, ms(NOW));
    let mut f = Fixture::new(&options);
    let t = token(&format!(r#"{{"exp":{}}}"#, NOW + 10.0));
    let clock = NOW + 86_400.0; // a day past exp, but the claims are checked at currentDate
    f.verify(&t, clock).unwrap();
    f.only_from_cache(&t, clock + 60.0).unwrap();
    assert_eq!(code(f.only_from_cache(&t, clock + 61.0)), JwsSignatureVerificationFailed, "the ttl runs on the clock");
}

#[test]
fn an_oversized_token_is_refused_without_being_cached() {
    let mut f = Fixture::new(r#"{"cache":true}"#);
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert_eq!(code(f.verify(&huge, NOW)), ErrorCode::JwsInvalid);
    assert!(f.cache.is_empty());
}

/// Random verifications of a pool of tokens against a plain list kept in
/// recency order: the same tokens are held, each where the index says, the
/// recency list in the same order, and slots stay below `max_entries`.
#[test]
fn the_index_and_the_recency_list_agree_with_a_simple_model() {
    let pool: alloc::vec::Vec<String> = (0..48).map(|i| token(&format!(r#"{{"sub":"{i}"}}"#))).collect();
    for max_entries in [1, 2, 3, 8, 40] {
        let mut f = Fixture::new(&format!(r#"{{"cache":{{"max":{max_entries}}}}}"#));
        let mut model: alloc::vec::Vec<TokenHash> = alloc::vec::Vec::new(); // oldest first
        let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ max_entries as u64;
        for _ in 0..5_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let token = &pool[(state % pool.len() as u64) as usize];
            let hash = sha256(token);
            let held = model.iter().position(|h| *h == hash);
            let lookup = f.verify(token, NOW).unwrap();
            let slot = match lookup {
                Lookup::Hit(slot) => {
                    assert!(held.is_some(), "a hit for a token not held");
                    slot
                }
                Lookup::Stored { slot, .. } => {
                    assert!(held.is_none(), "a held token verified again");
                    slot
                }
            };
            assert!((slot as usize) < max_entries);
            if let Some(at) = held {
                model.remove(at);
            } else if model.len() == max_entries {
                model.remove(0);
            }
            model.push(hash);

            assert_eq!(f.cache.len(), model.len());
            let mut walk = f.cache.oldest;
            for hash in &model {
                let (place, found) = f.cache.find(hash).expect("every held token is found");
                assert_eq!(f.cache.index[place], found);
                assert_eq!(found, walk, "the recency list runs oldest to newest as the model does");
                walk = f.cache.slots[walk as usize].newer;
            }
            assert_eq!(walk, NONE);
        }
    }
}
