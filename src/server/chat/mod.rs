//! Chat identity: bots (the Wechaty plugin) that meet people in WeChat
//! chats, send them the login Mini Program as a card, and from then on know
//! which user a contact is.
//!
//! - [`bots`]: the bots and their keys;
//! - [`links`]: login-card tickets, linking a contact to the user who
//!   proves, by a code sent in chat, to be that contact;
//! - [`deliveries`]: what the bots are to say in chat, kept until they
//!   acknowledge it;
//! - [`logins`]: chat sign-in for the web, by a challenge sent to a bot;
//! - [`rooms`]: the rooms the bots are in, as groups.

pub mod bots;
pub mod deliveries;
pub mod links;
pub mod logins;
pub mod rooms;

/// Whether `id` can be a bot's id of a contact or a room: 1 to 128
/// printable ASCII characters. What fails it was never stored, and does
/// not reach the database (PostgreSQL refuses a NUL in text).
fn wire_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}
