//! Project Wycheproof's JOSE vectors, decided with miniauth's own key import
//! and JWS verification:
//!
//! * `json_web_signature_test.json`: one JWK per group (`public`, or
//!   `private` for `oct`), each `jws` checked at JWS level (payloads are not
//!   always JSON, so not through the JWT verifier);
//! * `json_web_key_test.json`: one JWK Set per group, the key selected by the
//!   token's `alg` and `kid`.
//!
//! Every vector is decided as the file says, except the few listed in the
//! `*_EXCEPTIONS` tables with the exact reason; the number decided is
//! asserted, so a group that is silently skipped fails the test.

mod common;

use common::read_json;
use miniauth::jws::CompactJws;
use miniauth::{Error, ErrorCode, KeySet, Keys, VerifyingKey};
use serde_json::Value;

/// A vector miniauth cannot decide as the file says, and what it does instead.
struct Exception {
    tc_id: u64,
    /// `Some(code)`: miniauth rejects with this code; `None`: it accepts.
    outcome: Option<ErrorCode>,
    reason: &'static str,
}

const JWS_EXCEPTIONS: &[Exception] = &[
    Exception {
        tc_id: 346,
        outcome: Some(ErrorCode::JoseAlgNotAllowed),
        reason: "RFC 7520 Figure 20 is signed with PS384, but the group's key declares \"alg\": \"PS256\". \
                 A key is bound to its \"alg\" (RFC 7517 §4.4), so the PS384 token is refused. \
                 (tests/rfc7520.rs verifies the same token with the cookbook's key, which has no \"alg\".)",
    },
    Exception {
        tc_id: 347,
        outcome: Some(ErrorCode::JoseNotSupported),
        reason: "ES512 on P-521 (RFC 7520 Figure 27): ring has no P-521, so the key import fails with \
                 ERR_JOSE_NOT_SUPPORTED.",
    },
    Exception {
        tc_id: 350,
        outcome: Some(ErrorCode::JoseAlgNotAllowed),
        reason: "as tcId 346 (PS384 token, key declares \"alg\": \"PS256\"), with key_ops [\"verify\"].",
    },
    Exception {
        tc_id: 351,
        outcome: Some(ErrorCode::JoseNotSupported),
        reason: "as tcId 347 (ES512/P-521 is not supported), with key_ops [\"verify\"].",
    },
    Exception {
        tc_id: 367,
        outcome: None,
        reason: "\"invalidBase64Padding\", but the jws is byte for byte the valid tcId 357: the padding the \
                 comment describes is not in the string, so a correct verifier accepts it. \
                 (padded_variants_are_refused checks the padded form.)",
    },
    Exception {
        tc_id: 370,
        outcome: None,
        reason: "\"invalidBase64PaddingInPayload\", but, as tcId 367, the jws is identical to the valid tcId 357.",
    },
    Exception {
        tc_id: 372,
        outcome: Some(ErrorCode::JwsInvalid),
        reason: "marked valid although a '?' was inserted into the base64url header: the signed part is not \
                 what was signed, and '?' is not base64url, so no correct verifier accepts it \
                 (a lenient decoder that skips the character would).",
    },
    Exception {
        tc_id: 373,
        outcome: Some(ErrorCode::JwsInvalid),
        reason: "as tcId 372, with the '?' inserted into the payload.",
    },
];

const JWK_EXCEPTIONS: &[Exception] = &[Exception {
    tc_id: 7,
    outcome: None,
    reason: "the key has the ROCA fingerprint (CVE-2017-15361, weak Infineon key generation). miniauth (like \
             ring) does not test moduli for it; the key is otherwise a well-formed 2049-bit RSA key and the \
             signature is valid, so the token verifies.",
}];

/// The code a rejection must carry, where the vector pins it down.
fn expected_rejection(test: &Value) -> Option<ErrorCode> {
    let comment = test["comment"].as_str().unwrap();
    let flags: Vec<&str> = test["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    if flags.contains(&"AlgIsNone") || comment == "rejectsNoneAlgorithmAndMissingSignature" {
        Some(ErrorCode::JoseAlgNotAllowed)
    } else if comment.starts_with("rejectsSymmetryConfusionAttacks") {
        // The EC key may not verify HS256, so its bytes never become an HMAC secret.
        Some(ErrorCode::JoseAlgNotAllowed)
    } else if flags.contains(&"ModifiedSignature") || flags.contains(&"ModifiedPadding") {
        Some(ErrorCode::JwsSignatureVerificationFailed)
    } else if matches!(comment, "rejectWrongUse" | "rejectWrongKeyOps") {
        Some(ErrorCode::JwkInvalid)
    } else if flags.contains(&"JsonSerialization") {
        Some(ErrorCode::JwsInvalid)
    } else {
        None
    }
}

/// Decides every vector of `file` with `decide(group, jws)`, checks the
/// outcomes, and returns how many were decided as the file says.
fn run(file: &str, exceptions: &[Exception], decide: impl Fn(&Value, &str) -> Result<(), Error>) -> usize {
    let doc = read_json(&format!("wycheproof/{file}"));
    let mut total = 0;
    let mut decided = 0;
    let mut failures = Vec::new();
    let mut exceptions_seen = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        for test in group["tests"].as_array().unwrap() {
            total += 1;
            let tc_id = test["tcId"].as_u64().unwrap();
            let result = test["result"].as_str().unwrap();
            let jws = test["jws"].as_str().unwrap();
            let outcome = decide(group, jws);
            let describe = || format!("tcId {tc_id} ({}, {result}): {outcome:?}", test["comment"]);

            if let Some(exception) = exceptions.iter().find(|e| e.tc_id == tc_id) {
                exceptions_seen.push(tc_id);
                let as_listed = match (&outcome, exception.outcome) {
                    (Ok(()), None) => true,
                    (Err(error), Some(code)) => error.code() == code,
                    _ => false,
                };
                if !as_listed {
                    failures.push(format!("exception no longer holds: {} [{}]", describe(), exception.reason));
                }
                continue;
            }
            match result {
                "valid" if outcome.is_ok() => decided += 1,
                "invalid" => match (&outcome, expected_rejection(test)) {
                    (Err(error), Some(code)) if error.code() != code => {
                        failures.push(format!("rejected with the wrong code, expected {code}: {}", describe()))
                    }
                    (Err(_), _) => decided += 1,
                    (Ok(()), _) => failures.push(format!("accepted an invalid vector: {}", describe())),
                },
                "valid" => failures.push(format!("rejected a valid vector: {}", describe())),
                other => failures.push(format!("undecided result {other:?}: {}", describe())),
            }
        }
    }
    assert_eq!(total, doc["numberOfTests"].as_u64().unwrap() as usize, "{file}: vectors seen");
    assert_eq!(exceptions_seen.len(), exceptions.len(), "{file}: every listed exception must exist");
    assert!(failures.is_empty(), "{file}: {} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(decided + exceptions.len(), total);
    decided
}

/// The group's key as JSON text: `public`, or `private` where there is no
/// public half (`oct`).
fn group_key(group: &Value) -> String {
    let key = if group["public"].is_null() { &group["private"] } else { &group["public"] };
    assert!(key.is_object(), "group without a key: {}", group["comment"]);
    key.to_string()
}

#[test]
fn json_web_signature_vectors() {
    let decided = run("json_web_signature_test.json", JWS_EXCEPTIONS, |group, jws| {
        let key = VerifyingKey::from_jwk_json(group_key(group).as_bytes())?;
        CompactJws::parse(jws)?.verify(&Keys::Single(key), None)
    });
    assert_eq!(decided, 401 - JWS_EXCEPTIONS.len());
    assert_eq!(decided, 393);
}

#[test]
fn json_web_key_vectors() {
    let decided = run("json_web_key_test.json", JWK_EXCEPTIONS, |group, jws| {
        let keys = Keys::Set(KeySet::from_jwks_json(group_key(group).as_bytes())?);
        CompactJws::parse(jws)?.verify(&keys, None)
    });
    assert_eq!(decided, 25);
}

#[test]
fn p521_keys_fail_at_import_as_not_supported() {
    // The reason behind exceptions 347 and 351, checked directly.
    let doc = read_json("wycheproof/json_web_signature_test.json");
    let p521_groups: Vec<&Value> =
        doc["testGroups"].as_array().unwrap().iter().filter(|g| g["public"]["crv"] == "P-521").collect();
    assert_eq!(p521_groups.len(), 2);
    for group in p521_groups {
        let error = VerifyingKey::from_jwk_json(group_key(group).as_bytes()).unwrap_err();
        assert_eq!(error.code(), ErrorCode::JoseNotSupported, "{error}");
    }
}

#[test]
fn padded_variants_are_refused() {
    // What tcIds 367 and 370 describe: base64 padding on the MAC or on the payload.
    let doc = read_json("wycheproof/json_web_signature_test.json");
    let valid_357 = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .find(|t| t["tcId"] == 357)
        .unwrap()["jws"]
        .as_str()
        .unwrap()
        .to_string();
    let [header, payload, mac] = common::parts(&valid_357);
    assert_eq!(payload, "VGVzdA");
    for padded in [format!("{header}.{payload}.{mac}="), format!("{header}.{payload}==.{mac}")] {
        let error = CompactJws::parse(&padded).unwrap_err();
        assert_eq!(error.code(), ErrorCode::JwsInvalid, "{padded}");
    }
}
