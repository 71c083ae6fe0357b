//! The abuse paths a hostile client would take with the default settings,
//! each as it was measured against the server before it was closed: SMS and
//! email bombing, a stranger keeping a user from binding, guessing without a
//! ceiling, a stranger locking the owner out of password bind, and a slow
//! code gateway breaking the resend rule. Time is the injected clock.
#![cfg(feature = "server")]

mod server;

use miniauth::protocol::{ApiErrorCode as Code, Channel};
use miniauth::server::clock::Clock;
use miniauth::server::codes::PER_PAIR_PER_DAY;
use miniauth::server::config::Registration;
use serde_json::{json, Value};
use server::{TestServer, UserSpec, PASSWORD};
use std::sync::{Arc, Mutex};

const DAY_SECS: u64 = 24 * 60 * 60;

/// A six-digit code that is not `code`.
fn not(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

/// `n` distinct wrong guesses at `code`.
fn wrong_guesses(code: &str, n: usize) -> Vec<String> {
    let mut guesses = Vec::new();
    let mut guess = code.to_string();
    while guesses.len() < n {
        guess = not(&guess);
        guesses.push(guess.clone());
    }
    guesses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_go_only_to_a_bind_in_progress_and_within_budget() {
    let s = TestServer::start().await;
    // Measured before: 130 sends to distinct numbers from one address, no
    // state token, 120 accepted.
    let bare = s.http.post("/v1/verify-codes", json!({ "channel": "sms", "to": "13800138000" })).await;
    bare.expect_error(400, Code::InvalidRequest);
    let state = s.challenge("o_abroad").await.state_token;
    s.send_code(Channel::Sms, "+447911123456", &state).await.expect_error(400, Code::RecipientNotAllowed);
    assert_eq!(s.http.get("/sim/outbox?to=%2B447911123456").await.json, json!([]), "nothing went abroad");

    // One bind asks for three codes at most, a minute apart; a new login
    // may ask again at once (Retry-After 1).
    let state = s.challenge("o_one_bind").await.state_token;
    for i in 0..3 {
        s.send_code(Channel::Sms, &format!("1370000000{i}"), &state).await.expect(202);
        s.advance(61);
    }
    let fourth = s.send_code(Channel::Sms, "13700000003", &state).await;
    fourth.expect_error(429, Code::VerifyCodeLimitReached);
    assert_eq!(fourth.retry_after(), Some(1));

    // One WeChat user, a fresh bind for each number: its daily budget.
    let mut accepted = 0;
    for i in 0..130 {
        s.advance(6); // WeChat allows a user ten logins a minute
        let state = s.challenge("o_bomber").await.state_token;
        let answer = s.send_code(Channel::Sms, &format!("1390000{i:04}"), &state).await;
        match answer.status {
            202 => accepted += 1,
            _ => {
                answer.expect_error(429, Code::VerifyCodeLimitReached);
                assert!(answer.retry_after().is_some_and(|r| r > 0 && r <= DAY_SECS), "{:?}", answer.retry_after());
            }
        }
    }
    assert_eq!(accepted, 10, "one WeChat user's codes per day");
    let refused_number = s.http.get("/sim/outbox?to=13900000129").await;
    assert_eq!(refused_number.json, json!([]), "a refused send reaches nobody");
    s.advance(DAY_SECS);
    let state = s.challenge("o_bomber").await.state_token;
    s.send_code(Channel::Sms, "13900000200", &state).await.expect(202);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stranger_cannot_spend_a_recipients_budget() {
    let s = TestServer::start().await;
    let victim = "13800138000";
    let send_as = |openid: &'static str| {
        let s = &s;
        async move {
            let state = s.challenge(openid).await.state_token;
            s.send_code(Channel::Sms, victim, &state).await
        }
    };
    for _ in 0..PER_PAIR_PER_DAY {
        send_as("o_stranger").await.expect(202);
    }
    send_as("o_stranger").await.expect_error(429, Code::VerifyCodeLimitReached);
    // The owner still gets a code...
    send_as("o_owner").await.expect(202);
    // ...and the recipient's day ends at 10 codes, whoever asks.
    for _ in 0..4 {
        send_as("o_second_stranger").await.expect(202);
    }
    send_as("o_second_stranger").await.expect_error(429, Code::VerifyCodeLimitReached);
    send_as("o_third_stranger").await.expect_error(429, Code::VerifyCodeLimitReached);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sends_at_most_its_per_minute_and_per_day_budget() {
    let s = TestServer::start_with(|c| {
        c.codes_per_minute = 5;
        c.codes_per_day = 8;
    })
    .await;
    let mut answers = Vec::new();
    for i in 0..6 {
        let state = s.challenge(&format!("o_crowd_{i}")).await.state_token;
        answers.push(s.send_code(Channel::Email, &format!("p{i}@example.com"), &state).await);
    }
    assert_eq!(answers.iter().filter(|a| a.status == 202).count(), 5);
    answers[5].expect_error(429, Code::VerifyCodeLimitReached);
    assert!(answers[5].retry_after().is_some_and(|r| r <= 60));
    s.advance(60);
    let mut sent = 0;
    for i in 6..12 {
        let state = s.challenge(&format!("o_crowd_{i}")).await.state_token;
        let answer = s.send_code(Channel::Email, &format!("p{i}@example.com"), &state).await;
        if answer.status == 202 {
            sent += 1;
        } else {
            answer.expect_error(429, Code::VerifyCodeLimitReached);
            assert!(answer.retry_after().is_some_and(|r| r > 60), "the day's budget, not the minute's");
        }
    }
    assert_eq!(sent, 3, "8 a day");
    s.http.check_answers().await;
}

/// Measured before: a stranger's sends and wrong guesses under his own
/// state token kept the owner from binding for as long as he kept going.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_binds_by_code_despite_a_strangers_sends_and_guesses() {
    let s = TestServer::start().await;
    let phone = "+8613800138000";
    let owner = s.add_user(UserSpec { phone: Some(phone.into()), ..UserSpec::default() }).await;

    // The owner asks first; then the stranger asks for codes to the same
    // number and burns each with five wrong guesses.
    let owners_bind = s.challenge("o_owner").await.state_token;
    let owners_code = s.fetch_code(Channel::Sms, phone, &owners_bind).await;
    for _ in 0..3 {
        let strangers_bind = s.challenge("o_stranger").await.state_token;
        let strangers_code = s.fetch_code(Channel::Sms, phone, &strangers_bind).await;
        for guess in wrong_guesses(&strangers_code, 5) {
            let answer = s.bind_verify_code(&strangers_bind, Channel::Sms, phone, &guess).await;
            assert_ne!(answer.status, 200, "a wrong guess never binds");
        }
        // The owner's code is his own: the stranger's guesses cannot reach it.
        let answer = s.bind_verify_code(&strangers_bind, Channel::Sms, phone, &owners_code).await;
        assert_ne!(answer.status, 200, "another bind's code does not work");
    }
    let tokens = s.bind_verify_code(&owners_bind, Channel::Sms, phone, &owners_code).await.success();
    assert_eq!(s.verify(&tokens.id_token).await.1["sub"], owner.as_str());

    // Within the same minute, a second owner asks after the stranger began.
    let email = "owner@example.com";
    let second = s.add_user(UserSpec { email: Some(email.into()), ..UserSpec::default() }).await;
    let strangers_bind = s.challenge("o_stranger_2").await.state_token;
    let strangers_code = s.fetch_code(Channel::Email, email, &strangers_bind).await;
    for guess in wrong_guesses(&strangers_code, 5) {
        s.bind_verify_code(&strangers_bind, Channel::Email, email, &guess).await;
    }
    let owners_bind = s.challenge("o_owner_2").await.state_token;
    let owners_code = s.fetch_code(Channel::Email, email, &owners_bind).await;
    let tokens = s.bind_verify_code(&owners_bind, Channel::Email, email, &owners_code).await.success();
    assert_eq!(s.verify(&tokens.id_token).await.1["sub"], second.as_str());
    s.http.check_answers().await;
}

/// Someone guessing passwords as one WeChat user, with a state token
/// renewed before it expires (and not more often: WeChat allows a user
/// ten logins a minute).
struct Guesser {
    openid: String,
    state: Option<(String, i64)>,
}

impl Guesser {
    fn new(openid: impl Into<String>) -> Self {
        Self { openid: openid.into(), state: None }
    }

    async fn guess(&mut self, s: &TestServer, username: &str, password: &str) -> server::Answer {
        let now = s.now_secs();
        if self.state.as_ref().is_none_or(|(_, issued)| now - issued > 500) {
            self.state = Some((s.challenge(&self.openid).await.state_token, now));
        }
        let (state, _) = self.state.as_ref().unwrap();
        s.bind_password(state, username, password).await
    }
}

/// Measured before: five guesses per code, a new code every 61 s, no
/// escalation (about 7,000 guesses a day, 19 % over 30 days); 28,800
/// password guesses a day. Now one WeChat user fails at most 20 times a
/// day, with waits in between, and a target is guessed at 50 times a day
/// however many users guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_has_a_daily_ceiling() {
    let s = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    s.add_user(UserSpec::with_password("target")).await;

    // One guesser, as fast as the server lets him over a day.
    let mut guesser = Guesser::new("o_guesser");
    let mut failures = 0;
    let mut waited = 0;
    let ceiling_wait = loop {
        let answer = guesser.guess(&s, "target", "guess").await;
        if answer.status == 401 {
            failures += 1;
            continue;
        }
        answer.expect_error(429, Code::TooManyFailures);
        let wait = answer.retry_after().unwrap();
        if wait > 15 * 60 {
            break wait;
        }
        waited += wait;
        s.advance(wait);
    };
    assert_eq!(failures, 20, "one WeChat user's failures per day");
    assert!(waited >= 2 + 4 + 8 + 16 + 32, "growing waits after the first five: {waited} s");
    assert!(ceiling_wait <= DAY_SECS, "the ceiling lifts within a day: {ceiling_wait}");

    // Further guessers: the target's ceiling holds across all of them.
    let mut guessers = 1;
    let mut guesser = Guesser::new("o_guesser_1");
    loop {
        let answer = guesser.guess(&s, "target", "guess").await;
        if answer.status == 401 {
            failures += 1;
            continue;
        }
        answer.expect_error(429, Code::TooManyFailures);
        if failures == 50 {
            break;
        }
        let wait = answer.retry_after().unwrap();
        if wait > 15 * 60 {
            // This one reached his own ceiling: the next one takes over.
            guessers += 1;
            guesser = Guesser::new(format!("o_guesser_{guessers}"));
        } else {
            s.advance(wait);
        }
    }
    assert_eq!(failures, 50, "guesses at one username per day");
    assert_eq!(1 + guessers, 3, "reaching it took three WeChat users");
    // The day after, it lifts.
    s.advance(DAY_SECS);
    Guesser::new("o_guesser_4").guess(&s, "target", "guess").await.expect_error(401, Code::InvalidCredentials);
    Guesser::new("o_owner").guess(&s, "target", PASSWORD).await.success();
    s.http.check_answers().await;
}

/// Measured before: 20 wrong guesses a minute for a username made the real
/// user's correct password answer 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_wrong_passwords_do_not_lock_the_owner_out() {
    let s = TestServer::start_with(|c| c.registration = Registration::Closed).await;
    s.add_user(UserSpec::with_password("owner")).await;
    let state = s.challenge("o_stranger").await.state_token;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(s.bind_password(&state, "owner", "not the password").await.status);
    }
    assert_eq!(statuses.iter().filter(|&&status| status == 401).count(), 5, "{statuses:?}");
    assert!(statuses[5..].iter().all(|&status| status == 429), "{statuses:?}");
    Guesser::new("o_owner").guess(&s, "owner", PASSWORD).await.success();
    s.http.check_answers().await;
}

/// Measured before: when the webhook answered after its timeout, the server
/// forgot the code and allowed an immediate resend (15 codes to one number,
/// 12 of them within 60 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_webhook_keeps_the_resend_rule() {
    use axum::{routing::post, Json, Router};
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let inbox = received.clone();
    let slow = Router::new().route(
        "/slow",
        post(move |Json(message): Json<Value>| {
            let inbox = inbox.clone();
            async move {
                inbox.lock().unwrap().push(message);
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, slow).await });
    let s = TestServer::start_external(|c| {
        c.code_webhook = Some(webhook);
        c.code_webhook_timeout = 1;
    })
    .await;

    let state = s.challenge("o_slow_gateway").await.state_token;
    // The gateway took the code and did not answer in time: it may be on
    // its way, so the answer is 202 and the resend rule stands.
    s.send_code(Channel::Sms, "13800138000", &state).await.expect(202);
    let again = s.send_code(Channel::Sms, "13800138000", &state).await;
    again.expect_error(429, Code::VerifyCodeTooFrequent);
    assert_eq!(received.lock().unwrap().len(), 1, "one code went to the gateway");
    // And the code it took works.
    let code = received.lock().unwrap()[0]["code"].as_str().unwrap().to_string();
    s.bind_verify_code(&state, Channel::Sms, "13800138000", &code).await.success();
    s.http.check_answers().await;
}

async fn rows(s: &TestServer, table: &str) -> i64 {
    let (count,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&s.app.db.write).await.unwrap();
    count
}

/// Measured before: expired state tokens, codes and the tokens of ended
/// sessions were never deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_removes_what_nothing_reads_and_reuse_detection_still_works() {
    let s = TestServer::start().await;
    let live = s.register("o_live").await;
    let rotated = s.refresh(&live.session_token).await.refreshed();
    let ended = s.register("o_ended").await;
    s.logout(&ended.session_token).await.expect(204);
    let state = s.challenge("o_abandoned").await.state_token;
    let code = s.fetch_code(Channel::Sms, "13800138000", &state).await;
    s.bind_verify_code(&state, Channel::Sms, "13800138000", &not(&code)).await.expect(400);
    let before: Vec<i64> = table_rows(&s).await;
    assert!(before.iter().all(|&n| n > 0), "{before:?}");

    s.advance(2 * DAY_SECS);
    let removed = miniauth::server::purge::run(&s.app.db.write, s.clock.now()).await.unwrap();
    let after = table_rows(&s).await;
    // [state tokens, codes, sends, failed guesses, families, session tokens]:
    // the live family and its two tokens stay.
    assert_eq!(after, vec![0, 0, 0, 0, 1, 2], "before {before:?}");
    assert_eq!(removed, before.iter().sum::<i64>() as u64 - 3);

    // The ended session is unknown now, which answers as before...
    s.refresh(&ended.session_token).await.expect_error(401, Code::InvalidSession);
    // ...and the live one's rotated token is still recognised when replayed.
    s.refresh(&live.session_token).await.expect_error(401, Code::InvalidSession);
    s.refresh(&rotated.session_token).await.expect_error(401, Code::InvalidSession);
    s.http.check_answers().await;
}

async fn table_rows(s: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["state_tokens", "verify_codes", "code_sends", "failed_guesses", "session_families", "session_tokens"]
    {
        counts.push(rows(s, table).await);
    }
    counts
}

/// Refresh is limited per session family, and a replay is caught before
/// any limit: a saturated limiter never hides reuse detection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_revoke_the_family_even_when_its_refresh_limit_is_spent() {
    let s = TestServer::start_with(|c| c.rate_limit_account = 2).await;
    let first = s.register("o_chain").await;
    let second = s.refresh(&first.session_token).await.refreshed();
    let third = s.refresh(&second.session_token).await.refreshed();
    s.refresh(&third.session_token).await.expect_error(429, Code::RateLimited);
    s.advance(11); // past the grace window
    s.refresh(&first.session_token).await.expect_error(401, Code::InvalidSession);
    s.refresh(&third.session_token).await.expect_error(401, Code::InvalidSession);
    s.http.check_answers().await;
}
