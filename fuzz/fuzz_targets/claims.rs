//! Claims past the signature. The input is a protected header and a claims
//! set, one line each; the target encodes them and signs with the HMAC key,
//! so that mutations reach header rules and claim validation instead of
//! stopping at the signature. A token signed this way whose header says
//! HS256 never fails as a bad signature.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use miniauth::jws::CompactJws;
use miniauth::{Algorithm, ErrorCode, Keys};
use miniauth_fuzz::{hmac_jwk, hmac_keys, verify_everywhere};
use ring::hmac;
use std::sync::LazyLock;

static KEYS: LazyLock<Keys> = LazyLock::new(hmac_keys);

static SIGNING_KEY: LazyLock<hmac::Key> = LazyLock::new(|| {
    let secret = hmac_jwk()["k"].as_str().and_then(|k| URL_SAFE_NO_PAD.decode(k).ok()).expect("the key has a secret");
    hmac::Key::new(hmac::HMAC_SHA256, &secret)
});

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else { return };
    let (header, claims) = (&data[..newline], &data[newline + 1..]);
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let signature = hmac::sign(&SIGNING_KEY, signing_input.as_bytes());
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    let signed_as_claimed = CompactJws::parse(&token).is_ok_and(|jws| jws.header.alg == Algorithm::HS256);
    for outcome in verify_everywhere([&*KEYS], &token) {
        if let Err(error) = outcome {
            let bad_signature = error.code() == ErrorCode::JwsSignatureVerificationFailed;
            assert!(!(signed_as_claimed && bad_signature), "a correct HS256 signature was refused");
        }
    }
});
