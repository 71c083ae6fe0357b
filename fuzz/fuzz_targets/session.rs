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
//! After every call: the answers are JSON (a refresh's end says whether it
//! refreshed, and with which error if not); the actions are known ones; a
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
            "refresh" => {
                let ended = core.refresh_answer(rest, now, 0.5);
                check_refresh(&core, &ended)
            }
            "refused" => {
                let (status, error) = rest.split_once(' ').map_or((rest, None), |(s, e)| (s, Some(e)));
                let Ok(status) = status.parse() else { continue };
                let ended = core.refresh_refused(status, error, now, 0.5);
                check_refresh(&core, &ended)
            }
            "failed" => {
                let ended = core.refresh_failed(now, 0.5);
                check_refresh(&core, &ended)
            }
            "wake" => {
                now += rest.parse::<u32>().map_or(0.0, f64::from);
                json(&core.wake(now))
            }
            "restore" => json(&core.restore(Some(rest).filter(|r| !r.is_empty()), now)),
            "now" => json(&core.refresh_now()),
            "profile" => json(&core.profile_updated()),
            "signout" => json(&core.sign_out()),
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

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("the core answers JSON")
}

fn check_thrown(thrown: &Thrown, code: &str) {
    assert_eq!(json(thrown)["code"], code);
}

/// A login answer taken: signed in with tokens, or waiting for a bind with a
/// state token. Returns the actions it carried, as the other calls do.
fn check_login(core: &SessionCore, result: &str) -> Value {
    let mut result = json(result);
    match result["status"].as_str() {
        Some("SUCCESS") => assert!(core.id_token().is_some() && core.state_token().is_none()),
        Some("SOCIAL_BIND" | "USER_REGISTER") => {
            assert!(core.state_token().is_some() && core.id_token().is_none());
            assert!(result["flows"].is_array());
        }
        other => panic!("login status {other:?}"),
    }
    result["actions"].take()
}

/// How a refresh ended: refreshed, with no error and a token held, or not,
/// with at most an error the core knows of (an unusable answer, a sign-out
/// while it was in flight). Returns the actions it carried.
fn check_refresh(core: &SessionCore, ended: &str) -> Value {
    let mut ended = json(ended);
    match (&ended["refreshed"], ended.get("error")) {
        (Value::Bool(true), None) => assert!(core.id_token().is_some(), "refreshed without a token"),
        (Value::Bool(false), None) => {}
        (Value::Bool(false), Some(error)) => {
            assert!(matches!(error["code"].as_str(), Some("ERR_SERVER" | "ERR_SIGNED_OUT")), "{error}")
        }
        other => panic!("a refresh ended with {other:?}"),
    }
    ended["actions"].take()
}

fn check_actions(core: &SessionCore, actions: &Value, now: f64) {
    let actions = actions.as_array().expect("actions are a JSON array");
    for action in actions {
        let kind = action["type"].as_str().expect("an action has a type");
        assert!(ACTIONS.contains(&kind), "unknown action {kind}");
        if kind == "store" {
            let record = action["record"].as_str().expect("a store action has a record");
            // Restored unless the session expires the moment it is stored.
            let alive = json(record)["session_expires_at"].as_i64().is_some_and(|at| (now as i64) < at);
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
