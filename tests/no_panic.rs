//! "No panic" properties: whatever bytes arrive, the parsing and verifying
//! entry points return `Ok` or `Err` and never panic (a panic in the
//! WebAssembly module is an abort that takes the page or Mini Program down).
//!
//! Inputs are derived from real tokens, keys and PEMs (every truncation,
//! random edits) and generated from scratch (random base64url segments,
//! random JSON headers, claims and JWKs, random DER), all from a fixed-seed
//! PRNG so that any failure replays exactly.

mod common;

use common::*;
use miniauth::jws::{decode_protected_header, CompactJws};
use miniauth::jwt::decode_jwt;
use miniauth::{Algorithm, KeySet, Keys, Validation, Verifier, VerifyingKey};
use serde_json::{json, Value};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SPICE: &[&str] = &[
    ".",
    "..",
    "=",
    "==",
    "+",
    "/",
    " ",
    "\n",
    "\r\n",
    "\t",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\\",
    "\u{0}",
    "\u{e9}",
    "\u{feff}",
    "\u{1F600}",
    "A",
    "-",
    "_",
    "%",
    "-----",
    "-----BEGIN PUBLIC KEY-----",
    "-----END PUBLIC KEY-----",
];

/// Calls entry points, catching panics and remembering the inputs that caused them.
struct Probe {
    failures: Vec<String>,
    calls: usize,
    accepted: usize,
}

impl Probe {
    fn new() -> Self {
        Self { failures: Vec::new(), calls: 0, accepted: 0 }
    }

    fn call<T, E>(&mut self, what: &str, input: &impl Debug, f: impl FnOnce() -> Result<T, E>) -> Option<T> {
        self.calls += 1;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(value)) => {
                self.accepted += 1;
                Some(value)
            }
            Ok(Err(_)) => None,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let mut shown = format!("{input:?}");
                shown.truncate(600);
                self.failures.push(format!("{what} panicked ({message}) on {shown}"));
                None
            }
        }
    }

    fn assert_no_panics(&self) {
        assert!(
            self.failures.is_empty(),
            "{} of {} calls panicked; first ones:\n{}",
            self.failures.len(),
            self.calls,
            self.failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

// ---------------------------------------------------------------- what every input goes through

struct Targets {
    verifiers: Vec<Verifier>,
    keys: Vec<Keys>,
}

impl Targets {
    fn new() -> Self {
        let public_set = || {
            let keys: Vec<Value> = ["rsa-2048-a", "ec-p256", "ec-p384", "ed25519"]
                .iter()
                .map(|stem| {
                    let mut jwk: Value = serde_json::from_str(&key_file(&format!("{stem}.pub.jwk"))).unwrap();
                    jwk["kid"] = json!(stem);
                    jwk
                })
                .collect();
            Keys::Set(KeySet::from_jwks_json(json!({ "keys": keys }).to_string().as_bytes()).unwrap())
        };
        let hmac = || Keys::Single(VerifyingKey::from_hmac_secret(HMAC_SECRET).unwrap());
        let options = r#"{"issuer":"i","audience":"a","maxTokenAge":"1h","requiredClaims":["sub"],"typ":"JWT"}"#;
        Self {
            verifiers: vec![verifier_for(public_set(), "{}"), verifier_for(hmac(), options)],
            keys: vec![public_set(), hmac(), Keys::Single(pem_key(&key_file("rsa-2048-a.pub.pem")))],
        }
    }

    fn token(&self, probe: &mut Probe, token: &str) {
        if let Some(jws) = probe.call("CompactJws::parse", &token, || CompactJws::parse(token)) {
            for keys in &self.keys {
                probe.call("CompactJws::verify", &token, || jws.verify(keys, None));
            }
        }
        probe.call("decode_jwt", &token, || decode_jwt(token));
        probe.call("decode_protected_header", &token, || decode_protected_header(token));
        for verifier in &self.verifiers {
            probe.call("Verifier::verify", &token, || verifier.verify(token, NOW_MS));
        }
    }

    fn key_document(&self, probe: &mut Probe, bytes: &[u8], kid: Option<&str>) {
        let text = String::from_utf8_lossy(bytes);
        probe.call("VerifyingKey::from_jwk_json", &text, || VerifyingKey::from_jwk_json(bytes));
        probe.call("VerifyingKey::from_spki_pem", &text, || VerifyingKey::from_spki_pem(&text));
        probe.call("Validation::from_json", &text, || Validation::from_json(bytes));
        if let Some(set) = probe.call("KeySet::from_jwks_json", &text, || KeySet::from_jwks_json(bytes)) {
            for alg in Algorithm::ALL {
                probe.call("KeySet::select", &text, || set.select(alg, kid).map(|_| ()));
                probe.call("KeySet::select", &text, || set.select(alg, None).map(|_| ()));
            }
        }
    }

    fn pem(&self, probe: &mut Probe, pem: &str) {
        if let Some(key) = probe.call("VerifyingKey::from_spki_pem", &pem, || VerifyingKey::from_spki_pem(pem)) {
            for alg in Algorithm::ALL {
                probe.call("VerifyingKey::verify", &pem, || key.verify(alg, b"message", &[0; 64]));
            }
        }
    }
}

// ---------------------------------------------------------------- generators

fn random_b64url(rng: &mut Rng, len: usize) -> String {
    (0..len).map(|_| *rng.pick(B64URL) as char).collect()
}

/// One to six random base64url segments joined by dots.
fn random_segments(rng: &mut Rng) -> String {
    let count = 1 + rng.below(6);
    (0..count)
        .map(|_| {
            let max = if rng.chance(4) { 400 } else { 60 };
            let len = rng.below(max);
            random_b64url(rng, len)
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Applies one to four random edits, always at character boundaries.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = if len == 0 { 0 } else { rng.below(len + 1) };
        match rng.below(7) {
            0 => chars.truncate(at),
            1 => {
                let end = (at + 1 + rng.below(8)).min(len);
                chars.drain(at..end.max(at));
            }
            2 => {
                let spice = *rng.pick(SPICE);
                chars.splice(at..at, spice.chars());
            }
            3 if at < len => chars[at] = *rng.pick(B64URL) as char,
            4 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(at..at, copy);
            }
            5 => {
                let len = rng.below(12);
                let random = random_b64url(rng, len);
                chars.splice(at..at, random.chars());
            }
            _ => {
                if let Some(dot) = chars.iter().position(|c| *c == '.') {
                    chars.remove(dot);
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn random_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(2)),
        2 => json!(rng.next_u64() as i64 >> rng.below(64)),
        3 => json!((rng.next_u64() as f64) / (1u64 << rng.below(64)) as f64 - 1e9),
        4 | 5 => {
            let len = rng.below(20);
            json!(random_b64url(rng, len))
        }
        6 => Value::Array((0..rng.below(4)).map(|_| random_json(rng, depth + 1)).collect()),
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                let len = rng.below(6);
                map.insert(random_b64url(rng, len), random_json(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// An object with members drawn from `names`, each valued from its own pool
/// of interesting values or at random.
fn random_object(rng: &mut Rng, members: &[(&str, &[Value])]) -> Value {
    let mut map = serde_json::Map::new();
    for (name, pool) in members {
        if rng.chance(3) {
            continue;
        }
        let value = if pool.is_empty() || rng.chance(6) { random_json(rng, 1) } else { rng.pick(pool).clone() };
        map.insert(name.to_string(), value);
    }
    Value::Object(map)
}

fn random_header(rng: &mut Rng) -> Value {
    let mut header = random_header_members(rng);
    // Mostly a well-formed alg, and rarely the members that make most headers invalid.
    if !rng.chance(10) {
        header["alg"] = json!(rng.pick(&Algorithm::ALL).name());
    }
    if !rng.chance(4) {
        let map = header.as_object_mut().unwrap();
        map.remove("crit");
        map.remove("b64");
    }
    header
}

fn random_header_members(rng: &mut Rng) -> Value {
    let algs: Vec<Value> = Algorithm::ALL
        .iter()
        .map(|a| json!(a.name()))
        .chain(["none", "NONE", "ES512", "Ed25519", ""].into_iter().map(|s| json!(s)))
        .collect();
    random_object(
        rng,
        &[
            ("alg", &algs),
            ("kid", &[json!("rsa-2048-a"), json!("ec-p256"), json!("ed25519"), json!("nope"), json!("")]),
            ("typ", &[json!("JWT"), json!("at+jwt"), json!("application/jwt")]),
            ("crit", &[json!(["b64"]), json!([]), json!(["x"]), json!(["alg"]), json!(["b64", "b64"]), json!("b64")]),
            ("b64", &[json!(false), json!(true), json!("false")]),
            ("x", &[json!(1)]),
            ("jwk", &[json!({"kty": "oct", "k": "AAAA"})]),
        ],
    )
}

fn random_claims(rng: &mut Rng) -> Value {
    let times = [json!(NOW), json!(NOW - 7200), json!(NOW + 60), json!("0"), json!(1e300), json!(-1e300), json!(0.5)];
    random_object(
        rng,
        &[
            ("iss", &[json!("i"), json!(["i"])]),
            ("aud", &[json!("a"), json!(["b", "a"]), json!([])]),
            ("sub", &[json!("s")]),
            ("exp", &times),
            ("nbf", &times),
            ("iat", &times),
        ],
    )
}

fn random_token(rng: &mut Rng) -> String {
    let header = if rng.chance(10) { random_json(rng, 0).to_string() } else { random_header(rng).to_string() };
    let claims = if rng.chance(10) { random_json(rng, 0).to_string() } else { random_claims(rng).to_string() };
    let signature_len = *rng.pick(&[0, 1, 31, 32, 48, 64, 96, 255, 256, 512]);
    let signature = rng.bytes(signature_len);
    format!("{}.{}.{}", b64(header), b64(claims), b64(signature))
}

/// Big-endian bytes of a random length from `lengths`, sometimes with
/// leading zeros or all zero.
fn random_number(rng: &mut Rng, lengths: &[usize]) -> Vec<u8> {
    let len = *rng.pick(lengths);
    let mut bytes = rng.bytes(len);
    match rng.below(4) {
        0 => bytes.iter_mut().take(1 + rng.below(3)).for_each(|b| *b = 0),
        1 => bytes.iter_mut().for_each(|b| *b = 0),
        _ => {}
    }
    bytes
}

fn random_jwk(rng: &mut Rng, real: &[Value]) -> Value {
    let mut jwk = if rng.chance(3) {
        // A real key with a few members replaced.
        let mut jwk = rng.pick(real).clone();
        for _ in 0..1 + rng.below(3) {
            let names = ["kty", "crv", "alg", "use", "key_ops", "n", "e", "x", "y", "k", "kid"];
            let name = *rng.pick(&names);
            jwk[name] = random_json(rng, 1);
        }
        jwk
    } else {
        let algs: Vec<Value> =
            Algorithm::ALL.iter().map(|a| json!(a.name())).chain([json!("none"), json!("RSA1_5")]).collect();
        random_object(
            rng,
            &[
                ("kty", &[json!("RSA"), json!("EC"), json!("OKP"), json!("oct"), json!("foo")]),
                ("crv", &[json!("P-256"), json!("P-384"), json!("P-521"), json!("Ed25519"), json!("X25519")]),
                ("alg", &algs),
                ("use", &[json!("sig"), json!("enc")]),
                ("key_ops", &[json!(["verify"]), json!(["sign"]), json!([]), json!(["verify", "verify"])]),
                ("kid", &[json!("k"), json!("")]),
                ("e", &[json!("AQAB"), json!("Aw"), json!("AQ"), json!("Ag"), json!("AA"), json!("")]),
            ],
        )
    };
    let numbers: [(&str, &[usize]); 5] = [
        ("n", &[0, 1, 2, 255, 256, 257, 512, 1025, 1100]),
        ("e", &[0, 1, 3, 5, 6, 9]),
        ("x", &[0, 31, 32, 33, 48, 66]),
        ("y", &[0, 32, 48, 66]),
        ("k", &[0, 16, 31, 32, 48, 64, 100]),
    ];
    for (name, lengths) in numbers {
        if rng.chance(2) {
            jwk[name] = json!(b64(random_number(rng, lengths)));
        }
    }
    jwk
}

fn random_jwks(rng: &mut Rng, real: &[Value]) -> Value {
    let count = if rng.chance(20) { 95 + rng.below(10) } else { rng.below(5) };
    let keys: Vec<Value> = (0..count).map(|_| random_jwk(rng, real)).collect();
    json!({ "keys": keys })
}

fn pem_from_der(der: &[u8], label: &str) -> String {
    let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn random_pem(rng: &mut Rng, ders: &[Vec<u8>]) -> String {
    let mut der = if rng.chance(5) {
        let len = rng.below(200);
        rng.bytes(len)
    } else {
        rng.pick(ders).clone()
    };
    for _ in 0..rng.below(5) {
        if der.is_empty() {
            break;
        }
        let at = rng.below(der.len());
        match rng.below(4) {
            0 => der[at] = rng.next_u64() as u8,
            1 => der[at] ^= 1 << rng.below(8),
            2 => der.truncate(at),
            _ => der.insert(at, rng.next_u64() as u8),
        }
    }
    let label = if rng.chance(10) { "PRIVATE KEY" } else { "PUBLIC KEY" };
    pem_from_der(&der, label)
}

// ---------------------------------------------------------------- seeds

fn seed_tokens() -> Vec<String> {
    let claims = r#"{"iss":"i","aud":"a","sub":"s","iat":1700000000,"exp":1700000600}"#;
    let mut tokens: Vec<String> = Algorithm::ALL
        .iter()
        .map(|alg| {
            let kid = key_stem(*alg).unwrap_or("hmac");
            sign_compact(&format!(r#"{{"alg":"{}","kid":"{kid}","typ":"JWT"}}"#, alg.name()), claims.as_bytes(), *alg)
        })
        .collect();
    tokens.push(format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims)));
    tokens.push(sign_compact(r#"{"alg":"HS256","crit":["b64"],"b64":false}"#, claims.as_bytes(), Algorithm::HS256));
    tokens
}

fn seed_jwks() -> Vec<Value> {
    let mut keys: Vec<Value> = ["rsa-2048-a", "rsa-2048-b", "ec-p256", "ec-p384", "ed25519"]
        .iter()
        .map(|stem| serde_json::from_str(&key_file(&format!("{stem}.pub.jwk"))).unwrap())
        .collect();
    keys.push(json!({"kty": "oct", "k": b64(HMAC_SECRET)}));
    keys
}

fn seed_ders() -> Vec<Vec<u8>> {
    let names = [
        "rsa-2048-a.pub.pem",
        "ec-p256.pub.pem",
        "ec-p384.pub.pem",
        "ed25519.pub.pem",
        "rsa-1024.pub.pem",
        "ec-p521.pub.pem",
        "ec-secp256k1.pub.pem",
        "x25519.pub.pem",
        "ed448.pub.pem",
    ];
    names
        .iter()
        .map(|name| {
            let body: String = key_file(name).lines().filter(|l| !l.starts_with("-----")).collect();
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
        })
        .collect()
}

// ---------------------------------------------------------------- properties

#[test]
fn every_truncation_of_real_inputs() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    for token in seed_tokens() {
        for (end, _) in token.char_indices() {
            targets.token(&mut probe, &token[..end]);
        }
    }
    for jwk in seed_jwks() {
        let text = jwk.to_string();
        let set = json!({ "keys": [jwk] }).to_string();
        for end in 0..text.len() {
            targets.key_document(&mut probe, &text.as_bytes()[..end], None);
        }
        for end in (0..set.len()).step_by(3) {
            targets.key_document(&mut probe, &set.as_bytes()[..end], None);
        }
    }
    for der in seed_ders() {
        let pem = pem_from_der(&der, "PUBLIC KEY");
        for end in 0..pem.len() {
            targets.pem(&mut probe, &pem[..end]);
        }
        for end in 0..der.len() {
            targets.pem(&mut probe, &pem_from_der(&der[..end], "PUBLIC KEY"));
        }
    }
    probe.assert_no_panics();
    assert!(probe.calls > 20_000, "{} calls", probe.calls);
}

#[test]
fn random_edits_of_real_tokens() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0001);
    let seeds = seed_tokens();
    for _ in 0..4000 {
        let seed = rng.pick(&seeds).clone();
        let token = mutate(&mut rng, &seed);
        targets.token(&mut probe, &token);
    }
    probe.assert_no_panics();
}

#[test]
fn random_base64url_segments() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0002);
    for _ in 0..4000 {
        targets.token(&mut probe, &random_segments(&mut rng));
    }
    probe.assert_no_panics();
}

#[test]
fn random_headers_and_claims() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0003);
    let mut parsed = 0;
    for _ in 0..4000 {
        let token = random_token(&mut rng);
        parsed += usize::from(CompactJws::parse(&token).is_ok());
        targets.token(&mut probe, &token);
    }
    probe.assert_no_panics();
    // The generator must reach past the header rules often enough to matter.
    assert!(parsed > 400, "only {parsed} random tokens parsed");
}

#[test]
fn random_jwks_and_key_sets() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0004);
    let real = seed_jwks();
    let mut imported = 0;
    for _ in 0..4000 {
        let jwk = random_jwk(&mut rng, &real).to_string();
        imported += usize::from(VerifyingKey::from_jwk_json(jwk.as_bytes()).is_ok());
        targets.key_document(&mut probe, jwk.as_bytes(), Some("k"));
    }
    for _ in 0..600 {
        let set = random_jwks(&mut rng, &real).to_string();
        targets.key_document(&mut probe, set.as_bytes(), Some("k"));
    }
    for _ in 0..1500 {
        let seed = rng.pick(&real).to_string();
        let doc = mutate(&mut rng, &seed);
        targets.key_document(&mut probe, doc.as_bytes(), None);
    }
    probe.assert_no_panics();
    assert!(imported > 50, "only {imported} random JWKs imported");
}

#[test]
fn random_pems_and_der() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0005);
    let ders = seed_ders();
    for _ in 0..4000 {
        targets.pem(&mut probe, &random_pem(&mut rng, &ders));
    }
    for _ in 0..1000 {
        let pem = pem_from_der(&ders[rng.below(4)], "PUBLIC KEY");
        targets.pem(&mut probe, &mutate(&mut rng, &pem));
    }
    probe.assert_no_panics();
}

#[test]
fn random_bytes_everywhere() {
    let targets = Targets::new();
    let mut probe = Probe::new();
    let mut rng = Rng::new(0x5eed_0006);
    for _ in 0..3000 {
        let max = if rng.chance(10) { 20_000 } else { 300 };
        let len = rng.below(max);
        let bytes = rng.bytes(len);
        targets.key_document(&mut probe, &bytes, None);
        let text = String::from_utf8_lossy(&bytes);
        targets.token(&mut probe, &text);
        targets.pem(&mut probe, &text);
    }
    probe.assert_no_panics();
}
