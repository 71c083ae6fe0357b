//! Chat identity: bots (the Wechaty plugin) that meet people in WeChat
//! chats, send them the login Mini Program as a card, and from then on know
//! which user a contact is.
//!
//! - [`bots`]: the bots and their keys;
//! - [`links`]: login-card tickets, linking a contact to the user who
//!   proves, by a code sent in chat, to be that contact;
//! - [`deliveries`]: what the bots are to say in chat, kept until they
//!   acknowledge it;
//! - [`logins`]: chat sign-in for the web, by a challenge sent to a bot.

pub mod bots;
pub mod deliveries;
pub mod links;
pub mod logins;
