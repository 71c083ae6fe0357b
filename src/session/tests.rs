use super::*;
use crate::protocol::BindFlow;
use alloc::format;
use alloc::vec;

const MINUTE: i64 = 60_000;

fn tokens_json(id_token: &str, session_token: &str, expires_in: u64) -> String {
    format!(
        r#"{{"status":"SUCCESS","id_token":"{id_token}","session_token":"{session_token}","expires_in":{expires_in},"session_expires_in":2592000}}"#
    )
}

fn refresh_json(id_token: &str, session_token: &str, expires_in: u64) -> String {
    format!(
        r#"{{"id_token":"{id_token}","session_token":"{session_token}","expires_in":{expires_in},"session_expires_in":2592000}}"#
    )
}

fn signed_in(now: i64) -> Session {
    let mut session = Session::new(RefreshPolicy::default());
    session.on_login_answer(&tokens_json("id1", "s1", 900), now).unwrap();
    session
}

fn stored_record(actions: &[Action]) -> Record {
    let text = actions
        .iter()
        .find_map(|a| if let Action::Store { record } = a { Some(record) } else { None })
        .expect("a Store action");
    Record::parse(text).expect("a valid record")
}

#[test]
fn success_signs_in_stores_and_schedules_the_refresh() {
    let mut session = Session::new(RefreshPolicy::default());
    let (outcome, actions) = session.on_login_answer(&tokens_json("id1", "s1", 900), 1_000).unwrap();
    assert_eq!(outcome, LoginOutcome::Success);
    let record = stored_record(&actions);
    assert_eq!(record.expires_at, 1_000 + 900_000);
    assert!(actions.contains(&Action::Emit { event: Event::SignedIn }));
    // 10 % of 15 minutes is 90 s, more than the 60 s floor.
    assert!(actions.contains(&Action::WakeAt { at: 1_000 + 900_000 - 90_000 }));
    assert_eq!(session.fresh_id_token(2_000), Some("id1"));
}

#[test]
fn short_lived_tokens_refresh_a_minute_before_expiry() {
    let mut session = Session::new(RefreshPolicy::default());
    let (_, actions) = session.on_login_answer(&tokens_json("id1", "s1", 300), 0).unwrap();
    assert!(actions.contains(&Action::WakeAt { at: 300_000 - MINUTE }));
}

#[test]
fn a_margin_longer_than_the_lifetime_still_waits_half_of_it() {
    let mut session = Session::new(RefreshPolicy { min_margin_ms: 1_000_000_000, ..RefreshPolicy::default() });
    let (_, actions) = session.on_login_answer(&tokens_json("id1", "s1", 60), 0).unwrap();
    assert!(actions.contains(&Action::WakeAt { at: 30_000 }), "{actions:?}");
    assert!(!actions.iter().any(|a| matches!(a, Action::Refresh { .. })));
    assert_eq!(session.fresh_id_token(29_999), Some("id1"));
}

#[test]
fn bind_answers_are_read_leniently_and_keep_the_state_token() {
    for status in ["SOCIAL_BIND", " social_bind ", "Social-Bind"] {
        let mut session = Session::new(RefreshPolicy::default());
        let body =
            format!(r#"{{"status":"{status}","state_token":"st","expires_in":600,"flows":["password","sms_code"]}}"#);
        let (outcome, actions) = session.on_login_answer(&body, 0).unwrap();
        assert!(
            matches!(outcome, LoginOutcome::SocialBind(ref c) if c.flows == vec![BindFlow::Password, BindFlow::SmsCode]),
            "{status}"
        );
        assert_eq!(actions, vec![Action::Emit { event: Event::BindRequired }]);
        assert_eq!(session.state_token(), Some("st"));
        assert!(!session.is_signed_in());
    }
    let mut session = Session::new(RefreshPolicy::default());
    let body = r#"{"status":"user register","state_token":"st","expires_in":600,"flows":["register"]}"#;
    assert!(matches!(session.on_login_answer(body, 0).unwrap().0, LoginOutcome::UserRegister(_)));
}

#[test]
fn malformed_answers_are_errors_not_state_changes() {
    let mut session = signed_in(0);
    for body in ["", "[]", "{}", r#"{"status":"MAYBE"}"#, r#"{"status":"SUCCESS"}"#, r#"{"status":5}"#] {
        assert!(session.on_login_answer(body, 0).is_err(), "{body}");
    }
    assert_eq!(session.id_token(), Some("id1"), "the session survives a bad answer");
}

#[test]
fn one_refresh_at_a_time() {
    let mut session = signed_in(0);
    let due = 900_000 - 90_000;
    assert_eq!(session.fresh_id_token(due), None);
    assert_eq!(session.wake(due), vec![Action::Refresh { session_token: "s1".into() }]);
    assert!(session.wake(due + 1).is_empty(), "no second refresh while one is in flight");
    assert!(session.refresh_now().is_empty());
    assert_eq!(session.unexpired_id_token(due), Some("id1"), "still usable until it expires");
}

#[test]
fn a_refresh_answer_rotates_the_tokens() {
    let mut session = signed_in(0);
    let due = 810_000;
    session.wake(due);
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id2", "s2", 900)), due + 50, 0.5).actions;
    let record = stored_record(&actions);
    assert_eq!((record.id_token.as_str(), record.session_token.as_str()), ("id2", "s2"));
    assert!(actions.contains(&Action::Emit { event: Event::TokenRefreshed }));
    assert!(actions.contains(&Action::WakeAt { at: due + 50 + 810_000 }));
    assert_eq!(session.fresh_id_token(due + 100), Some("id2"));
}

#[test]
fn a_refresh_says_whether_it_refreshed_and_why_not_when_only_the_core_knows() {
    let end = |outcome: RefreshOutcome<'_>| {
        let mut session = signed_in(0);
        session.wake(810_000);
        session.on_refresh(outcome, 810_050, 0.5)
    };
    let good = refresh_json("id2", "s2", 900);
    let ok = end(RefreshOutcome::Answer(&good));
    assert!(ok.refreshed && ok.error.is_none());
    let portal = end(RefreshOutcome::Answer("<html>sign in to the Wi-Fi</html>"));
    assert!(!portal.refreshed);
    assert_eq!(portal.error.map(|e| e.code()), Some(ErrorCode::Server), "an unusable 200");
    for outcome in [RefreshOutcome::NetworkError, RefreshOutcome::Refused { status: 503, error: None }] {
        let failed = end(outcome);
        assert!(!failed.refreshed && failed.error.is_none(), "the platform has its own error");
    }
    let gone = end(RefreshOutcome::Refused { status: 401, error: Some("invalid_session") });
    assert!(!gone.refreshed && gone.actions.contains(&Action::Emit { event: Event::SignedOut }));

    let mut session = signed_in(0);
    session.wake(810_000);
    session.sign_out();
    let late = session.on_refresh(RefreshOutcome::Answer(&good), 810_050, 0.5);
    assert!(!late.refreshed && late.actions.is_empty());
    assert_eq!(late.error.map(|e| e.code()), Some(ErrorCode::SignedOut), "signed out while in flight");
}

/// Fails twelve refreshes in a row with `outcome` and returns the delays
/// before each retry; checks that no refresh is sent before a delay ends
/// and that the session is kept throughout.
fn backoff_delays(outcome: RefreshOutcome<'_>) -> Vec<i64> {
    let mut session = signed_in(0);
    let mut now = 810_000;
    session.wake(now);
    let mut delays = Vec::new();
    for _ in 0..12 {
        let actions = session.on_refresh(outcome.clone(), now, 1.0).actions;
        assert!(actions.contains(&Action::Emit { event: Event::RefreshFailed }));
        let Some(Action::WakeAt { at }) = actions.iter().find(|a| matches!(a, Action::WakeAt { .. })).cloned() else {
            panic!()
        };
        delays.push(at - now);
        assert!(
            session.wake(at - 1).iter().all(|a| !matches!(a, Action::Refresh { .. })),
            "not before the backoff ends"
        );
        now = at;
        assert_eq!(session.wake(now), vec![Action::Refresh { session_token: "s1".into() }]);
    }
    assert!(session.is_signed_in());
    // Then the server answers again.
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id2", "s2", 900)), now, 0.0).actions;
    assert!(actions.contains(&Action::Emit { event: Event::TokenRefreshed }));
    delays
}

#[test]
fn failed_refreshes_retry_with_capped_exponential_backoff_and_keep_the_session() {
    let outcomes = [
        RefreshOutcome::NetworkError,
        RefreshOutcome::Refused { status: 503, error: Some("wechat_busy") },
        // A 200 that is not tokens (a captive portal, a proxy's page).
        RefreshOutcome::Answer("<html>Sign in to the Wi-Fi</html>"),
        RefreshOutcome::Answer(r#"{"status":"SUCCESS"}"#),
    ];
    for outcome in outcomes {
        let delays = backoff_delays(outcome.clone());
        assert_eq!(&delays[..6], &[200, 400, 800, 1_600, 3_200, 6_400], "{outcome:?}");
        assert_eq!(*delays.last().unwrap(), 60_000, "capped at a minute: {outcome:?}");
    }
}

#[test]
fn jitter_spreads_retries_between_half_and_all_of_the_delay() {
    let mut low = signed_in(0);
    let mut high = signed_in(0);
    low.wake(810_000);
    high.wake(810_000);
    let at = |actions: Vec<Action>| {
        actions.into_iter().find_map(|a| if let Action::WakeAt { at } = a { Some(at) } else { None }).unwrap()
    };
    assert_eq!(at(low.on_refresh(RefreshOutcome::NetworkError, 0, 0.0).actions), 100);
    assert_eq!(
        at(high.on_refresh(RefreshOutcome::Refused { status: 503, error: Some("wechat_busy") }, 0, 0.999_999).actions),
        199
    );
}

#[test]
fn server_errors_retry_but_a_dead_session_signs_out() {
    let mut session = signed_in(0);
    session.wake(810_000);
    let actions = session.on_refresh(RefreshOutcome::Refused { status: 500, error: None }, 810_000, 0.0).actions;
    assert!(actions.contains(&Action::Emit { event: Event::RefreshFailed }));
    assert!(session.is_signed_in());

    session.wake(900_000);
    let actions = session
        .on_refresh(RefreshOutcome::Refused { status: 401, error: Some("invalid_session") }, 900_000, 0.0)
        .actions;
    assert_eq!(actions, vec![Action::ClearStorage, Action::Emit { event: Event::SignedOut }]);
    assert!(!session.is_signed_in());
    assert!(session.wake(1_000_000_000).is_empty());
}

#[test]
fn sign_out_revokes_and_clears_and_late_answers_change_nothing() {
    let mut session = signed_in(0);
    session.wake(810_000);
    let actions = session.sign_out();
    assert_eq!(
        actions,
        vec![
            Action::Logout { session_token: "s1".into() },
            Action::ClearStorage,
            Action::Emit { event: Event::SignedOut }
        ]
    );
    assert!(session
        .on_refresh(RefreshOutcome::Answer(&refresh_json("id2", "s2", 900)), 810_010, 0.0)
        .actions
        .is_empty());
    assert_eq!(session.id_token(), None);
}

#[test]
fn a_stored_record_restores_the_session_after_a_restart() {
    let mut first = Session::new(RefreshPolicy::default());
    let (_, actions) = first.on_login_answer(&tokens_json("id1", "s1", 900), 0).unwrap();
    let Action::Store { record: text } = &actions[0] else { panic!("{actions:?}") };

    let mut second = Session::new(RefreshPolicy::default());
    let restored = second.restore(Some(text), 60_000);
    assert!(restored.contains(&Action::Emit { event: Event::SignedIn }));
    assert!(restored.contains(&Action::WakeAt { at: 810_000 }));
    assert_eq!(second.fresh_id_token(60_000), Some("id1"));

    // Restored after the refresh time: refreshes at once.
    let mut late = Session::new(RefreshPolicy::default());
    assert!(late.restore(Some(text), 850_000).contains(&Action::Refresh { session_token: "s1".into() }));
}

#[test]
fn corrupt_old_or_expired_records_mean_signed_out() {
    let expired = r#"{"v":1,"id_token":"i","session_token":"s","expires_at":1,"lifetime_ms":1,"session_expires_at":5}"#;
    let old = r#"{"v":0,"id_token":"i","session_token":"s","expires_at":1,"lifetime_ms":1,"session_expires_at":9000000000000000}"#;
    let huge = "x".repeat(MAX_RECORD_LEN + 1);
    for stored in ["", "{", "null", "[]", r#"{"v":1}"#, old, expired, huge.as_str()] {
        let mut session = Session::new(RefreshPolicy::default());
        assert_eq!(session.restore(Some(stored), 10), vec![Action::ClearStorage], "{stored:.40}");
        assert!(!session.is_signed_in());
    }
    assert!(Session::new(RefreshPolicy::default()).restore(None, 0).is_empty());
}

#[test]
fn records_with_extreme_times_restore_without_overflow() {
    // Found by the session fuzz target: storage may hand back any i64, and
    // the refresh time was computed with an overflowing subtraction.
    for (expires_at, lifetime_ms) in [(i64::MAX, -2), (i64::MAX, i64::MIN), (i64::MIN, 600_000), (i64::MIN, i64::MAX)] {
        let stored = format!(
            r#"{{"v":1,"id_token":"i","session_token":"s","expires_at":{expires_at},"lifetime_ms":{lifetime_ms},"session_expires_at":{}}}"#,
            i64::MAX
        );
        let mut session = Session::new(RefreshPolicy::default());
        assert!(session.restore(Some(&stored), 10).contains(&Action::Emit { event: Event::SignedIn }), "{stored}");
        session.wake(20);
        let fresh = session.fresh_id_token(30);
        assert_eq!(fresh.is_some(), expires_at == i64::MAX, "{stored}");
    }
}

#[test]
fn a_device_clock_hours_off_changes_nothing() {
    // The same answer arriving at two very different local times schedules
    // the refresh the same time after arrival.
    let skew = 2 * 3_600_000;
    for arrival in [1_800_000_000_000, 1_800_000_000_000 + skew, 1_800_000_000_000 - skew] {
        let mut session = Session::new(RefreshPolicy::default());
        let (_, actions) = session.on_login_answer(&tokens_json("id1", "s1", 900), arrival).unwrap();
        assert!(actions.contains(&Action::WakeAt { at: arrival + 810_000 }));
    }
}

#[test]
fn a_profile_update_refreshes_and_announces_once_the_token_carries_it() {
    let mut session = signed_in(0);
    let actions = session.on_profile_updated();
    assert_eq!(actions, vec![Action::Refresh { session_token: "s1".into() }]);
    // The first try fails: no USER_UPDATED yet, and the retry still counts.
    session.on_refresh(RefreshOutcome::NetworkError, 1_000, 0.0);
    assert_eq!(session.wake(2_000), vec![Action::Refresh { session_token: "s1".into() }]);
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id2", "s2", 900)), 2_000, 0.0).actions;
    let events: Vec<Event> =
        actions.iter().filter_map(|a| if let Action::Emit { event } = a { Some(*event) } else { None }).collect();
    assert_eq!(events, vec![Event::TokenRefreshed, Event::UserUpdated]);
    // Announced once.
    session.refresh_now();
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id3", "s3", 900)), 3_000, 0.0).actions;
    assert!(!actions.contains(&Action::Emit { event: Event::UserUpdated }));
}

#[test]
fn a_refresh_asked_for_before_the_profile_changed_is_followed_by_another() {
    let mut session = signed_in(0);
    assert_eq!(session.refresh_now(), vec![Action::Refresh { session_token: "s1".into() }]);
    assert!(session.on_profile_updated().is_empty(), "one refresh at a time");
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id2", "s2", 900)), 1_000, 0.0).actions;
    assert!(!actions.contains(&Action::Emit { event: Event::UserUpdated }), "that answer may hold the old profile");
    assert!(actions.contains(&Action::Refresh { session_token: "s2".into() }), "so another refresh starts at once");
    let actions = session.on_refresh(RefreshOutcome::Answer(&refresh_json("id3", "s3", 900)), 1_100, 0.0).actions;
    assert!(actions.contains(&Action::Emit { event: Event::UserUpdated }));
}
