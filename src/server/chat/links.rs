//! Linking chat contacts to users. A bot asks for a ticket for a contact
//! and sends it in a login card; the user who opens the card in the Mini
//! Program, signed in, holds the ticket. A card can be forwarded, so
//! opening it proves nothing: the contact is sent a one-time code in chat,
//! and the link is made only when the holder enters it. A contact is one
//! user's; linking it again moves it.

use super::super::app::App;
use super::super::clock::{secs, Millis};
use super::super::codes::{self, Destination, Owner, Purpose};
use super::super::error::{AppError, AppResult};
use super::super::guesses::Guess;
use super::super::profile;
use super::super::secrets::{new_token, token_hash};
use super::super::users::{self, User};
use super::bots::Bot;
use super::deliveries::{self, LinkNews};
use crate::protocol::{ApiErrorCode, ChatContact, ChatLink, LinkTicket, UserInfo};
use sqlx::{AnyConnection, AnyPool};
use std::net::IpAddr;

/// How long a login card's ticket lives.
pub const TICKET_TTL_MS: Millis = 10 * 60_000;

/// A ticket for a login card to `contact` of `bot`.
pub async fn issue_ticket(pool: &AnyPool, bot: &Bot, contact: &ChatContact, now: Millis) -> AppResult<LinkTicket> {
    let contact_id = &*contact.id;
    check_stable(contact_id, "contact.id")?;
    let name = contact.name.as_ref().map(|name| profile::display_text(name, "contact.name")).transpose()?;
    if contact.avatar.as_deref().is_some_and(|avatar| !profile::picture(avatar)) {
        return Err(AppError::invalid_request("\"contact.avatar\" must be an https URL"));
    }
    let ticket = new_token();
    sqlx::query(
        "INSERT INTO link_tickets (ticket_hash, bot_id, contact_id, contact_name, contact_avatar, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash(&ticket))
    .bind(&bot.id)
    .bind(contact_id)
    .bind(name.as_deref())
    .bind(contact.avatar.as_deref())
    .bind(now)
    .bind(now + TICKET_TTL_MS)
    .execute(pool)
    .await?;
    Ok(LinkTicket { ticket, expires_in: secs(TICKET_TTL_MS) })
}

/// Refuses a contact id that does not last: search results (`$search$…`)
/// and strangers (`…@stranger`) have such ids, and a link to one would
/// point at nobody, or at someone else, later. `field` names it in the
/// error.
pub fn check_stable(contact_id: &str, field: &str) -> AppResult<()> {
    if stable(contact_id) {
        Ok(())
    } else {
        Err(AppError::invalid_request(format!("\"{field}\" must be a contact's stable id")))
    }
}

/// Whether `contact_id` is one a link can have (see [`check_stable`]): a
/// bot's id ([`super::wire_id`]), neither a search result's nor a
/// stranger's.
fn stable(contact_id: &str) -> bool {
    let lower = contact_id.to_ascii_lowercase();
    super::wire_id(contact_id) && !lower.starts_with("$search$") && !lower.ends_with("@stranger")
}

#[derive(sqlx::FromRow)]
struct TicketRow {
    bot_id: String,
    bot_name: String,
    contact_id: String,
    contact_name: Option<String>,
    contact_avatar: Option<String>,
    expires_at: i64,
    opened_by: Option<String>,
    used_at: Option<i64>,
}

fn invalid_ticket() -> AppError {
    AppError::new(
        ApiErrorCode::InvalidTicket,
        "the link ticket is unknown, expired, used or opened by someone else; ask the bot for a new card",
    )
}

/// The ticket with `ticket_hash`, live, of a current bot, and held by
/// `user` (or by nobody yet).
async fn live_ticket(pool: &AnyPool, ticket_hash: &[u8], user: &User, now: Millis) -> AppResult<TicketRow> {
    let row: Option<TicketRow> = sqlx::query_as(
        "SELECT t.bot_id, b.name AS bot_name, t.contact_id, t.contact_name, t.contact_avatar, t.expires_at,
                t.opened_by, t.used_at
         FROM link_tickets t JOIN bots b ON b.id = t.bot_id WHERE t.ticket_hash = $1 AND b.revoked_at IS NULL",
    )
    .bind(ticket_hash)
    .fetch_optional(pool)
    .await?;
    row.filter(|row| {
        row.used_at.is_none() && now < row.expires_at && row.opened_by.as_ref().is_none_or(|holder| *holder == user.id)
    })
    .ok_or_else(invalid_ticket)
}

/// A signed-in user as the budgets and guess ceilings count them.
fn identity_of(user: &User) -> String {
    format!("user:{}", user.id)
}

fn owner<'a>(ticket_hash: &'a [u8], user: &User) -> Owner<'a> {
    Owner { token_hash: ticket_hash, identity: identity_of(user), purpose: Purpose::ChatLink }
}

/// `user` opened the card with `ticket`: the first to do so holds it, and
/// the contact is sent a code (again, a minute after the last one).
pub async fn open(app: &App, user: &User, ticket: &str, now: Millis) -> AppResult<()> {
    let ticket_hash = token_hash(ticket);
    let row = live_ticket(&app.db.write, &ticket_hash, user, now).await?;
    if row.opened_by.is_none() {
        let held = sqlx::query("UPDATE link_tickets SET opened_by = $1 WHERE ticket_hash = $2 AND opened_by IS NULL")
            .bind(&user.id)
            .bind(&ticket_hash)
            .execute(&app.db.write)
            .await?;
        if held.rows_affected() == 0 {
            // Someone opened it in the meantime; it is theirs unless that
            // was this user on another request.
            live_ticket(&app.db.write, &ticket_hash, user, now).await?;
        }
    }
    let to = Destination::Chat { bot_id: &row.bot_id, contact_id: &row.contact_id };
    codes::issue(app, &owner(&ticket_hash, user), to, now).await
}

/// Links the ticket's contact to `user`, who holds the ticket, if `code`
/// is the one the contact was sent. The bot hears of it.
pub async fn confirm(app: &App, user: &User, ticket: &str, code: &str, ip: IpAddr, now: Millis) -> AppResult<ChatLink> {
    let ticket_hash = token_hash(ticket);
    let row = live_ticket(&app.db.write, &ticket_hash, user, now).await?;
    if row.opened_by.is_none() {
        return Err(invalid_ticket());
    }
    let to = Destination::Chat { bot_id: &row.bot_id, contact_id: &row.contact_id };
    let guess = Guess { target: Some(to.key()), guesser: identity_of(user), source: Some(ip) };
    codes::redeem(&app.db.write, &ticket_hash, to, code, &guess, now).await?;
    let mut tx = app.db.write.begin().await?;
    let spent = sqlx::query("UPDATE link_tickets SET used_at = $1 WHERE ticket_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&ticket_hash)
        .execute(&mut *tx)
        .await?;
    if spent.rows_affected() == 0 {
        return Err(invalid_ticket());
    }
    let contact = Contact {
        bot_id: &row.bot_id,
        contact_id: &row.contact_id,
        name: row.contact_name.as_deref(),
        avatar: row.contact_avatar.as_deref(),
    };
    // The code proved the holder is the contact: a link to another user moves.
    link(&mut tx, &contact, &user.id, Relink::Move, now).await?;
    tx.commit().await?;
    app.deliveries.wake();
    Ok(ChatLink { bot: row.bot_name, contact_id: row.contact_id, contact_name: row.contact_name })
}

/// A bot's contact, as a link keeps it.
pub struct Contact<'a> {
    /// The bot's id.
    pub bot_id: &'a str,
    /// The contact's id at that bot.
    pub contact_id: &'a str,
    /// The name the bot gave, if any.
    pub name: Option<&'a str>,
    /// The avatar URL the bot gave, if any.
    pub avatar: Option<&'a str>,
}

/// What linking a contact that is linked already does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relink {
    /// Moves it: the contact proved itself just now (a code sent in chat).
    Move,
    /// Refuses (`already_bound`): nothing proved it since it was linked (a
    /// bind of a chat sign-in that started before the link).
    Refuse,
}

/// Links `contact` to the user `user_id`, and queues the news for its bot:
/// in the transaction `conn` is in, to be followed by a
/// [`super::deliveries::Deliveries::wake`] after the commit.
pub async fn link(
    conn: &mut AnyConnection,
    contact: &Contact<'_>,
    user_id: &str,
    relink: Relink,
    now: Millis,
) -> AppResult<()> {
    let on_conflict = match relink {
        Relink::Move => {
            "DO UPDATE SET user_id = excluded.user_id, contact_name = excluded.contact_name,
               contact_avatar = excluded.contact_avatar, linked_at = excluded.linked_at"
        }
        Relink::Refuse => "DO NOTHING",
    };
    let linked = sqlx::query(&format!(
        "INSERT INTO chat_links (bot_id, contact_id, user_id, contact_name, contact_avatar, linked_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (bot_id, contact_id) {on_conflict}"
    ))
    .bind(contact.bot_id)
    .bind(contact.contact_id)
    .bind(user_id)
    .bind(contact.name)
    .bind(contact.avatar)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if linked.rows_affected() == 0 {
        return Err(AppError::new(ApiErrorCode::AlreadyBound, "this chat contact is linked to a user already"));
    }
    deliveries::enqueue_news(conn, contact.bot_id, contact.contact_id, LinkNews::Linked, now).await
}

/// The contact a code for `user` goes to in chat: the one linked last at
/// a bot that is not revoked. Answers the bot's id and the contact's id.
pub async fn reachable_contact(pool: &AnyPool, user_id: &str) -> AppResult<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT l.bot_id, l.contact_id FROM chat_links l JOIN bots b ON b.id = l.bot_id
         WHERE l.user_id = $1 AND b.revoked_at IS NULL ORDER BY l.linked_at DESC, l.bot_id LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// The contacts linked to `user`, at every bot.
pub async fn of_user(pool: &AnyPool, user: &User) -> AppResult<Vec<ChatLink>> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT b.name, l.contact_id, l.contact_name FROM chat_links l JOIN bots b ON b.id = l.bot_id
         WHERE l.user_id = $1 ORDER BY l.linked_at",
    )
    .bind(&user.id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(bot, contact_id, contact_name)| ChatLink { bot, contact_id, contact_name }).collect())
}

/// Unlinks `user`'s contact `contact_id` at every bot it is linked at; each
/// of those bots hears of it. Answers whether there was such a link.
pub async fn unlink(app: &App, user: &User, contact_id: &str, now: Millis) -> AppResult<bool> {
    if !stable(contact_id) {
        return Ok(false);
    }
    let mut tx = app.db.write.begin().await?;
    let bots: Vec<(String,)> =
        sqlx::query_as("DELETE FROM chat_links WHERE user_id = $1 AND contact_id = $2 RETURNING bot_id")
            .bind(&user.id)
            .bind(contact_id)
            .fetch_all(&mut *tx)
            .await?;
    for (bot_id,) in &bots {
        deliveries::enqueue_news(&mut tx, bot_id, contact_id, LinkNews::Unlinked, now).await?;
    }
    tx.commit().await?;
    app.deliveries.wake();
    Ok(!bots.is_empty())
}

/// The profile of the user `bot`'s contact `contact_id` is linked to.
pub async fn profile_of(pool: &AnyPool, bot: &Bot, contact_id: &str) -> AppResult<Option<UserInfo>> {
    Ok(linked_user(pool, &bot.id, contact_id).await?.map(|user| user.info()))
}

/// The user the contact `contact_id` of the bot `bot_id` is linked to.
pub async fn linked_user(pool: &AnyPool, bot_id: &str, contact_id: &str) -> AppResult<Option<User>> {
    if !stable(contact_id) {
        return Ok(None);
    }
    let user: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM chat_links WHERE bot_id = $1 AND contact_id = $2")
            .bind(bot_id)
            .bind(contact_id)
            .fetch_optional(pool)
            .await?;
    let Some((user_id,)) = user else { return Ok(None) };
    Ok(users::by_id(pool, &user_id).await?)
}
