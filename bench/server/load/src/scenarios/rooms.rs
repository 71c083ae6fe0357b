//! `room-sync` and `room-read`: rooms as groups at WeChat's cap of 500
//! members. `room-sync` has each virtual user PUT its own room's whole
//! snapshot again and again, each a millisecond newer and with one member
//! renamed, so every one is applied, its 500 members compared and one
//! written: the periodic sync of a room in which someone changed their name;
//! `room-read` GETs one synced room (its 500 member ids) with an API
//! client's secret.

use super::Bench;
use crate::phase::{RoomBody, Vu, Work};
use crate::{log, AnyError};
use hyper::Method;
use miniauth::protocol::MAX_ROOM_MEMBERS;
use serde_json::json;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A snapshot of a room of [`MAX_ROOM_MEMBERS`] members with the fields a
/// WeChat payload has, up to its last member's name ([`RoomBody`]).
fn room_body() -> RoomBody {
    let member = |i: usize| {
        json!({ "id": format!("wxid_bench{i:04}"), "roomAlias": format!("成员{i}"), "inviterId": "wxid_bench0000",
                "avatar": format!("https://wx.qlogo.cn/mmhead/ver_1/bench{i:04}/132"), "name": format!("Member {i}") })
    };
    let fixed: Vec<String> = (0..MAX_ROOM_MEMBERS - 1).map(|i| member(i).to_string()).collect();
    let mut renamed = member(MAX_ROOM_MEMBERS - 1);
    renamed.as_object_mut().expect("an object").remove("name");
    let renamed = renamed.to_string();
    let head =
        json!({ "topic": "Bench room", "avatar": null, "ownerId": "wxid_bench0000", "adminIds": ["wxid_bench0001"] });
    // Written by hand from here so that the renamed member's name ends the JSON so far.
    let head = head.to_string();
    RoomBody(format!(
        "{},\"members\":[{},{},\"name\":\"Member ",
        head.strip_suffix('}').expect("an object"),
        fixed.join(","),
        renamed.strip_suffix('}').expect("an object")
    ))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn credential(value: &Option<String>, what: &str) -> Result<Arc<str>, AnyError> {
    value.as_deref().map(Arc::from).ok_or_else(|| format!("the room scenarios need {what}").into())
}

pub(super) async fn sync(bench: &mut Bench, c: usize) -> Result<(), AnyError> {
    let bot_key = credential(&bench.o.bot_key, "--bot-key")?;
    let body = Arc::new(room_body());
    let start = now_ms();
    let vus = bench
        .vus(c, |i| Work::RoomSync {
            path: format!("/v1/bot/rooms/bench-sync-{i}@chatroom"),
            body: body.clone(),
            bot_key: bot_key.clone(),
            synced_at: start,
        })
        .await?;
    log(format!("room-sync c={c}: warm-up {:?} ({} bytes a snapshot)", bench.o.warmup, body.at(start).len()));
    let (vus, _) = bench.phase("room-sync", vus, bench.o.warmup).await;
    log(format!("room-sync c={c}: timed {:?}", bench.o.duration));
    let (_vus, mut result) = bench.phase("room-sync", vus, bench.o.duration).await;
    result.notes.push(format!("each request re-sends a room of {MAX_ROOM_MEMBERS} members, one of them renamed"));
    bench.results.push(result);
    Ok(())
}

pub(super) async fn read(bench: &mut Bench, c: usize) -> Result<(), AnyError> {
    let bot_key = credential(&bench.o.bot_key, "--bot-key")?;
    let secret = credential(&bench.o.client_secret, "--client-secret")?;
    let path = "/v1/bot/rooms/bench-read@chatroom";
    let mut prep = bench.prep_conns().await?;
    let body = room_body().at(now_ms());
    let conn = &mut prep.servers[0];
    match conn.send(Method::PUT, path, Some(body.into()), Some(&bot_key)).await {
        Ok((200, _)) => {}
        answer => return Err(format!("syncing the room to read failed: {answer:?}").into()),
    }
    let read = |_| Work::RoomRead {
        path: "/v1/rooms/bench-read@chatroom".into(),
        members: MAX_ROOM_MEMBERS,
        secret: secret.clone(),
    };
    let vus: Vec<Vu> = bench.vus(c, read).await?;
    log(format!("room-read c={c}: warm-up {:?}", bench.o.warmup));
    let (vus, _) = bench.phase("room-read", vus, bench.o.warmup).await;
    log(format!("room-read c={c}: timed {:?}", bench.o.duration));
    let (_vus, mut result) = bench.phase("room-read", vus, bench.o.duration).await;
    result.notes.push(format!("each answer lists {MAX_ROOM_MEMBERS} member ids"));
    bench.results.push(result);
    Ok(())
}
