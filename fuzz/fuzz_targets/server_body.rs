//! The server's request bodies, read by its own extractor (`ApiJson`) as
//! the handlers receive them. The first byte picks the request type (`'0'`
//! to `'8'`), the rest is the body. A body is either taken, and then reads back the same
//! once written out as a client would send it, or refused as
//! `400 invalid_request` with the API's JSON error; a profile update that
//! passes the server's checks passes them again unchanged.
#![no_main]

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use miniauth::protocol::{
    BindPasswordRequest, BindVerifyCodeRequest, BindWechatPhoneRequest, CodeRequest, ErrorBody, ProfileUpdate,
    RegisterRequest, RoomSnapshot, SessionRequest, VerifyCodeRequest,
};
use miniauth::server::extract::ApiJson;
use miniauth::server::profile;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::future::Future;
use std::task::{Context, Poll, Waker};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else { return };
    // The seeds name their type with an ASCII digit ('0' is 0).
    match kind.wrapping_sub(b'0') % 9 {
        0 => drop(read::<CodeRequest>(body)),
        1 => drop(read::<VerifyCodeRequest>(body)),
        2 => drop(read::<BindWechatPhoneRequest>(body)),
        3 => drop(read::<BindVerifyCodeRequest>(body)),
        4 => drop(read::<BindPasswordRequest>(body)),
        5 => drop(read::<RegisterRequest>(body)),
        6 => drop(read::<SessionRequest>(body)),
        8 => drop(read::<RoomSnapshot>(body)),
        _ => {
            let Some(mut update) = read::<ProfileUpdate>(body) else { return };
            match profile::check(&mut update) {
                Ok(()) => {
                    let checked = update.clone();
                    profile::check(&mut update).expect("a checked update passes again");
                    assert_eq!(update, checked);
                }
                Err(error) => check_refused(error),
            }
        }
    }
});

/// The body as the extractor reads it: `Some` if taken.
fn read<T: DeserializeOwned + Serialize + PartialEq + Debug>(body: &[u8]) -> Option<T> {
    let request = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request builds");
    match run(ApiJson::<T>::from_request(request, &())) {
        Ok(ApiJson(value)) => {
            let sent = serde_json::to_vec(&value).expect("a request serialises");
            let again: T = serde_json::from_slice(&sent).expect("a request the server took reads back");
            assert_eq!(again, value);
            Some(value)
        }
        Err(error) => {
            check_refused(error);
            None
        }
    }
}

fn check_refused(error: impl IntoResponse) {
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = run(axum::body::to_bytes(response.into_body(), usize::MAX)).expect("an error body is in memory");
    let body: ErrorBody = serde_json::from_slice(&body).expect("an error body is the API's JSON");
    assert_eq!(body.error, "invalid_request");
}

/// Runs a future that never waits: every body here is already in memory.
fn run<F: Future>(future: F) -> F::Output {
    match std::pin::pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory body kept the extractor waiting"),
    }
}
