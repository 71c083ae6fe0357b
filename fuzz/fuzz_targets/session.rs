//! The session core as the JavaScript layer drives it. The input is a
//! script, one call per line, replayed on one `SessionCore`:
//!
//! ```text
//! create <client options>     login <answer body>     refresh <answer body>
//! refused <status> [<error>]  failed                  wake <ms later>
//! restore [<stored record>]   now                     profile
//! signout                     bearer <url>
//! ```
//!
//! After every call: the actions are a JSON array of known actions; a
//! record the core asks to store restores, in a new core, to the same
//! id_token (unless its session has expired); the token getters agree with
//! one another.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miniauth::boundary::{SessionCore, Thrown};
use miniauth_fuzz::NOW_MS;
use serde_json::Value;

const ACTIONS: &[&str] = &["store", "clear_storage", "refresh", "logout", "wake_at", "emit"];

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else { return };
    let mut core = SessionCore::create("{}").expect("no options are fine");
    let mut now = NOW_MS;
    for line in script.lines() {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let actions = match verb {
            "create" => {
                match SessionCore::create(rest) {
                    Ok(created) => core = created,
                    Err(thrown) => check_thrown(&thrown, "ERR_INVALID_ARGUMENT"),
                }
                continue;
            }
            "login" => match core.login_answer(rest, now) {
                Ok(result) => check_login(&core, &result),
                Err(thrown) => {
                    check_thrown(&thrown, "ERR_SERVER");
                    continue;
                }
            },
            "refresh" => core.refresh_answer(rest, now, 0.5),
            "refused" => {
                let (status, error) = rest.split_once(' ').map_or((rest, None), |(s, e)| (s, Some(e)));
                let Ok(status) = status.parse() else { continue };
                core.refresh_refused(status, error, now, 0.5)
            }
            "failed" => core.refresh_failed(now, 0.5),
            "wake" => {
                now += rest.parse::<u32>().map_or(0.0, f64::from);
                core.wake(now)
            }
            "restore" => core.restore(Some(rest).filter(|r| !r.is_empty()), now),
            "now" => core.refresh_now(),
            "profile" => core.profile_updated(),
            "signout" => core.sign_out(),
            "bearer" => {
                core.bearer_allowed(rest);
                continue;
            }
            _ => continue,
        };
        check_actions(&core, &actions, now);
        check_tokens(&core, now);
    }
});

fn check_thrown(thrown: &Thrown, code: &str) {
    let error: Value = serde_json::from_str(thrown).expect("a thrown error is JSON");
    assert_eq!(error["code"], code);
}

/// A login answer taken: signed in with tokens, or waiting for a bind with a
/// state token. Returns the actions it carried, as the other calls do.
fn check_login(core: &SessionCore, result: &str) -> String {
    let result: Value = serde_json::from_str(result).expect("a login result is JSON");
    match result["status"].as_str() {
        Some("SUCCESS") => assert!(core.id_token().is_some() && core.state_token().is_none()),
        Some("SOCIAL_BIND" | "USER_REGISTER") => {
            assert!(core.state_token().is_some() && core.id_token().is_none());
            assert!(result["flows"].is_array());
        }
        other => panic!("login status {other:?}"),
    }
    result["actions"].to_string()
}

fn check_actions(core: &SessionCore, actions: &str, now: f64) {
    let actions: Vec<Value> = serde_json::from_str(actions).expect("actions are a JSON array");
    for action in &actions {
        let kind = action["type"].as_str().expect("an action has a type");
        assert!(ACTIONS.contains(&kind), "unknown action {kind}");
        if kind == "store" {
            let record = action["record"].as_str().expect("a store action has a record");
            let fields: Value = serde_json::from_str(record).expect("a record is JSON");
            // Restored unless the session expires the moment it is stored.
            let alive = fields["session_expires_at"].as_i64().is_some_and(|at| (now as i64) < at);
            let mut restored = SessionCore::create("{}").expect("no options are fine");
            restored.restore(Some(record), now);
            let expected = if alive { core.id_token() } else { None };
            assert_eq!(restored.id_token(), expected, "the stored record restores another session");
        }
    }
}

fn check_tokens(core: &SessionCore, now: f64) {
    if let Some(fresh) = core.fresh_id_token(now) {
        assert_eq!(core.unexpired_id_token(now).as_ref(), Some(&fresh), "fresh but expired");
    }
    if let Some(unexpired) = core.unexpired_id_token(now) {
        assert_eq!(core.id_token().as_ref(), Some(&unexpired));
    }
}
