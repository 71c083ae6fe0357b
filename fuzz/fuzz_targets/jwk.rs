//! Key import, as callers hand keys over: the input is read as one JWK, as a
//! JWK Set and as an SPKI PEM key. Each import fails only with its
//! documented codes; an imported key may verify at least one algorithm,
//! refuses the others, and reports a wrong signature as one; a key set
//! selects only keys of the algorithm's type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miniauth::algorithm::KeyFamily;
use miniauth::{Algorithm, ErrorCode, KeySet, VerifyingKey};
use miniauth_fuzz::check_error;

const KEY_ERRORS: &[ErrorCode] = &[ErrorCode::JwkInvalid, ErrorCode::JoseNotSupported];

fuzz_target!(|data: &[u8]| {
    match VerifyingKey::from_jwk_json(data) {
        Ok(key) => check_key(&key),
        Err(error) => check_error(&error, KEY_ERRORS),
    }
    match KeySet::from_jwks_json(data) {
        Ok(set) => check_set(&set),
        Err(error) => check_error(&error, &[ErrorCode::JwksInvalid]),
    }
    if let Ok(pem) = std::str::from_utf8(data) {
        match VerifyingKey::from_spki_pem(pem) {
            Ok(key) => check_key(&key),
            Err(error) => check_error(&error, KEY_ERRORS),
        }
    }
});

fn check_key(key: &VerifyingKey) {
    assert!(!key.algorithms().is_empty(), "an imported key verifies nothing");
    for alg in Algorithm::ALL {
        let error = key.verify(alg, b"header.payload", &[0; 64]).expect_err("a zero signature verified");
        let expected = match key.algorithms().contains(alg) {
            true => ErrorCode::JwsSignatureVerificationFailed,
            false => ErrorCode::JoseAlgNotAllowed,
        };
        assert_eq!(error.code(), expected, "{alg}");
    }
}

fn check_set(set: &KeySet) {
    for alg in Algorithm::ALL {
        match set.select(alg, None) {
            Ok(key) => {
                // Selection ignores an HMAC secret's length, as jose does; the
                // secret then refuses a hash longer than itself.
                let hmac = alg.key_family() == KeyFamily::Hmac;
                assert!(hmac || key.algorithms().contains(alg), "selected a key that may not verify {alg}");
                check_key(key);
            }
            Err(error) => check_error(
                &error,
                &[
                    ErrorCode::JwksNoMatchingKey,
                    ErrorCode::JwksMultipleMatchingKeys,
                    ErrorCode::JwkInvalid,
                    ErrorCode::JoseNotSupported,
                ],
            ),
        }
    }
}
