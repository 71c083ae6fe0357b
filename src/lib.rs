//! miniauth: JWS/JWT verification and the session core for WeChat Mini
//! Program login, written once and compiled to one WebAssembly module and to
//! a native Node addon.
//!
//! The core does no I/O. It takes bytes and times and returns decisions:
//!
//! * [`jws`] parses compact JWS and checks signatures with [`ring`];
//! * [`jwk`] imports keys (JWK, JWKS, SPKI PEM, HMAC secrets), each bound to
//!   its key type and the algorithms it may verify;
//! * [`jwt`] validates claims after the signature has been checked;
//! * [`verifier`] ties them together the way callers use them;
//! * [`jwks_cache`] decides when a remote key set must be fetched again;
//! * [`token_cache`] keeps verified tokens for servers that see them often;
//! * [`protocol`] defines the server API's requests and answers;
//! * [`session`] is the client's sign-in state machine (login, bind,
//!   refresh, sign-out), fed by the platform layer;
//! * [`token_origins`] decides which requests may carry the id_token.
//!
//! [`boundary`] is what the JavaScript layer calls, wrapped one to one by the
//! WebAssembly module and by the native Node addon (`bindings/node`).
//!
//! With the `server` feature, [`server`] is the reference identity server.
//!
//! Every failure is an [`Error`] with a stable [`ErrorCode`].
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
// Unit tests may use std even when the crate is built without it.
#[cfg(all(test, not(feature = "std")))]
extern crate std;

pub mod algorithm;
mod base64url;
pub mod boundary;
pub mod error;
pub mod jwk;
pub mod jwks_cache;
pub mod jws;
pub mod jwt;
pub mod protocol;
pub mod session;
mod strict_json;
pub mod token_cache;
pub mod token_origins;
pub mod verifier;

#[cfg(feature = "server")]
pub mod server;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use algorithm::Algorithm;
pub use error::{Error, ErrorCode};
pub use jwk::{KeySet, VerifyingKey};
pub use jws::Keys;
pub use verifier::{Validation, Verified, Verifier, VerifyOptions};

/// The strict JSON reader, reachable only from the fuzz targets (`fuzz/`),
/// which check it against serde_json directly.
#[cfg(fuzzing)]
#[doc(hidden)]
pub use strict_json::{parse_object, JsonError};
