//! Chat steps over HTTP, for the tests of chat identity and of rooms: a
//! bot's tickets and deliveries, and linking a contact to a user by the
//! code it gets in chat.

use super::{Answer, TestServer};
use serde_json::{json, Value};

/// A ticket for a card to `contact`, asked for with `bot_key`.
pub async fn ticket(s: &TestServer, bot_key: &str, contact: Value) -> Answer {
    s.http.post_bearer("/v1/bot/link-tickets", bot_key, json!({ "contact": contact })).await
}

pub async fn deliveries(s: &TestServer, bot_key: &str, wait: u32) -> Vec<Value> {
    let answer = s.http.get_authorized(&format!("/v1/bot/deliveries?wait={wait}"), &format!("Bearer {bot_key}")).await;
    answer.expect(200);
    answer.json.as_array().unwrap().clone()
}

pub async fn ack(s: &TestServer, bot_key: &str, delivery: &Value) {
    let path = format!("/v1/bot/deliveries/{}/ack", delivery["id"].as_str().unwrap());
    s.http.post_bearer(&path, bot_key, json!({})).await.expect(204);
}

/// Acknowledges everything the bot has due.
pub async fn drain(s: &TestServer, bot_key: &str) {
    for delivery in deliveries(s, bot_key, 0).await {
        ack(s, bot_key, &delivery).await;
    }
}

/// The six digits of a text delivery.
pub fn code_in(delivery: &Value) -> String {
    assert_eq!(delivery["kind"], "text", "{delivery}");
    let text = delivery["text"].as_str().unwrap();
    let code: String = text.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "the text starts with the code: {text}");
    code
}

pub async fn open(s: &TestServer, id_token: &str, ticket: &str) -> Answer {
    s.http.post_bearer("/v1/chat-links", id_token, json!({ "ticket": ticket })).await
}

pub async fn confirm(s: &TestServer, id_token: &str, ticket: &str, code: &str) -> Answer {
    s.http.post_bearer("/v1/chat-links/confirm", id_token, json!({ "ticket": ticket, "code": code })).await
}

/// The code the bot was given for its contact, acknowledged.
pub async fn code_sent_in_chat(s: &TestServer, bot_key: &str, to: &str) -> String {
    let due = deliveries(s, bot_key, 0).await;
    assert_eq!(due.len(), 1, "one delivery: {due:?}");
    assert_eq!(due[0]["to"], to);
    ack(s, bot_key, &due[0]).await;
    code_in(&due[0])
}

/// Links `contact_id` at `bot` to the user signed in with `id_token`.
pub async fn link(s: &TestServer, bot: &str, contact_id: &str, id_token: &str) {
    let ticket = ticket(s, bot, json!({ "id": contact_id })).await.json["ticket"].as_str().unwrap().to_string();
    open(s, id_token, &ticket).await.expect(202);
    let code = code_sent_in_chat(s, bot, contact_id).await;
    confirm(s, id_token, &ticket, &code).await.expect(200);
    drain(s, bot).await;
}

/// Links `contact_id` at `bot` to the user registered for `openid`; answers
/// the user's id.
pub async fn linked_user(s: &TestServer, bot: &str, contact_id: &str, openid: &str) -> String {
    let user = s.register(openid).await;
    link(s, bot, contact_id, &user.id_token).await;
    s.verify(&user.id_token).await.1["sub"].as_str().unwrap().to_string()
}
