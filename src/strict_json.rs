//! JSON objects parsed strictly: a member name that appears twice anywhere in
//! the document is an error rather than "last one wins", so a header like
//! `{"alg":"RS256","alg":"none"}` cannot mean two things to two parsers.
//!
//! Nesting is bounded by serde_json's recursion limit (128), so deeply nested
//! input fails cleanly instead of exhausting the stack.

use alloc::string::String;
use core::fmt;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why strict parsing failed.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON, not UTF-8, a duplicate member, or nested too deeply.
    Malformed,
    /// Valid JSON, but not an object.
    NotAnObject,
}

/// Parses `bytes` as a JSON object with no duplicate member names at any depth.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(map))) => Ok(map),
        Ok(_) => Err(JsonError::NotAnObject),
        Err(_) => Err(JsonError::Malformed),
    }
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite float, so this cannot be Null.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = alloc::vec::Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom("duplicate member name"));
            }
            let StrictValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn accepts_plain_objects() {
        let map = parse_object(br#"{"a":1,"b":{"c":[true,null,"x",-2.5]}}"#).unwrap();
        assert_eq!(map["b"]["c"][3], -2.5);
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(matches!(parse_object(br#"{"a":1,"a":2}"#), Err(JsonError::Malformed)));
        assert!(matches!(parse_object(br#"{"o":{"k":1,"k":1}}"#), Err(JsonError::Malformed)));
        assert!(matches!(parse_object(br#"{"l":[{"k":1,"k":1}]}"#), Err(JsonError::Malformed)));
    }

    #[test]
    fn rejects_non_objects_and_garbage() {
        assert!(matches!(parse_object(b"[1]"), Err(JsonError::NotAnObject)));
        assert!(matches!(parse_object(b"\"s\""), Err(JsonError::NotAnObject)));
        assert!(matches!(parse_object(b"{\"a\":1} x"), Err(JsonError::Malformed)));
        assert!(matches!(parse_object(b"\xff"), Err(JsonError::Malformed)));
    }

    #[test]
    fn deep_nesting_fails_without_overflowing_the_stack() {
        let depth = 100_000;
        let mut doc = "{\"a\":".to_string();
        doc.push_str(&"[".repeat(depth));
        doc.push_str(&"]".repeat(depth));
        doc.push('}');
        assert!(matches!(parse_object(doc.as_bytes()), Err(JsonError::Malformed)));
    }
}
