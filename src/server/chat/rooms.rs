//! Rooms as groups: each bot's copy of the WeChat rooms it is in, replaced
//! whole by the snapshots its plugin sends, read by the bot itself, by the
//! users whose linked contacts are members, and by API clients with
//! `rooms:read`; and the `rooms` claim of those users' tokens.
//!
//! Two bots in one room keep a copy each; a reader who may see both gets
//! the one synced last. A bot that leaves a room leaves a tombstone (the
//! row, emptied) for a day, so that a snapshot taken before it left cannot
//! bring the room back.

use super::super::clock::Millis;
use super::super::db::value_rows;
use super::super::error::{AppError, AppResult};
use super::super::profile;
use super::super::secrets::new_id;
use super::super::users::User;
use super::bots::Bot;
use super::wire_id;
use crate::protocol::{Room, RoomMember, RoomSnapshot, Text, UserInfo, MEMBER_NAME_CHARS, ROOM_TOPIC_CHARS};
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashSet;

/// How far ahead of the server's clock a snapshot's `syncedAt` may be: a
/// bot's clock runs a little off, but a snapshot dated far ahead would
/// make every later one stale.
pub const MAX_CLOCK_AHEAD_MS: Millis = 5 * 60_000;
/// The most room ids a token's `rooms` claim lists.
pub const MAX_CLAIMED: usize = 100;
/// Members written per statement (six values each, well within both
/// databases' limit on bound values).
const MEMBERS_PER_INSERT: usize = 100;

/// Only a current bot's rooms are read: revoking a bot deletes its rooms, but
/// a snapshot whose key was checked before the revoke may commit after it.
const CURRENT_BOT: &str = " JOIN bots b ON b.id = r.bot_id AND b.revoked_at IS NULL";

/// Who reads a room, and so which copy they may see.
pub enum Reader {
    /// A bot: its own copy.
    Bot(Bot),
    /// An API client with `rooms:read`: any copy.
    Client,
    /// A signed-in user: a copy in which one of their linked contacts (at
    /// that copy's bot) is a member.
    User(User),
}

/// Stores `bot`'s snapshot of the room `room_id`, unless it holds a newer
/// one. Answers whether it did.
pub async fn sync(pool: &AnyPool, bot: &Bot, room_id: &str, snapshot: RoomSnapshot, now: Millis) -> AppResult<bool> {
    let room = Checked::of(room_id, snapshot, now)?;
    let mut tx = pool.begin().await?;
    // The upsert takes the row's lock: concurrent snapshots of one room, on
    // any instance, apply one after the other, the older one not at all.
    let stored: Option<(String,)> = sqlx::query_as(
        "INSERT INTO rooms (room_key, bot_id, room_id, topic, avatar, owner_id, admin_ids, synced_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (bot_id, room_id) DO UPDATE SET topic = excluded.topic, avatar = excluded.avatar,
             owner_id = excluded.owner_id, admin_ids = excluded.admin_ids, synced_at = excluded.synced_at,
             left_at = NULL
         WHERE rooms.synced_at <= excluded.synced_at
         RETURNING room_key",
    )
    .bind(new_id("room"))
    .bind(&bot.id)
    .bind(room_id)
    .bind(&room.topic)
    .bind(room.avatar.as_deref())
    .bind(room.owner_id.as_deref())
    .bind(serde_json::to_string(&room.admin_ids).map_err(AppError::internal)?)
    .bind(room.synced_at)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((room_key,)) = stored else { return Ok(false) };
    replace_members(&mut tx, &room_key, &room.members).await?;
    tx.commit().await?;
    Ok(true)
}

/// Makes the members of the room `room_key` be `members`, writing only what
/// changed: the periodic snapshot of an unchanged room writes no member row
/// (and leaves PostgreSQL no dead rows to vacuum).
async fn replace_members(conn: &mut AnyConnection, room_key: &str, members: &[RoomMember]) -> AppResult<()> {
    let gone = if members.is_empty() {
        "DELETE FROM room_members WHERE room_key = $1".to_owned()
    } else {
        let places: Vec<String> = (2..members.len() + 2).map(|i| format!("${i}")).collect();
        format!("DELETE FROM room_members WHERE room_key = $1 AND member_id NOT IN ({})", places.join(", "))
    };
    let mut delete = sqlx::query(&gone).bind(room_key);
    for member in members {
        delete = delete.bind(&*member.id);
    }
    delete.execute(&mut *conn).await?;
    for chunk in members.chunks(MEMBERS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO room_members (room_key, member_id, room_alias, inviter_id, avatar, name) VALUES {}
             ON CONFLICT (room_key, member_id) DO UPDATE SET room_alias = excluded.room_alias,
                 inviter_id = excluded.inviter_id, avatar = excluded.avatar, name = excluded.name
             WHERE room_members.room_alias IS DISTINCT FROM excluded.room_alias
                OR room_members.inviter_id IS DISTINCT FROM excluded.inviter_id
                OR room_members.avatar IS DISTINCT FROM excluded.avatar
                OR room_members.name IS DISTINCT FROM excluded.name",
            value_rows(chunk.len(), 6)
        );
        let mut upsert = sqlx::query(&sql);
        for member in chunk {
            upsert = upsert
                .bind(room_key)
                .bind(&*member.id)
                .bind(member.room_alias.as_deref())
                .bind(member.inviter_id.as_deref())
                .bind(member.avatar.as_deref())
                .bind(member.name.as_deref());
        }
        upsert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `bot` left the room `room_id` as of `synced_at` (its clock; the
/// server's when not given): its copy is emptied, and snapshots taken
/// before then change nothing. Leaving a room the server never held is no
/// error.
pub async fn leave(pool: &AnyPool, bot: &Bot, room_id: &str, synced_at: Option<u64>, now: Millis) -> AppResult<()> {
    check_id(room_id, "id")?;
    let left_at = match synced_at {
        Some(at) => synced_at_within(at, now)?,
        None => now,
    };
    let mut tx = pool.begin().await?;
    let stored: Option<(String,)> = sqlx::query_as(
        "INSERT INTO rooms (room_key, bot_id, room_id, topic, admin_ids, synced_at, left_at)
         VALUES ($1, $2, $3, '', '[]', $4, $4)
         ON CONFLICT (bot_id, room_id) DO UPDATE SET topic = '', avatar = NULL, owner_id = NULL, admin_ids = '[]',
             synced_at = excluded.synced_at, left_at = excluded.left_at
         WHERE rooms.synced_at <= excluded.synced_at
         RETURNING room_key",
    )
    .bind(new_id("room"))
    .bind(&bot.id)
    .bind(room_id)
    .bind(left_at)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((room_key,)) = stored {
        replace_members(&mut tx, &room_key, &[]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The ids of the rooms `bot` is in, as the server holds them: what a full
/// snapshot compares with the rooms the bot sees, to leave the others.
pub async fn of_bot(pool: &AnyPool, bot: &Bot) -> AppResult<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT room_id FROM rooms WHERE bot_id = $1 AND left_at IS NULL ORDER BY room_id")
            .bind(&bot.id)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[derive(sqlx::FromRow)]
struct RoomRow {
    room_key: String,
    topic: String,
    avatar: Option<String>,
    owner_id: Option<String>,
    admin_ids: String,
}

/// The copy of the room `room_id` that `reader` may see.
async fn visible(pool: &AnyPool, reader: &Reader, room_id: &str) -> AppResult<Option<RoomRow>> {
    if !wire_id(room_id) {
        return Ok(None);
    }
    let (condition, party) = match reader {
        Reader::Bot(bot) => ("AND r.bot_id = $2", Some(bot.id.as_str())),
        Reader::Client => ("", None),
        Reader::User(user) => (
            "AND EXISTS (SELECT 1 FROM room_members m
                         JOIN chat_links l ON l.bot_id = r.bot_id AND l.contact_id = m.member_id
                         WHERE m.room_key = r.room_key AND l.user_id = $2)",
            Some(user.id.as_str()),
        ),
    };
    let sql = format!(
        "SELECT r.room_key, r.topic, r.avatar, r.owner_id, r.admin_ids FROM rooms r{CURRENT_BOT}
         WHERE r.room_id = $1 AND r.left_at IS NULL {condition}
         ORDER BY r.synced_at DESC, r.bot_id LIMIT 1"
    );
    let mut query = sqlx::query_as(&sql).bind(room_id);
    if let Some(party) = party {
        query = query.bind(party);
    }
    Ok(query.fetch_optional(pool).await?)
}

/// The room `room_id` as `reader` may see it.
pub async fn room(pool: &AnyPool, reader: &Reader, room_id: &str) -> AppResult<Option<Room>> {
    let Some(row) = visible(pool, reader, room_id).await? else { return Ok(None) };
    let members: Vec<(String,)> =
        sqlx::query_as("SELECT member_id FROM room_members WHERE room_key = $1 ORDER BY member_id")
            .bind(&row.room_key)
            .fetch_all(pool)
            .await?;
    Ok(Some(Room {
        id: room_id.to_owned(),
        topic: row.topic,
        avatar: row.avatar,
        owner_id: row.owner_id,
        admin_ids: serde_json::from_str(&row.admin_ids).map_err(AppError::internal)?,
        member_ids: members.into_iter().map(|(id,)| id).collect(),
    }))
}

/// The member `member_id` of the room `room_id`, as `reader` may see it.
pub async fn member(pool: &AnyPool, reader: &Reader, room_id: &str, member_id: &str) -> AppResult<Option<RoomMember>> {
    if !wire_id(member_id) {
        return Ok(None);
    }
    let Some(row) = visible(pool, reader, room_id).await? else { return Ok(None) };
    let member: Option<MemberRow> = sqlx::query_as(
        "SELECT member_id, room_alias, inviter_id, avatar, name FROM room_members WHERE room_key = $1 AND member_id = $2",
    )
    .bind(&row.room_key)
    .bind(member_id)
    .fetch_optional(pool)
    .await?;
    // Stored only after the checks of a snapshot, so each fits its type.
    fn fit<const MIN: usize, const MAX: usize>(text: Option<String>) -> Option<Text<MIN, MAX>> {
        text.and_then(Text::new)
    }
    Ok(member.and_then(|row| {
        Some(RoomMember {
            id: Text::new(row.member_id)?,
            room_alias: fit(row.room_alias),
            inviter_id: fit(row.inviter_id),
            avatar: fit(row.avatar),
            name: fit(row.name),
        })
    }))
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    member_id: String,
    room_alias: Option<String>,
    inviter_id: Option<String>,
    avatar: Option<String>,
    name: Option<String>,
}

/// A column for a query over `users`: how many contacts the user has
/// linked. With none they are in no room, and [`profile_of`] asks nothing.
pub const LINKED_CONTACTS: &str = "(SELECT COUNT(*) FROM chat_links l WHERE l.user_id = users.id) AS linked_contacts";

/// [`profile()`] of a user with `linked_contacts` (read with
/// [`LINKED_CONTACTS`] in the query that read the user): without any, the
/// user's own row is the whole profile, and the rooms are not read.
pub async fn profile_of(pool: &AnyPool, user: &User, linked_contacts: i64) -> AppResult<UserInfo> {
    if linked_contacts == 0 {
        return Ok(user.info());
    }
    profile(pool, user).await
}

/// `user`'s profile with the rooms their linked contacts are in: as
/// `/v1/userinfo` answers it and the id_token carries it.
pub async fn profile(pool: &AnyPool, user: &User) -> AppResult<UserInfo> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT DISTINCT r.room_id FROM chat_links l
         JOIN room_members m ON m.member_id = l.contact_id
         JOIN rooms r ON r.room_key = m.room_key AND r.bot_id = l.bot_id{CURRENT_BOT}
         WHERE l.user_id = $1 ORDER BY r.room_id LIMIT {}",
        MAX_CLAIMED + 1
    ))
    .bind(&user.id)
    .fetch_all(pool)
    .await?;
    let mut info = user.info();
    info.rooms = rows.into_iter().map(|(id,)| id).collect();
    if info.rooms.len() > MAX_CLAIMED {
        info.rooms.truncate(MAX_CLAIMED);
        info.rooms_truncated = Some(true);
    }
    Ok(info)
}

/// A snapshot that passed every check, its texts fit to show and its
/// optional ones empty-free.
struct Checked {
    topic: String,
    avatar: Option<String>,
    owner_id: Option<String>,
    admin_ids: Vec<String>,
    members: Vec<RoomMember>,
    synced_at: Millis,
}

impl Checked {
    fn of(room_id: &str, snapshot: RoomSnapshot, now: Millis) -> AppResult<Self> {
        check_id(room_id, "id")?;
        let synced_at = synced_at_within(snapshot.synced_at, now)?;
        let owner_id = given(snapshot.owner_id);
        if let Some(owner) = &owner_id {
            check_id(owner, "ownerId")?;
        }
        let mut admin_ids = Vec::with_capacity(snapshot.admin_ids.len());
        for (i, admin) in snapshot.admin_ids.into_iter().enumerate() {
            if let Some(admin) = given(Some(admin)) {
                check_id(&admin, &format!("adminIds[{i}]"))?;
                admin_ids.push(admin.into_string());
            }
        }
        let mut seen = HashSet::with_capacity(snapshot.members.len());
        let mut members = Vec::with_capacity(snapshot.members.len());
        for (i, member) in snapshot.members.into_iter().enumerate() {
            let at = |field: &str| format!("members[{i}].{field}");
            check_id(&member.id, &at("id"))?;
            if !seen.insert(member.id.to_string()) {
                return Err(AppError::invalid_request(format!("\"{}\" is in the room twice", at("id"))));
            }
            let inviter_id = given(member.inviter_id);
            if let Some(inviter) = &inviter_id {
                check_id(inviter, &at("inviterId"))?;
            }
            members.push(RoomMember {
                room_alias: shown(member.room_alias, MEMBER_NAME_CHARS),
                name: shown(member.name, MEMBER_NAME_CHARS),
                avatar: picture(member.avatar),
                inviter_id,
                id: member.id,
            });
        }
        Ok(Self {
            topic: shown(Some(snapshot.topic), ROOM_TOPIC_CHARS).map_or_else(String::new, Text::into_string),
            avatar: picture(snapshot.avatar).map(Text::into_string),
            owner_id: owner_id.map(Text::into_string),
            admin_ids,
            members,
            synced_at,
        })
    }
}

/// `value`, with an empty string as none.
fn given<const MIN: usize, const MAX: usize>(value: Option<Text<MIN, MAX>>) -> Option<Text<MIN, MAX>> {
    value.filter(|text| !text.is_empty())
}

/// A name from WeChat, as people may be shown it: the characters a profile
/// refuses ([`profile::fit_to_show`]) are dropped and the first `chars` of
/// the rest kept, rather than the room refused (nobody here can change
/// them); nothing left is none.
fn shown<const MIN: usize, const MAX: usize>(text: Option<Text<MIN, MAX>>, chars: usize) -> Option<Text<MIN, MAX>> {
    let kept = |text: &str| profile::fit_to_show(text).chars().take(chars).collect::<String>().trim_end().to_owned();
    given(text.and_then(|text| Text::new(kept(&text))))
}

/// An avatar, if it is an `https:` URL as a profile's picture must be:
/// WeChat's are often `http:`, which a page served over https cannot show.
fn picture<const MIN: usize, const MAX: usize>(url: Option<Text<MIN, MAX>>) -> Option<Text<MIN, MAX>> {
    given(url).filter(|url| profile::picture(url))
}

/// Room and member ids are what a bot's ids are ([`wire_id`]).
fn check_id(id: &str, field: &str) -> AppResult<()> {
    if wire_id(id) {
        Ok(())
    } else {
        Err(AppError::invalid_request(format!("\"{field}\" must be 1 to 128 printable ASCII characters")))
    }
}

/// `synced_at` as stored, if the bot's clock is not too far ahead.
fn synced_at_within(synced_at: u64, now: Millis) -> AppResult<Millis> {
    Millis::try_from(synced_at).ok().filter(|at| *at <= now + MAX_CLOCK_AHEAD_MS).ok_or_else(|| {
        let minutes = MAX_CLOCK_AHEAD_MS / 60_000;
        AppError::invalid_request(format!("\"syncedAt\" is more than {minutes} minutes ahead of the server's clock"))
    })
}
