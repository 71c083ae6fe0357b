//! The server API (version 1): one definition of every request and answer,
//! used by the reference server to serve them and by the client session to
//! read them. JSON field names are the wire names.
//!
//! Errors are `{"error": "<code>", "message": "..."}` ([`ErrorBody`]) with a
//! fitting HTTP status; the codes are listed in [`ApiErrorCode`].

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Deref;
use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "server")]
use utoipa::ToSchema;

/// A string of `MIN` to `MAX` characters. A field's length limits are
/// stated once, in its type: deserialisation refuses anything else, and the
/// OpenAPI document gives them as `minLength` / `maxLength` (fields of this
/// type are marked `schema(inline)`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// `text` if its length is within the limits.
    pub fn new(text: impl Into<String>) -> Option<Self> {
        let text = text.into();
        // Counting stops past MAX: a long string costs no more than MAX steps.
        let length = text.chars().take(MAX + 1).count();
        (MIN..=MAX).contains(&length).then_some(Self(text))
    }

    /// The text as given, untrimmed; `MIN..=MAX` characters long.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> Deref for Text<MIN, MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(text)
            .ok_or_else(|| serde::de::Error::custom(format_args!("expected a string of {MIN} to {MAX} characters")))
    }
}

#[cfg(feature = "server")]
impl<const MIN: usize, const MAX: usize> utoipa::PartialSchema for Text<MIN, MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(MIN)).max_length(Some(MAX)).into()
    }
}

#[cfg(feature = "server")]
impl<const MIN: usize, const MAX: usize> ToSchema for Text<MIN, MAX> {}

/// `POST /v1/login/wechat`, `POST /v1/login/wechat-phone` and `POST
/// /v1/login/douyin`: a one-time code from `wx.login()`, from the
/// `getPhoneNumber` button, or from `tt.login()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The one-time code (valid 5 minutes, single use).
    #[cfg_attr(feature = "server", schema(inline))]
    pub code: Text<1, 256>,
}

/// What a login or bind call led to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoginResponse {
    /// Signed in: the tokens.
    Success(Tokens),
    /// The WeChat (or Douyin) identity is bound to no user and registration
    /// is closed: bind it to an existing user with one of `flows`.
    SocialBind(BindChallenge),
    /// The WeChat (or Douyin) identity is bound to no user and registration
    /// is open: bind it, or register a new user.
    UserRegister(BindChallenge),
}

/// A signed-in session's tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct Tokens {
    /// A signed JWT with the user's claims; verify it against the JWKS.
    pub id_token: String,
    /// Opaque and long-lived; spent on `/v1/session/refresh`, which rotates it.
    pub session_token: String,
    /// Seconds until `id_token` expires, counted from when the answer arrived.
    pub expires_in: u64,
    /// Seconds until `session_token` expires if it is not used.
    pub session_expires_in: u64,
}

/// The way forward for an unbound WeChat or Douyin identity (or chat contact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct BindChallenge {
    /// Short-lived and bound to the identity; spent by a successful bind.
    pub state_token: String,
    /// Seconds until `state_token` expires.
    pub expires_in: u64,
    /// The binding flows this server allows now.
    pub flows: Vec<BindFlow>,
}

/// A way to bind a WeChat identity to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BindFlow {
    /// The phone number WeChat vouches for (`getPhoneNumber`).
    WechatPhone,
    /// A phone number and a one-time code sent to it by SMS.
    SmsCode,
    /// An email address and a one-time code sent to it.
    EmailCode,
    /// An existing user's username, phone number or email address, and a
    /// one-time code the bot sends in WeChat chat to the contact linked to
    /// that user.
    WechatCode,
    /// An existing user's username and password (SOCIAL_BIND only).
    Password,
    /// A new user for this WeChat identity (USER_REGISTER only).
    Register,
}

impl BindFlow {
    /// Parses the wire name (`wechat_phone`, `sms_code`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "wechat_phone" => Self::WechatPhone,
            "sms_code" => Self::SmsCode,
            "email_code" => Self::EmailCode,
            "wechat_code" => Self::WechatCode,
            "password" => Self::Password,
            "register" => Self::Register,
            _ => return None,
        })
    }
}

/// How a one-time code is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A text message to a phone number.
    Sms,
    /// A message to an email address.
    Email,
    /// A WeChat chat message from the bot that linked the user's contact.
    Wechat,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Self; 3] = [Self::Sms, Self::Email, Self::Wechat];

    /// The wire name: `sms`, `email`, `wechat`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Wechat => "wechat",
        }
    }
}

/// `POST /v1/verify-codes`: send a one-time code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyCodeRequest {
    /// `sms` for a phone number, `email` for an email address, `wechat`
    /// for the chat contact linked to an existing user.
    pub channel: Channel,
    /// A phone number (`+8613800138000` or `13800138000`) or an email
    /// address; for `wechat`, the username, phone number or email address
    /// of the user whose linked contact gets the code.
    #[cfg_attr(feature = "server", schema(inline))]
    pub to: Text<1, 254>,
    /// The state token of the bind this code is for: codes are sent only
    /// for a bind in progress, and only that bind can spend them.
    pub state_token: String,
}

/// The answer to `POST /v1/verify-codes` (202 Accepted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct VerifyCodeSent {
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before another code may be sent to this recipient.
    pub resend_after: u64,
}

/// `POST /v1/bind/wechat-phone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindWechatPhoneRequest {
    /// From the SOCIAL_BIND or USER_REGISTER answer.
    pub state_token: String,
    /// The code of the Mini Program's `getPhoneNumber` event, spent on
    /// WeChat's `getuserphonenumber`.
    #[cfg_attr(feature = "server", schema(inline))]
    pub code: Text<1, 256>,
}

/// `POST /v1/bind/verify-code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindVerifyCodeRequest {
    /// From the SOCIAL_BIND or USER_REGISTER answer.
    pub state_token: String,
    /// Where the code was sent.
    pub channel: Channel,
    /// The phone number or email address it was sent to (for `wechat`,
    /// the account named when it was sent).
    #[cfg_attr(feature = "server", schema(inline))]
    pub to: Text<1, 254>,
    /// The six digits received. A wrong code uses up one of five tries.
    #[cfg_attr(feature = "server", schema(inline))]
    pub code: Text<1, 16>,
}

/// `POST /v1/bind/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BindPasswordRequest {
    /// From the SOCIAL_BIND answer.
    pub state_token: String,
    /// The existing user's username.
    #[cfg_attr(feature = "server", schema(inline))]
    pub username: Text<1, 256>,
    /// The existing user's password.
    #[cfg_attr(feature = "server", schema(inline))]
    pub password: Text<1, 1024>,
}

/// `POST /v1/register`: a new user for an unbound WeChat identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// From the USER_REGISTER answer.
    pub state_token: String,
    /// A display name for the new user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub name: Option<Text<1, 64>>,
}

/// `POST /v1/session/refresh` and `POST /v1/logout`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The session_token of the last login, bind or refresh: a refresh spends
    /// and rotates it, a logout revokes its whole family.
    #[cfg_attr(feature = "server", schema(inline))]
    pub session_token: Text<1, 128>,
}

/// `GET /v1/userinfo`: the signed-in user's profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct UserInfo {
    /// The user's stable id.
    pub sub: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Username, for password sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Phone number in E.164 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the phone number has been verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email address has been verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// URL of a profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Gender (`female`, `male`, or another value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Birthday: `YYYY-MM-DD`, `0000-MM-DD` (year withheld) or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// Locale as a BCP 47 tag, e.g. `zh-CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The ids of the WeChat rooms the user's linked chat contacts are in,
    /// sorted; at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    /// Present (true) when the user is in more rooms than `rooms` lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms_truncated: Option<bool>,
}

/// `PATCH /v1/userinfo`: the profile fields a user may edit. A field left
/// out stays as it is, `null` clears it. Identifiers (phone number, email,
/// username) change only through a verified flow, so they are not fields
/// here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// Display name.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub name: Option<Option<Text<1, 64>>>,
    /// Casual name.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub nickname: Option<Option<Text<1, 64>>>,
    /// An `https:` URL of a profile picture.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub picture: Option<Option<Text<9, 2048>>>,
    /// Gender.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub gender: Option<Option<Text<1, 32>>>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub birthdate: Option<Option<Text<4, 10>>>,
    /// A BCP 47 language tag.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub locale: Option<Option<Text<2, 35>>>,
}

/// A chat contact as the bot sees it (Wechaty's `Contact`): its id at that
/// bot, and the name and avatar it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatContact {
    /// The contact's id at the bot. Only stable ids link: not a search
    /// result's (`$search$…`) nor a stranger's (`…@stranger`).
    #[cfg_attr(feature = "server", schema(inline))]
    pub id: Text<1, 128>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub name: Option<Text<1, 64>>,
    /// URL of the contact's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub avatar: Option<Text<1, 2048>>,
}

/// `POST /v1/bot/link-tickets`: a ticket for a login card sent to `contact`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkTicketRequest {
    /// Who the card is for.
    pub contact: ChatContact,
}

/// A link ticket, to put in a login card's `pagePath`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct LinkTicket {
    /// Single use, bound to the bot and the contact.
    pub ticket: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// `POST /v1/chat-links`: the signed-in user opened a login card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatLinkRequest {
    /// The card's ticket.
    #[cfg_attr(feature = "server", schema(inline))]
    pub ticket: Text<1, 128>,
}

/// `POST /v1/chat-links/confirm`: the code the contact got in chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatLinkConfirm {
    /// The card's ticket, as given to `POST /v1/chat-links`.
    #[cfg_attr(feature = "server", schema(inline))]
    pub ticket: Text<1, 128>,
    /// The six digits the contact received. A wrong code uses up one of
    /// five tries.
    #[cfg_attr(feature = "server", schema(inline))]
    pub code: Text<1, 16>,
}

/// A chat contact linked to the signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ChatLink {
    /// The name of the bot the contact talks to.
    pub bot: String,
    /// The contact's id at that bot.
    pub contact_id: String,
    /// The contact's display name, as the bot gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
}

/// `POST /v1/login/chat`: sign in through a chat bot, where there is no
/// `wx.login` (the web).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatLoginRequest {
    /// The name of the bot the person will write to; any bot when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(inline))]
    pub bot: Option<Text<1, 64>>,
}

/// A chat sign-in under way: show `challenge`, poll with `state_token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ChatLoginChallenge {
    /// Six digits for the person to send to the bot in WeChat.
    pub challenge: String,
    /// Collects the outcome at `POST /v1/login/chat/poll`, once.
    pub state_token: String,
    /// Seconds until the challenge expires.
    pub expires_in: u64,
}

/// `POST /v1/login/chat/poll`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatLoginPoll {
    /// From the `POST /v1/login/chat` answer.
    #[cfg_attr(feature = "server", schema(inline))]
    pub state_token: Text<1, 128>,
}

/// The answer to a poll while the challenge has not arrived (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChatLoginWaiting {
    /// Not yet: poll again.
    Pending {
        /// Seconds until the challenge expires.
        expires_in: u64,
    },
}

/// `POST /v1/bot/challenges`: a text a contact sent that may be a chat
/// sign-in challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatChallengeRequest {
    /// Who sent it (the contact's id at this bot).
    #[cfg_attr(feature = "server", schema(inline))]
    pub contact_id: Text<1, 128>,
    /// What they sent.
    #[cfg_attr(feature = "server", schema(inline))]
    pub text: Text<1, 64>,
}

/// Whether a text was a live challenge, which the contact then took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ChatChallengeAnswer {
    /// True: do not answer it as an ordinary message.
    pub matched: bool,
}

/// Something a bot is to deliver in chat (`GET /v1/bot/deliveries`), until
/// it acknowledges it by `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// Say `text` to the contact `to`.
    Text {
        /// Acknowledge with this.
        id: String,
        /// The contact's id.
        to: String,
        /// What to say.
        text: String,
    },
    /// The contact was linked to a user: its profile changed.
    Linked {
        /// Acknowledge with this.
        id: String,
        /// The contact's id.
        contact_id: String,
    },
    /// The contact's user unlinked it: it has no profile any more.
    Unlinked {
        /// Acknowledge with this.
        id: String,
        /// The contact's id.
        contact_id: String,
    },
}

/// WeChat's cap on a room's members: what a snapshot may list.
pub const MAX_ROOM_MEMBERS: usize = 500;

/// The characters of a room's topic the server keeps.
pub const ROOM_TOPIC_CHARS: usize = 256;

/// The characters of a member's name or room alias the server keeps.
pub const MEMBER_NAME_CHARS: usize = 64;

/// `PUT /v1/bot/rooms/{id}`: a bot's snapshot of a WeChat room, whole (as
/// Wechaty's room payload has it). A snapshot older than the one the server
/// holds changes nothing; the same one twice changes nothing the second
/// time. Empty strings in the optional fields mean none. Names are taken as
/// the puppet gives them: the server drops what cannot be shown and keeps
/// the first 256 characters of the topic and 64 of a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoomSnapshot {
    /// The room's name; may be empty.
    #[cfg_attr(feature = "server", schema(inline))]
    pub topic: Text<0, 1024>,
    /// An `https:` URL of the room's avatar.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub avatar: Option<Text<0, 2048>>,
    /// The owner's member id.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub owner_id: Option<Text<0, 128>>,
    /// The admins' member ids; empty ones are dropped.
    #[serde(default, deserialize_with = "at_most_a_room")]
    #[cfg_attr(feature = "server", schema(inline, max_items = 500))]
    pub admin_ids: Vec<Text<0, 128>>,
    /// Every member, at most 500 (WeChat's cap), each once. (utoipa takes
    /// only literals: `tests/server_rooms.rs` holds these to
    /// [`MAX_ROOM_MEMBERS`].)
    #[serde(deserialize_with = "at_most_a_room")]
    #[cfg_attr(feature = "server", schema(max_items = 500))]
    pub members: Vec<RoomMember>,
    /// When the bot read the room (ms since the epoch); at most five
    /// minutes ahead of the server's clock.
    pub synced_at: u64,
}

/// A list of at most [`MAX_ROOM_MEMBERS`] items, refused at the first one
/// past it rather than read whole first.
fn at_most_a_room<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    struct AtMost<T>(core::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for AtMost<T> {
        type Value = Vec<T>;

        fn expecting(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
            write!(formatter, "a list of at most {MAX_ROOM_MEMBERS} items")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_ROOM_MEMBERS));
            while let Some(item) = seq.next_element()? {
                if items.len() == MAX_ROOM_MEMBERS {
                    return Err(serde::de::Error::invalid_length(MAX_ROOM_MEMBERS + 1, &self));
                }
                items.push(item);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_seq(AtMost(core::marker::PhantomData))
}

/// A member of a room: as a snapshot gives it, and as
/// `GET /v1/rooms/{id}/members/{memberId}` answers it (with at most 64
/// characters of a name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoomMember {
    /// The member's contact id at the bot.
    #[cfg_attr(feature = "server", schema(inline))]
    pub id: Text<1, 128>,
    /// The name the member gave themself in this room.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub room_alias: Option<Text<0, 256>>,
    /// Who invited the member (a contact id).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub inviter_id: Option<Text<0, 128>>,
    /// An `https:` URL of the member's avatar.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub avatar: Option<Text<0, 2048>>,
    /// The member's WeChat name.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(inline))]
    pub name: Option<Text<0, 256>>,
}

/// Whether a snapshot changed the server's copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct RoomSynced {
    /// False when the server holds a newer snapshot (not an error).
    pub applied: bool,
}

/// `GET /v1/rooms/{id}`: a room and who is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Room {
    /// The room's id (`…@chatroom`).
    pub id: String,
    /// Its name; may be empty.
    pub topic: String,
    /// An `https:` URL of its avatar.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub avatar: Option<String>,
    /// The owner's member id.
    #[cfg_attr(feature = "server", schema(required = true))]
    pub owner_id: Option<String>,
    /// The admins' member ids.
    pub admin_ids: Vec<String>,
    /// Every member's id, sorted.
    pub member_ids: Vec<String>,
}

/// A field that is present in the body, `null` or not: told apart from one
/// that is absent (which `#[serde(default)]` leaves `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The body of every error answer, whatever the status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(ToSchema))]
pub struct ErrorBody {
    /// A stable code from [`ApiErrorCode`].
    pub error: String,
    /// A human-readable explanation.
    pub message: String,
}

/// The stable `error` codes of [`ErrorBody`]. Serialised as
/// [`ApiErrorCode::as_str`] gives them; the server maps each to one HTTP
/// status (`server::error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiErrorCode {
    /// The body is not the JSON this endpoint takes.
    InvalidRequest,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body is not sent as `Content-Type: application/json`.
    UnsupportedMediaType,
    /// Too many requests; wait `Retry-After` seconds.
    RateLimited,
    /// No such endpoint.
    NotFound,
    /// The endpoint does not take this method.
    MethodNotAllowed,
    /// The WeChat (or Douyin) login code is unknown, expired or already used
    /// (WeChat 40029, 40163; Douyin 40018).
    WechatCodeInvalid,
    /// WeChat refused: this user asks too often (WeChat 45011).
    WechatRateLimited,
    /// WeChat (or Douyin) is busy (their -1); try again.
    WechatBusy,
    /// WeChat (or Douyin) could not be reached, refused this server's
    /// credentials, or answered with an unexpected error.
    WechatUnavailable,
    /// This server offers no sign-in with that platform (`POST
    /// /v1/login/douyin` without Douyin credentials).
    ProviderNotConfigured,
    /// The state token is unknown, spent, or for another identity.
    InvalidStateToken,
    /// The state token has expired: log in again.
    StateTokenExpired,
    /// The bind flow is not offered for this state token.
    FlowNotAllowed,
    /// No user has this phone number, email or username.
    UserNotFound,
    /// Username and password do not match.
    InvalidCredentials,
    /// The phone number or email address is not valid.
    InvalidRecipient,
    /// The one-time code is wrong.
    InvalidVerifyCode,
    /// The one-time code has expired, was used, or was replaced by a newer one.
    VerifyCodeExpired,
    /// Five wrong tries: the code is dead; ask for a new one.
    VerifyCodeExhausted,
    /// This bind asked for a code less than a minute ago.
    VerifyCodeTooFrequent,
    /// A sending budget is spent (this bind's, this WeChat user's, this
    /// recipient's, or the server's); `Retry-After` says when one frees up.
    VerifyCodeLimitReached,
    /// Codes are not sent to this recipient (a country calling code outside
    /// the server's allow-list).
    RecipientNotAllowed,
    /// Too many wrong codes or passwords from this WeChat user or address,
    /// or at this recipient or username; `Retry-After` says when to try again.
    TooManyFailures,
    /// The one-time code could not be delivered (no sender, or it failed).
    CodeDeliveryFailed,
    /// The WeChat identity or the user is already bound elsewhere.
    AlreadyBound,
    /// The session token is unknown, expired or revoked: sign in again.
    InvalidSession,
    /// The bearer token is missing or does not verify.
    Unauthorized,
    /// The credential is valid but lacks the scope this needs (an API
    /// client without `rooms:read`).
    InsufficientScope,
    /// The link ticket is unknown, expired or used, or another user
    /// opened it first: ask the bot for a new card.
    InvalidTicket,
    /// Something failed on the server.
    Internal,
    /// The server cannot serve yet or any more (`GET /readyz`): its
    /// database does not answer or its signing key cannot sign.
    NotReady,
}

impl ApiErrorCode {
    /// Every code, for documentation and for tests that compare lists.
    pub const ALL: [Self; 32] = [
        Self::InvalidRequest,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::WechatCodeInvalid,
        Self::WechatRateLimited,
        Self::WechatBusy,
        Self::WechatUnavailable,
        Self::ProviderNotConfigured,
        Self::InvalidStateToken,
        Self::StateTokenExpired,
        Self::FlowNotAllowed,
        Self::UserNotFound,
        Self::InvalidCredentials,
        Self::InvalidRecipient,
        Self::InvalidVerifyCode,
        Self::VerifyCodeExpired,
        Self::VerifyCodeExhausted,
        Self::VerifyCodeTooFrequent,
        Self::VerifyCodeLimitReached,
        Self::RecipientNotAllowed,
        Self::TooManyFailures,
        Self::CodeDeliveryFailed,
        Self::AlreadyBound,
        Self::InvalidSession,
        Self::Unauthorized,
        Self::InsufficientScope,
        Self::InvalidTicket,
        Self::Internal,
        Self::NotReady,
    ];

    /// The code as it appears in `error`, e.g. `invalid_state_token`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::WechatCodeInvalid => "wechat_code_invalid",
            Self::WechatRateLimited => "wechat_rate_limited",
            Self::WechatBusy => "wechat_busy",
            Self::WechatUnavailable => "wechat_unavailable",
            Self::ProviderNotConfigured => "provider_not_configured",
            Self::InvalidStateToken => "invalid_state_token",
            Self::StateTokenExpired => "state_token_expired",
            Self::FlowNotAllowed => "flow_not_allowed",
            Self::UserNotFound => "user_not_found",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRecipient => "invalid_recipient",
            Self::InvalidVerifyCode => "invalid_verify_code",
            Self::VerifyCodeExpired => "verify_code_expired",
            Self::VerifyCodeExhausted => "verify_code_exhausted",
            Self::VerifyCodeTooFrequent => "verify_code_too_frequent",
            Self::VerifyCodeLimitReached => "verify_code_limit_reached",
            Self::RecipientNotAllowed => "recipient_not_allowed",
            Self::TooManyFailures => "too_many_failures",
            Self::CodeDeliveryFailed => "code_delivery_failed",
            Self::AlreadyBound => "already_bound",
            Self::InvalidSession => "invalid_session",
            Self::Unauthorized => "unauthorized",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidTicket => "invalid_ticket",
            Self::Internal => "internal_error",
            Self::NotReady => "not_ready",
        }
    }
}

impl core::fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
