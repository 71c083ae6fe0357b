//! Chat identity over HTTP: bots and their keys, login-card tickets, links
//! confirmed by a code sent in chat, and the deliveries a bot long-polls.

mod server;

use miniauth::protocol::{ApiErrorCode as Code, BindFlow, Channel};
use serde_json::{json, Value};
use server::chat::{ack, code_in, code_sent_in_chat, confirm, deliveries, drain, linked_user, open, ticket};
use server::{Answer, TestServer};

const ALICE: &str = "wxid_alice";

async fn ticket_for_alice(s: &TestServer, bot_key: &str) -> String {
    let answer = ticket(s, bot_key, json!({ "id": ALICE, "name": "Alice" })).await;
    answer.expect(200);
    assert_eq!(answer.json["expires_in"], 600);
    answer.json["ticket"].as_str().unwrap().to_string()
}

async fn contact(s: &TestServer, bot_key: &str, contact_id: &str) -> Answer {
    s.http.get_authorized(&format!("/v1/bot/contacts/{contact_id}"), &format!("Bearer {bot_key}")).await
}

/// With every log line of the process captured: the bot key, the ticket
/// and the code reach no log, and the code no answer but the bot's.
#[tokio::test]
async fn a_contact_is_linked_by_the_code_it_gets_in_chat_and_unlinked_by_its_user() {
    let logs = server::capture_logs();
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let ticket = ticket_for_alice(&s, &bot).await;
    let alice = s.register("o_alice").await;
    let sub = s.verify(&alice.id_token).await.1["sub"].as_str().unwrap().to_string();
    contact(&s, &bot, ALICE).await.expect_error(404, Code::NotFound);

    let sent = open(&s, &alice.id_token, &ticket).await;
    sent.expect(202);
    assert_eq!(sent.json, json!({ "expires_in": 300, "resend_after": 60 }));
    let code = code_sent_in_chat(&s, &bot, ALICE).await;
    open(&s, &alice.id_token, &ticket).await.expect_error(429, Code::VerifyCodeTooFrequent);

    let linked = confirm(&s, &alice.id_token, &ticket, &code).await;
    linked.expect(200);
    assert_eq!(linked.json, json!({ "bot": "helper", "contact_id": ALICE, "contact_name": "Alice" }));
    let news = deliveries(&s, &bot, 0).await;
    assert_eq!(news.len(), 1);
    assert_eq!((&news[0]["kind"], &news[0]["contact_id"]), (&json!("linked"), &json!(ALICE)));
    ack(&s, &bot, &news[0]).await;
    let profile = contact(&s, &bot, ALICE).await;
    profile.expect(200);
    assert_eq!(profile.json["sub"], sub.as_str());
    let listed = s.http.get_authorized("/v1/chat-links", &format!("Bearer {}", alice.id_token)).await;
    assert_eq!(listed.json, json!([{ "bot": "helper", "contact_id": ALICE, "contact_name": "Alice" }]));

    // The ticket is spent.
    confirm(&s, &alice.id_token, &ticket, &code).await.expect_error(400, Code::InvalidTicket);
    open(&s, &alice.id_token, &ticket).await.expect_error(400, Code::InvalidTicket);

    // Only the code's delivery to the bot ever held the code.
    for answer in s.http.transcript() {
        if !answer.path.starts_with("/v1/bot/deliveries") {
            assert!(!answer.body.contains(&code), "the code leaked: {}", answer.whole());
        }
    }

    let path = format!("/v1/chat-links/{ALICE}");
    s.http.delete_bearer(&path, &alice.id_token).await.expect(204);
    s.http.delete_bearer(&path, &alice.id_token).await.expect_error(404, Code::NotFound);
    let news = deliveries(&s, &bot, 0).await;
    assert_eq!((&news[0]["kind"], &news[0]["contact_id"]), (&json!("unlinked"), &json!(ALICE)));
    contact(&s, &bot, ALICE).await.expect_error(404, Code::NotFound);
    s.http.check_answers().await;
    let logged = logs.text();
    for (what, secret) in [("bot key", &bot), ("ticket", &ticket), ("code", &code)] {
        assert!(!logged.contains(secret.as_str()), "the {what} was logged");
    }
}

#[tokio::test]
async fn a_forwarded_card_cannot_link_whoever_opens_it() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let ticket = ticket_for_alice(&s, &bot).await;
    let mallory = s.register("o_mallory").await;
    let alice = s.register("o_alice").await;

    // Mallory got the forwarded card and opens it first: it is his, but the
    // code goes to Alice's chat, and he never sees it.
    open(&s, &mallory.id_token, &ticket).await.expect(202);
    open(&s, &alice.id_token, &ticket).await.expect_error(400, Code::InvalidTicket);
    let code = code_sent_in_chat(&s, &bot, ALICE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        confirm(&s, &mallory.id_token, &ticket, wrong).await.expect_error(400, Code::InvalidVerifyCode);
    }
    confirm(&s, &mallory.id_token, &ticket, wrong).await.expect_error(400, Code::VerifyCodeExhausted);
    // Alice, who has the code, cannot use Mallory's ticket; and after five
    // wrong tries not even the right code links it.
    confirm(&s, &alice.id_token, &ticket, &code).await.expect_error(400, Code::InvalidTicket);
    confirm(&s, &mallory.id_token, &ticket, &code).await.expect_error(429, Code::TooManyFailures);
    s.advance(60);
    confirm(&s, &mallory.id_token, &ticket, &code).await.expect_error(400, Code::VerifyCodeExhausted);
    contact(&s, &bot, ALICE).await.expect_error(404, Code::NotFound);

    // A new card for Alice links her.
    let ticket = ticket_for_alice(&s, &bot).await;
    open(&s, &alice.id_token, &ticket).await.expect(202);
    let code = code_sent_in_chat(&s, &bot, ALICE).await;
    confirm(&s, &alice.id_token, &ticket, &code).await.expect(200);
    let alice_sub = s.verify(&alice.id_token).await.1["sub"].clone();
    assert_eq!(contact(&s, &bot, ALICE).await.json["sub"], alice_sub);
    s.http.check_answers().await;
}

#[tokio::test]
async fn deliveries_come_again_until_acknowledged_and_outlive_the_instance() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let ticket = ticket_for_alice(&s, &bot).await;
    let alice = s.register("o_alice").await;
    open(&s, &alice.id_token, &ticket).await.expect(202);

    let first = deliveries(&s, &bot, 0).await;
    assert_eq!(first.len(), 1);
    assert!(deliveries(&s, &bot, 0).await.is_empty(), "leased: not handed out twice at once");
    s.advance(61);
    // Unacknowledged: handed out again, by another instance on the same
    // database as well.
    let other = s.second_instance().await;
    let again = deliveries(&other, &bot, 0).await;
    assert_eq!(again, first);
    ack(&other, &bot, &again[0]).await;
    ack(&other, &bot, &again[0]).await; // a retried ack is harmless
    s.advance(61);
    assert!(deliveries(&s, &bot, 0).await.is_empty(), "acknowledged: gone");

    // A code's text that nobody fetched in time expires with the code.
    s.advance(60);
    open(&s, &alice.id_token, &ticket).await.expect(202);
    s.advance(301);
    assert!(deliveries(&s, &bot, 0).await.is_empty(), "an expired code is not delivered");
    other.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_when_a_delivery_is_queued() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let ticket = ticket_for_alice(&s, &bot).await;
    let alice = s.register("o_alice").await;
    assert!(deliveries(&s, &bot, 1).await.is_empty(), "nothing due: empty after the wait");
    let poll = {
        let (http, bot) = (s.http.clone(), bot.clone());
        tokio::spawn(async move { http.get_authorized("/v1/bot/deliveries?wait=20", &format!("Bearer {bot}")).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    open(&s, &alice.id_token, &ticket).await.expect(202);
    let answer = poll.await.unwrap();
    answer.expect(200);
    assert_eq!(answer.json.as_array().map(Vec::len), Some(1), "{}", answer.body);
    code_in(&answer.json[0]);
}

#[tokio::test]
async fn the_bot_api_answers_only_a_current_key_and_each_bot_its_own() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let other = s.add_bot("other").await;
    let alice = s.register("o_alice").await;
    for key in ["", "mab_", "mab_not-a-key", alice.id_token.as_str(), &bot[4..]] {
        ticket(&s, key, json!({ "id": ALICE })).await.expect_error(401, Code::Unauthorized);
    }
    let answer = s.http.get("/v1/bot/deliveries").await;
    answer.expect_error(401, Code::Unauthorized);

    let ticket = ticket_for_alice(&s, &bot).await;
    open(&s, &alice.id_token, &ticket).await.expect(202);
    assert!(deliveries(&s, &other, 0).await.is_empty(), "another bot's deliveries are not this one's");
    let due = deliveries(&s, &bot, 0).await;
    ack(&s, &other, &due[0]).await; // not its delivery: nothing happens
    s.advance(61);
    assert_eq!(deliveries(&s, &bot, 0).await, due, "still there for its bot");
    confirm(&s, &alice.id_token, &ticket, &code_in(&due[0])).await.expect(200);
    contact(&s, &bot, ALICE).await.expect(200);
    contact(&s, &other, ALICE).await.expect_error(404, Code::NotFound);

    s.revoke_bot("helper").await;
    contact(&s, &bot, ALICE).await.expect_error(401, Code::Unauthorized);
    s.http.check_answers().await;
}

#[tokio::test]
async fn tickets_are_for_stable_contacts_and_expire() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    for contact in [
        json!({ "id": "$search$-3f2a" }),
        json!({ "id": "v1_abc@stranger" }),
        json!({ "id": "wxid a" }),
        json!({ "id": "" }),
        json!({ "id": "x".repeat(129) }),
        json!({ "id": ALICE, "name": "Al\u{202e}ice" }),
        json!({ "id": ALICE, "avatar": "http://example.com/a.png" }),
        json!({ "id": ALICE, "extra": 1 }),
        json!({ "name": "Alice" }),
    ] {
        ticket(&s, &bot, contact).await.expect_error(400, Code::InvalidRequest);
    }
    let answer = ticket(&s, &bot, json!({ "id": ALICE, "avatar": "https://wx.qlogo.cn/a/132" })).await;
    answer.expect(200);
    let alice = s.register("o_alice").await;
    s.advance(601);
    open(&s, &alice.id_token, answer.json["ticket"].as_str().unwrap()).await.expect_error(400, Code::InvalidTicket);
    open(&s, &alice.id_token, "not-a-ticket").await.expect_error(400, Code::InvalidTicket);
    s.http
        .post_bearer("/v1/chat-links", "not-a-token", json!({ "ticket": "x" }))
        .await
        .expect_error(401, Code::Unauthorized);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_racing_on_two_instances_never_get_the_same_delivery() {
    let s = TestServer::start().await;
    let other = s.second_instance().await;
    let bot = s.add_bot("helper").await;
    for n in 0..6 {
        let ticket = ticket(&s, &bot, json!({ "id": format!("wxid_{n}") })).await.json["ticket"].clone();
        let user = s.register(&format!("o_{n}")).await;
        open(&s, &user.id_token, ticket.as_str().unwrap()).await.expect(202);
    }
    let mut polls = Vec::new();
    for instance in [&s, &other, &s, &other] {
        let (http, bot) = (instance.http.clone(), bot.clone());
        polls.push(tokio::spawn(async move {
            http.get_authorized("/v1/bot/deliveries?wait=0", &format!("Bearer {bot}")).await.json
        }));
    }
    let mut ids = Vec::new();
    for poll in polls {
        ids.extend(poll.await.unwrap().as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()));
    }
    ids.sort();
    let handed_out = ids.len();
    ids.dedup();
    assert_eq!((handed_out, ids.len()), (6, 6), "each of the six handed out once");
    other.stop().await;
}

/// `miniauth bots add` prints the key alone on its last line, the key
/// works until `miniauth bots revoke`, and names are not reused.
#[tokio::test]
async fn the_bots_command_adds_lists_and_revokes() {
    let dir = server::TempDir::new("bots");
    let miniauth = |args: &[&str]| server::miniauth_command(&dir.database(), args);
    let (ok, out, _) = miniauth(&["bots", "add", "--name", "helper"]);
    assert!(ok, "{out}");
    let key = out.lines().last().unwrap().to_string();
    assert!(key.starts_with("mab_") && key.len() == 47 && !key.contains(' '), "the last line is the key: {out}");
    let db = miniauth::server::db::open(&miniauth::server::db::Location::Sqlite(dir.database())).await.unwrap();
    assert_eq!(miniauth::server::chat::bots::authenticate(&db.read, &key).await.unwrap().name, "helper");
    db.close().await;

    let (ok, _, stderr) = miniauth(&["bots", "add", "--name", "helper"]);
    assert!(!ok && stderr.contains("exists"));
    let (ok, _, _) = miniauth(&["bots", "add", "--name", "no spaces"]);
    assert!(!ok);
    assert!(miniauth(&["bots", "revoke", "helper"]).0);
    assert!(!miniauth(&["bots", "revoke", "helper"]).0, "revoked already");
    assert_eq!(miniauth(&["bots", "list"]).1, "helper\trevoked\n");
    let db = miniauth::server::db::open(&miniauth::server::db::Location::Sqlite(dir.database())).await.unwrap();
    let refused = miniauth::server::chat::bots::authenticate(&db.read, &key).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthorized);
}

async fn start_chat_login(s: &TestServer, body: Value) -> (String, String) {
    let answer = s.http.post("/v1/login/chat", body).await;
    answer.expect(200);
    assert_eq!(answer.json["expires_in"], 120);
    let challenge = answer.json["challenge"].as_str().unwrap().to_string();
    assert!(challenge.len() == 6 && challenge.bytes().all(|b| b.is_ascii_digit()), "{challenge}");
    (challenge, answer.json["state_token"].as_str().unwrap().to_string())
}

async fn send_to_bot(s: &TestServer, bot_key: &str, contact_id: &str, text: &str) -> Answer {
    s.http.post_bearer("/v1/bot/challenges", bot_key, json!({ "contact_id": contact_id, "text": text })).await
}

async fn poll(s: &TestServer, state_token: &str) -> Answer {
    s.http.post("/v1/login/chat/poll", json!({ "state_token": state_token })).await
}

#[tokio::test]
async fn chat_sign_in_gives_a_linked_contact_its_users_tokens() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let sub = linked_user(&s, &bot, ALICE, "o_alice").await;

    let (challenge, state_token) = start_chat_login(&s, json!({ "bot": "helper" })).await;
    let waiting = poll(&s, &state_token).await;
    waiting.expect(202);
    assert_eq!(waiting.json, json!({ "status": "PENDING", "expires_in": 120 }));
    let wrong = if challenge == "000000" { "111111" } else { "000000" };
    assert_eq!(send_to_bot(&s, &bot, ALICE, wrong).await.json, json!({ "matched": false }));
    assert_eq!(send_to_bot(&s, &bot, ALICE, "hello").await.json, json!({ "matched": false }));
    let taken = send_to_bot(&s, &bot, ALICE, &format!(" {challenge}\n")).await;
    assert_eq!(taken.json, json!({ "matched": true }));
    // Only the first contact takes it.
    assert_eq!(send_to_bot(&s, &bot, "wxid_bob", &challenge).await.json, json!({ "matched": false }));
    let notice = deliveries(&s, &bot, 0).await;
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0]["to"], ALICE);
    assert!(notice[0]["text"].as_str().unwrap().contains(&challenge));

    let signed_in = poll(&s, &state_token).await.success();
    let (_, claims) = s.verify(&signed_in.id_token).await;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["amr"], json!(["chat"]));
    poll(&s, &state_token).await.expect_error(400, Code::InvalidStateToken);
    s.http.check_answers().await;
}

#[tokio::test]
async fn chat_sign_in_of_a_new_contact_binds_and_links_it() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let (challenge, state_token) = start_chat_login(&s, json!({})).await;
    assert_eq!(send_to_bot(&s, &bot, "wxid_new", &challenge).await.json, json!({ "matched": true }));
    let bind = poll(&s, &state_token).await.challenge("USER_REGISTER");
    assert!(!bind.flows.contains(&BindFlow::WechatPhone), "no Mini Program to ask: {:?}", bind.flows);
    s.bind_wechat_phone(&bind.state_token, "+8613800138000").await.expect_error(403, Code::FlowNotAllowed);
    let tokens = s.register_with(&bind.state_token, Some("Newton")).await.success();
    let (_, claims) = s.verify(&tokens.id_token).await;
    assert_eq!(claims["amr"], json!(["chat"]));
    let profile = contact(&s, &bot, "wxid_new").await;
    profile.expect(200);
    assert_eq!(profile.json["sub"], claims["sub"]);
    assert_eq!(profile.json["name"], "Newton");
    let news = deliveries(&s, &bot, 0).await;
    assert!(news.iter().any(|d| d["kind"] == "linked" && d["contact_id"] == "wxid_new"), "{news:?}");
    s.http.check_answers().await;
}

#[tokio::test]
async fn chat_sign_in_with_registration_closed_binds_an_existing_user_by_password() {
    let s = TestServer::start_closed().await;
    let bot = s.add_bot("helper").await;
    let user = s.add_user(server::UserSpec::with_password("lilei")).await;
    let (challenge, state_token) = start_chat_login(&s, json!({ "bot": "helper" })).await;
    send_to_bot(&s, &bot, "wxid_lilei", &challenge).await.expect(200);
    let bind = poll(&s, &state_token).await.challenge("SOCIAL_BIND");
    let tokens = s.bind_password(&bind.state_token, "lilei", server::PASSWORD).await.success();
    let (_, claims) = s.verify(&tokens.id_token).await;
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["amr"], json!(["chat", "pwd"]));
    assert_eq!(contact(&s, &bot, "wxid_lilei").await.json["sub"], user.as_str());
}

/// The `wechat` code channel: a person whose account is linked to a chat
/// contact (here by a chat sign-in on the web) opens the Mini Program for
/// the first time, names their account, and the code comes in chat to that
/// contact. Naming an account with no reachable contact, or none at all,
/// answers the same and sends nothing.
#[tokio::test]
async fn a_bind_code_in_chat_goes_to_the_contact_linked_to_the_named_account() {
    let logs = server::capture_logs();
    let s = TestServer::start_closed().await;
    let bot = s.add_bot("helper").await;
    let spec = server::UserSpec { email: Some("lin@example.com".into()), ..server::UserSpec::with_password("lin") };
    let lin = s.add_user(spec).await;
    s.add_user(server::UserSpec::with_password("unlinked")).await;
    let (challenge, state_token) = start_chat_login(&s, json!({})).await;
    send_to_bot(&s, &bot, ALICE, &challenge).await.expect(200);
    let on_the_web = poll(&s, &state_token).await.challenge("SOCIAL_BIND");
    s.bind_password(&on_the_web.state_token, "lin", server::PASSWORD).await.success();
    drain(&s, &bot).await;

    let bind = s.challenge("o_lin").await;
    assert_eq!(
        bind.flows,
        [BindFlow::WechatPhone, BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, BindFlow::Password]
    );
    s.send_code(Channel::Wechat, " LIN@example.com ", &bind.state_token).await.expect(202);
    let due = deliveries(&s, &bot, 0).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["to"], ALICE);
    assert!(due[0]["text"].as_str().unwrap().contains("sign in to your account"), "{}", due[0]["text"]);
    ack(&s, &bot, &due[0]).await;
    let code = code_in(&due[0]);
    // The code is for the contact of the account named: naming the account
    // otherwise (its username) reaches the same contact.
    let tokens = s.bind_verify_code(&bind.state_token, Channel::Wechat, "lin", &code).await.success();
    let (_, claims) = s.verify(&tokens.id_token).await;
    assert_eq!(claims["sub"], lin.as_str());
    assert_eq!(claims["amr"], json!(["wechat", "chat"]));

    // Nobody to reach: no such account, an account with no linked contact,
    // and (once its bot is revoked) lin's. Each answers as above, then as a
    // resend would, and no bot is handed anything.
    let other = s.add_bot("other").await;
    s.revoke_bot("helper").await;
    for account in ["nobody-by-this-name", "unlinked", "lin"] {
        let bind = s.challenge(&format!("o_{account}_2")).await;
        let sent = s.send_code(Channel::Wechat, account, &bind.state_token).await;
        sent.expect(202);
        assert_eq!(sent.json, json!({ "expires_in": 300, "resend_after": 60 }));
        s.send_code(Channel::Wechat, account, &bind.state_token).await.expect_error(429, Code::VerifyCodeTooFrequent);
        let guessed = s.bind_verify_code(&bind.state_token, Channel::Wechat, account, "123456").await;
        guessed.expect_error(400, Code::InvalidVerifyCode);
    }
    assert_eq!(deliveries(&s, &other, 0).await, Vec::<Value>::new());
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(rows, 0);
    let blank = s.challenge("o_blank").await;
    s.send_code(Channel::Wechat, " ", &blank.state_token).await.expect_error(400, Code::InvalidRecipient);
    s.http.check_answers().await;
    assert!(!logs.text().contains(&code), "the code was logged");
}

#[tokio::test]
async fn chat_sign_in_refuses_other_bots_expired_challenges_and_unknown_bots() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let other = s.add_bot("other").await;
    s.http.post("/v1/login/chat", json!({ "bot": "nobody" })).await.expect_error(400, Code::InvalidRequest);
    let (challenge, state_token) = start_chat_login(&s, json!({ "bot": "helper" })).await;
    assert_eq!(send_to_bot(&s, &other, ALICE, &challenge).await.json, json!({ "matched": false }), "for helper only");
    s.advance(121);
    assert_eq!(send_to_bot(&s, &bot, ALICE, &challenge).await.json, json!({ "matched": false }), "expired");
    poll(&s, &state_token).await.expect_error(400, Code::StateTokenExpired);
    poll(&s, "not-a-state-token").await.expect_error(400, Code::InvalidStateToken);
    send_to_bot(&s, "mab_nope", ALICE, &challenge).await.expect_error(401, Code::Unauthorized);
    s.http.check_answers().await;
}

/// Simulator mode's chat: `POST /sim/chat/say` is what a person would send
/// its built-in bot, for chat sign-in without a real bot (the playground).
#[tokio::test]
async fn the_simulated_chat_answers_a_chat_sign_in() {
    let s = TestServer::start().await;
    let (challenge, state_token) = start_chat_login(&s, json!({ "bot": "simulator" })).await;
    let said = s.http.post("/sim/chat/say", json!({ "contact_id": "wxid_sim", "text": challenge })).await;
    assert_eq!(said.json, json!({ "matched": true }));
    let bind = poll(&s, &state_token).await.challenge("USER_REGISTER");
    s.register_with(&bind.state_token, None).await.success();
    let again = s.http.post("/sim/chat/say", json!({ "contact_id": "wxid_sim", "text": challenge })).await;
    assert_eq!(again.json, json!({ "matched": false }), "taken already");
}

/// Six digits that take no live challenge are guesses at someone else's
/// sign-in: a contact gets five free, then waits, and twenty a day.
#[tokio::test]
async fn a_contact_guessing_challenges_meets_the_guessing_ceilings() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    for guess in 0..5 {
        let answer = send_to_bot(&s, &bot, "wxid_guesser", &format!("{guess:06}")).await;
        assert_eq!(answer.json, json!({ "matched": false }));
    }
    let refused = send_to_bot(&s, &bot, "wxid_guesser", "000005").await;
    refused.expect_error(429, Code::TooManyFailures);
    assert!(refused.retry_after().is_some_and(|r| r >= 1));
    for guess in 5..20 {
        s.advance(16 * 60);
        assert_eq!(
            send_to_bot(&s, &bot, "wxid_guesser", &format!("{guess:06}")).await.json,
            json!({ "matched": false })
        );
    }
    s.advance(16 * 60);
    let ceiling = send_to_bot(&s, &bot, "wxid_guesser", "000020").await;
    ceiling.expect_error(429, Code::TooManyFailures);
    // Another contact is not held up, and the guesser's own right challenge
    // is refused only by its waits (it is the same ceiling).
    let (challenge, _) = start_chat_login(&s, json!({})).await;
    assert_eq!(send_to_bot(&s, &bot, "wxid_other", &challenge).await.json, json!({ "matched": true }));
    s.http.check_answers().await;
}

#[tokio::test]
async fn unstable_contact_ids_cannot_answer_a_challenge() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let (challenge, _) = start_chat_login(&s, json!({})).await;
    for contact in ["v1_abc@stranger", "V1_ABC@STRANGER", "$search$-1", "$SEARCH$-1", "a b"] {
        send_to_bot(&s, &bot, contact, &challenge).await.expect_error(400, Code::InvalidRequest);
    }
    ticket(&s, &bot, json!({ "id": "x@STRANGER" })).await.expect_error(400, Code::InvalidRequest);
    assert_eq!(send_to_bot(&s, &bot, ALICE, &challenge).await.json, json!({ "matched": true }), "still live");
}

/// A bind offered to a chat sign-in before the contact was linked cannot
/// move the link made since: nothing proved the contact again.
#[tokio::test]
async fn a_stale_chat_sign_in_bind_does_not_move_a_link() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let (challenge, state_token) = start_chat_login(&s, json!({})).await;
    send_to_bot(&s, &bot, "wxid_move", &challenge).await.expect(200);
    let bind = poll(&s, &state_token).await.challenge("USER_REGISTER");
    drain(&s, &bot).await;
    let owner = linked_user(&s, &bot, "wxid_move", "o_owner").await;
    s.register_with(&bind.state_token, None).await.expect_error(409, Code::AlreadyBound);
    assert_eq!(contact(&s, &bot, "wxid_move").await.json["sub"], owner.as_str());
}

#[tokio::test]
async fn a_revoked_bot_answers_no_sign_in_and_delivers_nothing_more() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let (challenge, state_token) = start_chat_login(&s, json!({})).await;
    send_to_bot(&s, &bot, ALICE, &challenge).await.expect(200);
    s.revoke_bot("helper").await;
    poll(&s, &state_token).await.expect_error(400, Code::InvalidStateToken);
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries").fetch_one(&s.app.db.write).await.unwrap();
    assert_eq!(rows, 0, "its queue is dropped");

    // An answered sign-in is collected within the challenge's life only.
    let other = s.add_bot("other").await;
    let (challenge, state_token) = start_chat_login(&s, json!({})).await;
    send_to_bot(&s, &other, ALICE, &challenge).await.expect(200);
    s.advance(121);
    poll(&s, &state_token).await.expect_error(400, Code::StateTokenExpired);
}

/// Found by schemathesis: a NUL in a bot's name reached the database (which
/// PostgreSQL refuses as text). Names, contact ids and delivery ids that no
/// row can have are answered without asking it.
#[tokio::test]
async fn ids_no_row_can_have_never_reach_the_database() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let alice = s.register("o_alice").await;
    for name in ["\u{a0}\u{10}K\u{0}P", "a\u{0}", "é"] {
        s.http.post("/v1/login/chat", json!({ "bot": name })).await.expect_error(400, Code::InvalidRequest);
    }
    contact(&s, &bot, "a%00b").await.expect_error(404, Code::NotFound);
    contact(&s, &bot, "%C3%A9").await.expect_error(404, Code::NotFound);
    s.http.delete_bearer("/v1/chat-links/a%00b", &alice.id_token).await.expect_error(404, Code::NotFound);
    s.http.post_bearer("/v1/bot/deliveries/a%00b/ack", &bot, json!({})).await.expect(204);
    send_to_bot(&s, &bot, "a\u{0}b", "123456").await.expect_error(400, Code::InvalidRequest);
    s.http.check_answers().await;
}
