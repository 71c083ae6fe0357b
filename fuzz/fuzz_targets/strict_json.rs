//! The strict JSON reader against serde_json, which reads the same text with
//! the last repeated member winning: the two agree on every document
//! without a repeated member name, and the strict reader refuses exactly
//! the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miniauth::{parse_object, JsonError};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    match (parse_object(data), serde_json::from_slice::<Value>(data)) {
        (Ok(strict), Ok(Value::Object(lenient))) => assert_eq!(strict, lenient),
        (Ok(_), lenient) => panic!("strict accepted what serde_json reads as {lenient:?}"),
        (Err(JsonError::NotAnObject), Ok(value)) => assert!(!value.is_object()),
        (Err(JsonError::NotAnObject), Err(error)) => panic!("not an object, but not JSON either: {error}"),
        (Err(JsonError::Malformed), Err(_)) => {}
        (Err(JsonError::Malformed), Ok(value)) => {
            // A repeated member: serde_json kept the last one. Written out
            // again, without repeats, the strict reader takes it.
            let again = serde_json::to_vec(&value).expect("a Value serialises");
            match parse_object(&again) {
                Ok(_) => assert!(value.is_object()),
                Err(JsonError::NotAnObject) => assert!(!value.is_object()),
                Err(JsonError::Malformed) => panic!("refused without a repeated member"),
            }
        }
    }
});
