//! Rooms as groups over HTTP: the bot's snapshots, the reads and who may
//! make them, API clients, and the `rooms` claim of a member's tokens.

mod server;

use miniauth::protocol::{ApiErrorCode as Code, MAX_ROOM_MEMBERS};
use miniauth::server::clients::Scope;
use miniauth::server::clock::Clock;
use serde_json::{json, Value};
use server::chat::link;
use server::{concurrently, keys_of, Answer, TestServer};

const ROOM: &str = "team-42@chatroom";
const ALICE: &str = "wxid_alice";
const BOB: &str = "wxid_bob";

/// A snapshot of a room with `members` (ids; Alice has every field).
fn snapshot(topic: &str, members: &[&str], synced_at: i64) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|id| match *id {
            ALICE => json!({ "id": ALICE, "roomAlias": "Al", "inviterId": BOB,
                             "avatar": "https://wx.qlogo.cn/a.png", "name": "Alice" }),
            id => json!({ "id": id, "roomAlias": "", "name": id }),
        })
        .collect();
    json!({ "topic": topic, "avatar": "", "ownerId": BOB, "adminIds": [BOB], "members": members, "syncedAt": synced_at })
}

async fn sync(s: &TestServer, bot_key: &str, room: &str, snapshot: &Value) -> Answer {
    s.http.put_bearer(&format!("/v1/bot/rooms/{room}"), bot_key, snapshot.clone()).await
}

/// Syncs and expects `applied`.
async fn synced(s: &TestServer, bot_key: &str, room: &str, snapshot: &Value, applied: bool) {
    let answer = sync(s, bot_key, room, snapshot).await;
    answer.expect(200);
    assert_eq!(answer.json, json!({ "applied": applied }), "{snapshot}");
}

async fn read(s: &TestServer, credential: &str, path: &str) -> Answer {
    s.http.get_authorized(path, &format!("Bearer {credential}")).await
}

async fn room(s: &TestServer, credential: &str, room: &str) -> Answer {
    read(s, credential, &format!("/v1/rooms/{room}")).await
}

/// The member ids of the room as `credential` reads it.
async fn members(s: &TestServer, credential: &str, id: &str) -> Value {
    let answer = room(s, credential, id).await;
    answer.expect(200);
    answer.json["memberIds"].clone()
}

/// A ms timestamp at the server's (manual) clock, `offset_ms` from now.
fn at(s: &TestServer, offset_ms: i64) -> i64 {
    s.now_secs() * 1000 + offset_ms
}

#[tokio::test]
async fn a_room_is_read_in_exactly_the_documented_shapes() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    synced(&s, &bot, ROOM, &snapshot("Team 42", &[BOB, ALICE, "wxid_carol"], at(&s, 0)), true).await;

    let answer = room(&s, &bot, ROOM).await;
    answer.expect(200);
    assert_eq!(
        answer.json,
        json!({ "id": ROOM, "topic": "Team 42", "avatar": null, "ownerId": BOB, "adminIds": [BOB],
                "memberIds": [ALICE, BOB, "wxid_carol"] })
    );
    assert_eq!(keys_of(&answer.json), ["adminIds", "avatar", "id", "memberIds", "ownerId", "topic"]);
    s.http.check_schema("Room", &answer.json).await;
    let doc = s.http.get("/openapi.json").await.json;
    let documented = &doc["components"]["schemas"]["RoomSnapshot"]["properties"];
    for field in ["members", "adminIds"] {
        assert_eq!(
            documented[field]["maxItems"], MAX_ROOM_MEMBERS,
            "{field}: the server's limit is the documented one"
        );
    }
    let unlike = json!({ "id": ROOM, "topic": 42, "memberIds": "wxid_alice" });
    // A wrong topic and member ids, and no avatar, owner or admins.
    assert_eq!(s.http.schema_errors("Room", &unlike).await.len(), 5, "the check tells a room from what is not one");

    let alice = read(&s, &bot, &format!("/v1/rooms/{ROOM}/members/{ALICE}")).await;
    alice.expect(200);
    assert_eq!(
        alice.json,
        json!({ "id": ALICE, "roomAlias": "Al", "inviterId": BOB, "avatar": "https://wx.qlogo.cn/a.png", "name": "Alice" })
    );
    s.http.check_schema("RoomMember", &alice.json).await;
    // Empty strings are none.
    let carol = read(&s, &bot, &format!("/v1/rooms/{ROOM}/members/wxid_carol")).await;
    assert_eq!(
        carol.json,
        json!({ "id": "wxid_carol", "roomAlias": null, "inviterId": null, "avatar": null, "name": "wxid_carol" })
    );
    s.http.check_schema("RoomMember", &carol.json).await;

    let missing = read(&s, &bot, &format!("/v1/rooms/{ROOM}/members/wxid_nobody")).await;
    missing.expect_error(404, Code::NotFound);
    s.http.check_schema("ErrorBody", &missing.json).await;
    room(&s, &bot, "other@chatroom").await.expect_error(404, Code::NotFound);
    let held = read(&s, &bot, "/v1/bot/rooms").await;
    assert_eq!(held.json, json!([ROOM]));

    // The next snapshot changes what changed, and only that.
    let mut next = snapshot("Team 42", &[BOB, ALICE], at(&s, 1));
    next["members"][1]["name"] = json!("Alice Li");
    next["members"][1]["roomAlias"] = json!(null);
    synced(&s, &bot, ROOM, &next, true).await;
    let alice = read(&s, &bot, &format!("/v1/rooms/{ROOM}/members/{ALICE}")).await;
    assert_eq!(
        (&alice.json["name"], &alice.json["roomAlias"], &alice.json["inviterId"]),
        (&json!("Alice Li"), &json!(null), &json!(BOB))
    );
    assert_eq!(read(&s, &bot, &format!("/v1/rooms/{ROOM}/members/{BOB}")).await.json["name"], BOB);
    assert_eq!(members(&s, &bot, ROOM).await, json!([ALICE, BOB]));
    s.http.check_answers().await;
}

#[tokio::test]
async fn a_stale_snapshot_changes_nothing_and_a_leave_outlasts_it() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let t = at(&s, 0);
    synced(&s, &bot, ROOM, &snapshot("Team", &[ALICE, BOB], t), true).await;
    // Taken before the one the server holds: ignored.
    synced(&s, &bot, ROOM, &snapshot("Old", &["wxid_carol"], t - 1), false).await;
    assert_eq!(members(&s, &bot, ROOM).await, json!([ALICE, BOB]));
    // The same snapshot again changes nothing more.
    synced(&s, &bot, ROOM, &snapshot("Team", &[ALICE, BOB], t), true).await;
    assert_eq!(room(&s, &bot, ROOM).await.json["topic"], "Team");
    synced(&s, &bot, ROOM, &snapshot("Renamed", &[ALICE], t + 10), true).await;
    assert_eq!(room(&s, &bot, ROOM).await.json["topic"], "Renamed");
    assert_eq!(members(&s, &bot, ROOM).await, json!([ALICE]));

    let leave = |synced_at: i64| format!("/v1/bot/rooms/{ROOM}?syncedAt={synced_at}");
    s.http.delete_bearer(&leave(t + 20), &bot).await.expect(204);
    room(&s, &bot, ROOM).await.expect_error(404, Code::NotFound);
    assert_eq!(read(&s, &bot, "/v1/bot/rooms").await.json, json!([]));
    // A snapshot read before the bot left does not bring the room back...
    synced(&s, &bot, ROOM, &snapshot("Renamed", &[ALICE], t + 15), false).await;
    room(&s, &bot, ROOM).await.expect_error(404, Code::NotFound);
    // ...one after it (the bot joined again) does.
    synced(&s, &bot, ROOM, &snapshot("Back", &[BOB], t + 30), true).await;
    assert_eq!(members(&s, &bot, ROOM).await, json!([BOB]));
    // Leaving a room the server never held, and leaving twice, are no errors.
    // A leave without syncedAt is dated now: a second on, so that it is
    // later than the snapshot above whatever millisecond the clock began at.
    s.clock.advance(std::time::Duration::from_secs(1));
    s.http.delete_bearer("/v1/bot/rooms/never@chatroom", &bot).await.expect(204);
    s.http.delete_bearer(&format!("/v1/bot/rooms/{ROOM}"), &bot).await.expect(204);
    s.http.delete_bearer(&format!("/v1/bot/rooms/{ROOM}"), &bot).await.expect(204);
    room(&s, &bot, ROOM).await.expect_error(404, Code::NotFound);

    // A clock far ahead would make every later snapshot stale: refused.
    let ahead = sync(&s, &bot, ROOM, &snapshot("Future", &[ALICE], at(&s, 5 * 60_000 + 2_000))).await;
    ahead.expect_error(400, Code::InvalidRequest);
    s.http.delete_bearer(&leave(at(&s, 10 * 60_000)), &bot).await.expect_error(400, Code::InvalidRequest);
    synced(&s, &bot, ROOM, &snapshot("Slightly ahead", &[ALICE], at(&s, 60_000)), true).await;
    s.http.check_answers().await;
}

#[tokio::test]
async fn snapshots_are_checked_field_by_field_and_a_full_room_fits() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let t = at(&s, 0);
    let refused = |mut change: Box<dyn FnMut(&mut Value)>| {
        let mut body = snapshot("Team", &[ALICE, BOB], t);
        change(&mut body);
        body
    };
    let cases: Vec<(&str, Value)> = vec![
        ("a member twice", refused(Box::new(|b| b["members"][1]["id"] = json!(ALICE)))),
        ("a control character in an id", refused(Box::new(|b| b["members"][0]["id"] = json!("wxid_\u{0}x")))),
        ("a space in an admin id", refused(Box::new(|b| b["adminIds"] = json!(["wx bob"])))),
        ("an owner id too long", refused(Box::new(|b| b["ownerId"] = json!("x".repeat(129))))),
        ("a topic past what is read", refused(Box::new(|b| b["topic"] = json!("t".repeat(1025))))),
        ("a name past what is read", refused(Box::new(|b| b["members"][1]["name"] = json!("名".repeat(257))))),
        ("501 admins", refused(Box::new(|b| b["adminIds"] = json!(vec![ALICE; 501])))),
        ("an unknown field", refused(Box::new(|b| b["members"][0]["phone"] = json!("+8613800000000")))),
        ("no members field", refused(Box::new(|b| _ = b.as_object_mut().unwrap().remove("members")))),
        ("a negative syncedAt", refused(Box::new(|b| b["syncedAt"] = json!(-1)))),
    ];
    for (what, body) in cases {
        let answer = sync(&s, &bot, ROOM, &body).await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert_eq!(answer.error(), "invalid_request", "{what}");
    }
    // What WeChat gives that cannot be shown is dropped, not the room.
    let mut unfit = snapshot("Te\u{202E}am\u{0}", &[ALICE, BOB], t);
    unfit["avatar"] = json!("javascript:alert(1)");
    unfit["members"][0]["avatar"] = json!("http://wx.qlogo.cn/a.png");
    unfit["members"][0]["name"] = json!("Al\u{202E}ice\u{200B}");
    unfit["members"][1]["name"] = json!("\u{202E}\u{2066}");
    synced(&s, &bot, "unfit@chatroom", &unfit, true).await;
    let room_read = room(&s, &bot, "unfit@chatroom").await;
    assert_eq!((&room_read.json["topic"], &room_read.json["avatar"]), (&json!("Team"), &json!(null)));
    let alice = read(&s, &bot, &format!("/v1/rooms/unfit@chatroom/members/{ALICE}")).await;
    assert_eq!((&alice.json["name"], &alice.json["avatar"]), (&json!("Alice"), &json!(null)));
    let bob = read(&s, &bot, &format!("/v1/rooms/unfit@chatroom/members/{BOB}")).await;
    assert_eq!(bob.json["name"], json!(null), "nothing left to show is none");
    // Over-long names are clipped, and empty admin ids dropped, not the room.
    let mut long = snapshot(&"群".repeat(300), &[ALICE, BOB], t);
    long["adminIds"] = json!(["", BOB]);
    long["members"][0]["name"] = json!(format!("{}{}", "名".repeat(63), " 长长"));
    long["members"][0]["roomAlias"] = json!("好".repeat(256));
    synced(&s, &bot, "long@chatroom", &long, true).await;
    let room_read = room(&s, &bot, "long@chatroom").await;
    assert_eq!(room_read.json["topic"], json!("群".repeat(256)));
    assert_eq!(room_read.json["adminIds"], json!([BOB]));
    let alice = read(&s, &bot, &format!("/v1/rooms/long@chatroom/members/{ALICE}")).await;
    assert_eq!(alice.json["name"], json!("名".repeat(63)), "clipped, then trimmed");
    assert_eq!(alice.json["roomAlias"], json!("好".repeat(64)));

    let path_with_nul = s.http.put_bearer("/v1/bot/rooms/a%00b@chatroom", &bot, snapshot("T", &[ALICE], t)).await;
    path_with_nul.expect_error(400, Code::InvalidRequest);
    room(&s, &bot, ROOM).await.expect_error(404, Code::NotFound);

    // WeChat's cap, every field at its longest (in four-byte characters),
    // goes in one request.
    let member = |i: usize| {
        let id = format!("{i:0>128}");
        json!({ "id": id, "roomAlias": "😀".repeat(256), "inviterId": "i".repeat(128),
                "avatar": format!("https://wx.qlogo.cn/{}", "a".repeat(2048 - 20)), "name": "😀".repeat(256) })
    };
    let full: Vec<Value> = (0..500).map(member).collect();
    let body = json!({ "topic": "😀".repeat(1024), "avatar": null, "ownerId": null, "adminIds": [],
                       "members": full, "syncedAt": t });
    assert!(body.to_string().len() > 2_200_000, "the body is as large as a room can be");
    synced(&s, &bot, ROOM, &body, true).await;
    assert_eq!(members(&s, &bot, ROOM).await.as_array().unwrap().len(), 500);
    let mut over = body.clone();
    over["members"].as_array_mut().unwrap().push(member(500));
    over["syncedAt"] = json!(t + 1);
    sync(&s, &bot, ROOM, &over).await.expect_error(400, Code::InvalidRequest);
    assert_eq!(members(&s, &bot, ROOM).await.as_array().unwrap().len(), 500, "a refused snapshot changes nothing");
    // The limit is this route's: others keep theirs.
    let huge = json!({ "contact": { "id": ALICE, "name": "x".repeat(20_000) } });
    s.http.post_bearer("/v1/bot/link-tickets", &bot, huge).await.expect_error(413, Code::PayloadTooLarge);
    s.http.check_answers().await;
}

/// Every kind of caller against a room synced by `helper`, in which Alice
/// (linked at `helper`) is a member, Carol's contact id is a member but
/// Carol is linked at another bot, and Dave is linked to nothing.
#[tokio::test]
async fn who_may_read_a_room() {
    let logs = server::capture_logs();
    let s = TestServer::start().await;
    let helper = s.add_bot("helper").await;
    let other = s.add_bot("other").await;
    let alice = s.register("o_alice").await;
    link(&s, &helper, ALICE, &alice.id_token).await;
    let carol = s.register("o_carol").await;
    link(&s, &other, "wxid_carol", &carol.id_token).await;
    let dave = s.register("o_dave").await;
    synced(&s, &helper, ROOM, &snapshot("Team", &[ALICE, BOB, "wxid_carol"], at(&s, 0)), true).await;
    synced(&s, &other, "elsewhere@chatroom", &snapshot("Elsewhere", &["wxid_carol"], at(&s, 0)), true).await;
    let reader = s.add_client("dashboard", &[Scope::RoomsRead]).await;
    let scopeless = s.add_client("scopeless", &[]).await;
    let revoked = s.add_client("revoked", &[Scope::RoomsRead]).await;
    s.revoke_client("revoked").await;

    let room_path = format!("/v1/rooms/{ROOM}");
    let member_path = format!("/v1/rooms/{ROOM}/members/{BOB}");
    let cases: [(&str, &str, u16, &str); 9] = [
        ("the bot that synced it", &helper, 200, ""),
        ("a client with rooms:read", &reader, 200, ""),
        ("a linked member", &alice.id_token, 200, ""),
        ("another bot", &other, 404, "not_found"),
        ("a member id linked at another bot", &carol.id_token, 404, "not_found"),
        ("a user linked to nothing", &dave.id_token, 404, "not_found"),
        ("a client without rooms:read", &scopeless, 403, "insufficient_scope"),
        ("a revoked client", &revoked, 401, "unauthorized"),
        ("a made-up bot key", "mab_not-a-key", 401, "unauthorized"),
    ];
    for (who, credential, status, error) in cases {
        for path in [&room_path, &member_path] {
            let answer = read(&s, credential, path).await;
            assert_eq!(answer.status, status, "{who} reading {path}: {}", answer.body);
            if status == 200 {
                assert_eq!(answer.json["id"], if path == &room_path { ROOM } else { BOB }, "{who}");
            } else {
                assert_eq!(answer.error(), error, "{who}");
            }
        }
    }
    s.http.get(&room_path).await.expect_error(401, Code::Unauthorized);
    read(&s, "not-a-jwt", &room_path).await.expect_error(401, Code::Unauthorized);
    // Carol reads the room her linked contact is in; the client reads both.
    assert_eq!(room(&s, &carol.id_token, "elsewhere@chatroom").await.json["memberIds"], json!(["wxid_carol"]));
    assert_eq!(room(&s, &reader, "elsewhere@chatroom").await.json["topic"], "Elsewhere");
    // Only a bot syncs, and only its own rooms are listed to it.
    sync(&s, &reader, ROOM, &snapshot("Taken", &[], at(&s, 1))).await.expect_error(401, Code::Unauthorized);
    sync(&s, &alice.id_token, ROOM, &snapshot("Taken", &[], at(&s, 1))).await.expect_error(401, Code::Unauthorized);
    assert_eq!(read(&s, &other, "/v1/bot/rooms").await.json, json!(["elsewhere@chatroom"]));

    // A member removed loses the room at once, with the id_token they hold.
    synced(&s, &helper, ROOM, &snapshot("Team", &[BOB, "wxid_carol"], at(&s, 2)), true).await;
    room(&s, &alice.id_token, ROOM).await.expect_error(404, Code::NotFound);
    // A revoked bot's rooms go with it, also a snapshot whose key was
    // checked before the revoke and that commits after it.
    let helper_bot = miniauth::server::chat::bots::authenticate(&s.app.db.read, &helper).await.unwrap();
    s.revoke_bot("helper").await;
    room(&s, &reader, ROOM).await.expect_error(404, Code::NotFound);
    let late: miniauth::protocol::RoomSnapshot = serde_json::from_value(snapshot("Late", &[ALICE], at(&s, 3))).unwrap();
    let applied = miniauth::server::chat::rooms::sync(&s.app.db.write, &helper_bot, ROOM, late, s.clock.now()).await;
    assert!(applied.unwrap(), "the late snapshot is stored");
    room(&s, &reader, ROOM).await.expect_error(404, Code::NotFound);
    room(&s, &alice.id_token, ROOM).await.expect_error(404, Code::NotFound);
    let refreshed = s.refresh(&alice.session_token).await.refreshed();
    assert!(!s.verify(&refreshed.id_token).await.1.contains_key("rooms"), "nor is it claimed");
    s.http.check_answers().await;
    let logged = logs.text();
    for (what, secret) in [("client secret", &reader), ("bot key", &helper), ("id_token", &alice.id_token)] {
        assert!(!logged.contains(secret.as_str()), "the {what} was logged");
    }
}

/// The claims of a verified id_token.
async fn claims(s: &TestServer, id_token: &str) -> serde_json::Map<String, Value> {
    s.verify(id_token).await.1
}

#[tokio::test]
async fn a_members_tokens_carry_its_rooms_from_the_next_refresh() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    let alice = s.register("o_alice").await;
    link(&s, &bot, ALICE, &alice.id_token).await;
    assert!(!claims(&s, &alice.id_token).await.contains_key("rooms"), "no rooms, no claim");

    synced(&s, &bot, ROOM, &snapshot("Team", &[ALICE, BOB], at(&s, 0)), true).await;
    synced(&s, &bot, "book-club@chatroom", &snapshot("Books", &[ALICE], at(&s, 0)), true).await;
    synced(&s, &bot, "not-hers@chatroom", &snapshot("Other", &[BOB], at(&s, 0)), true).await;
    let refreshed = s.refresh(&alice.session_token).await.refreshed();
    let claimed = claims(&s, &refreshed.id_token).await;
    assert_eq!(claimed["rooms"], json!(["book-club@chatroom", ROOM]));
    assert!(!claimed.contains_key("rooms_truncated"));
    let info = s.userinfo(&refreshed.id_token).await;
    assert_eq!(info.json["rooms"], claimed["rooms"]);

    // She leaves one: gone from the next refresh.
    synced(&s, &bot, ROOM, &snapshot("Team", &[BOB], at(&s, 1)), true).await;
    let refreshed = s.refresh(&refreshed.session_token).await.refreshed();
    assert_eq!(claims(&s, &refreshed.id_token).await["rooms"], json!(["book-club@chatroom"]));
    // The bot leaves the other: no rooms, no claim.
    s.http.delete_bearer("/v1/bot/rooms/book-club@chatroom", &bot).await.expect(204);
    let refreshed = s.refresh(&refreshed.session_token).await.refreshed();
    assert!(!claims(&s, &refreshed.id_token).await.contains_key("rooms"));

    // At most 100 listed, in order, and the rest said to exist.
    for i in 0..101 {
        synced(&s, &bot, &format!("room-{i:03}@chatroom"), &snapshot("Many", &[ALICE], at(&s, 2)), true).await;
    }
    let refreshed = s.refresh(&refreshed.session_token).await.refreshed();
    let claimed = claims(&s, &refreshed.id_token).await;
    let listed: Vec<String> = (0..100).map(|i| format!("room-{i:03}@chatroom")).collect();
    assert_eq!(claimed["rooms"], json!(listed));
    assert_eq!(claimed["rooms_truncated"], true);
    s.http.check_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_snapshots_on_two_instances_leave_the_newest() {
    let first = TestServer::start().await;
    let second = first.second_instance().await;
    let bot = first.add_bot("helper").await;
    let t = at(&first, 0);
    let instances = [first.http.clone(), second.http.clone()];
    let next = std::sync::atomic::AtomicUsize::new(0);
    let answers = concurrently(20, || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let http = instances[i % 2].clone();
        let (bot, offset) = (bot.clone(), i as i64);
        let member = format!("wxid_{i:02}");
        async move {
            let body = snapshot(&format!("v{offset:02}"), &[&member], t + offset);
            http.put_bearer(&format!("/v1/bot/rooms/{ROOM}"), &bot, body).await
        }
    })
    .await;
    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
    let read = room(&first, &bot, ROOM).await;
    assert_eq!((&read.json["topic"], &read.json["memberIds"]), (&json!("v19"), &json!(["wxid_19"])));
    second.stop().await;
}

#[tokio::test]
async fn the_clients_command_adds_lists_and_revokes() {
    let dir = server::TempDir::new("clients");
    let miniauth = |args: &[&str]| server::miniauth_command(&dir.database(), args);
    let (ok, out, _) = miniauth(&["clients", "add", "--name", "dashboard", "--scope", "rooms:read"]);
    assert!(ok, "{out}");
    let secret = out.lines().last().unwrap().to_string();
    assert!(secret.starts_with("mac_") && secret.len() == 47 && !secret.contains(' '), "the last line: {out}");
    assert!(!out.lines().take(out.lines().count() - 1).any(|line| line.contains(&secret)));
    let db = miniauth::server::db::open(&miniauth::server::db::Location::Sqlite(dir.database())).await.unwrap();
    let client = miniauth::server::clients::authenticate(&db.read, &secret).await.unwrap().expect("current");
    assert!(client.may(Scope::RoomsRead));
    db.close().await;

    assert!(!miniauth(&["clients", "add", "--name", "dashboard"]).0, "names are unique");
    assert!(!miniauth(&["clients", "add", "--name", "x", "--scope", "rooms:write"]).0, "unknown scope");
    assert!(miniauth(&["clients", "add", "--name", "plain"]).0, "no scope at all");
    assert!(miniauth(&["clients", "revoke", "dashboard"]).0);
    assert!(!miniauth(&["clients", "revoke", "dashboard"]).0, "revoked already");
    assert_eq!(miniauth(&["clients", "list"]).1, "dashboard\trevoked\trooms:read\nplain\tcurrent\n", "with scopes");
    let db = miniauth::server::db::open(&miniauth::server::db::Location::Sqlite(dir.database())).await.unwrap();
    assert!(miniauth::server::clients::authenticate(&db.read, &secret).await.unwrap().is_none());
}

#[tokio::test]
async fn the_purge_removes_the_tombstones_of_rooms_left_a_day_ago() {
    let s = TestServer::start().await;
    let bot = s.add_bot("helper").await;
    synced(&s, &bot, ROOM, &snapshot("Live", &[ALICE], at(&s, 0)), true).await;
    synced(&s, &bot, "left@chatroom", &snapshot("Left", &[ALICE, BOB], at(&s, 0)), true).await;
    s.http.delete_bearer("/v1/bot/rooms/left@chatroom", &bot).await.expect(204);
    let rooms = || async {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rooms").fetch_one(&s.app.db.write).await.unwrap();
        count
    };
    assert_eq!(rooms().await, 2, "the tombstone is kept");

    s.advance(2 * 24 * 60 * 60);
    miniauth::server::purge::run(&s.app.db.write, s.clock.now()).await.unwrap();
    assert_eq!(rooms().await, 1, "the tombstone went, the live room stayed");
    assert_eq!(members(&s, &bot, ROOM).await, json!([ALICE]));
}
