//! Compact tokens, verified with every key source and option set: whatever
//! the input, verification answers (no panic) with a documented error code,
//! and what verifies decodes again to the same header and claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miniauth_fuzz::{verify_everywhere, KEY_SOURCES};

fuzz_target!(|data: &[u8]| {
    // Tokens reach the core as JavaScript strings, so always as UTF-8.
    let Ok(token) = std::str::from_utf8(data) else { return };
    verify_everywhere(KEY_SOURCES.iter(), token);
});
