//! The API's handlers, one module per group; the router in `app.rs` wires
//! them. Each handler returns `AppResult<Json<T>>` with the protocol's types.

pub mod bind;
pub mod bot;
pub mod chat;
pub mod discovery;
pub mod health;
pub mod login;
pub mod outbox;
pub mod rooms;
pub mod signed_in;
pub mod sim_chat;
