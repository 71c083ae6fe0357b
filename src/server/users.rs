//! Users and the Mini Program identities (WeChat's and Douyin's) bound to
//! them.
//!
//! A user is keyed by an id of the server's own (`usr_…`), never by an
//! openid: an openid is one Mini Program's name for a person, and the same
//! person can arrive through several apps (linked by unionid, within one
//! platform), through both platforms, or by phone. One table holds the
//! identities of both, `wechat_identities` (its name from before Douyin),
//! keyed by (provider, appid, openid).

use super::clock::Millis;
use super::codes::normalize_recipient;
use super::db::Db;
use super::error::AppError;
use super::secrets::new_id;
use super::wechat::Provider;
use crate::protocol::{ApiErrorCode, Channel, ProfileUpdate, Text, UserInfo};
use sqlx::{Any, AnyConnection, AnyPool};

/// A user's profile.
#[derive(Clone, Debug)]
pub struct User {
    /// The server's id.
    pub id: String,
    /// For password sign-in.
    pub username: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// E.164 phone number.
    pub phone: Option<String>,
    /// Whether the phone number was verified.
    pub phone_verified: bool,
    /// Email address.
    pub email: Option<String>,
    /// Whether the email address was verified.
    pub email_verified: bool,
    /// The fields of [`ProfileUpdate`], as the user set them.
    pub profile: Profile,
}

/// A user as stored, selected with [`USER_COLUMNS`]: the flags are
/// integers (0 or 1) on both backends.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    username: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    phone_verified: i64,
    email: Option<String>,
    email_verified: i64,
    #[sqlx(flatten)]
    profile: Profile,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username,
            name: row.name,
            phone: row.phone,
            phone_verified: row.phone_verified != 0,
            email: row.email,
            email_verified: row.email_verified != 0,
            profile: row.profile,
        }
    }
}

/// The profile fields a user edits (`PATCH /v1/userinfo`).
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Profile {
    /// Casual name.
    pub nickname: Option<String>,
    /// An `https:` URL.
    pub picture: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY`.
    pub birthdate: Option<String>,
    /// A BCP 47 tag.
    pub locale: Option<String>,
}

/// The columns of a [`UserRow`], named by table so that a query joining
/// `users` to other tables can select them too.
pub(super) const USER_COLUMNS: &str = "users.id, users.username, users.name, users.phone, users.phone_verified, \
    users.email, users.email_verified, users.nickname, users.picture, users.gender, users.birthdate, users.locale";

impl User {
    /// The profile from the user's own row; [`super::chat::rooms::profile`]
    /// adds the rooms, for `/v1/userinfo` and the id_token.
    pub fn info(&self) -> UserInfo {
        UserInfo {
            sub: self.id.clone(),
            name: self.name.clone(),
            preferred_username: self.username.clone(),
            phone_number: self.phone.clone(),
            phone_number_verified: self.phone.as_ref().map(|_| self.phone_verified),
            email: self.email.clone(),
            email_verified: self.email.as_ref().map(|_| self.email_verified),
            nickname: self.profile.nickname.clone(),
            picture: self.profile.picture.clone(),
            gender: self.profile.gender.clone(),
            birthdate: self.profile.birthdate.clone(),
            locale: self.profile.locale.clone(),
            ..UserInfo::default()
        }
    }
}

/// A Mini Program identity as its platform names it.
#[derive(Clone, Debug)]
pub struct MiniProgramIdentity {
    /// The platform: WeChat or Douyin.
    pub provider: Provider,
    /// The AppID of the Mini Program the user logged in through.
    pub appid: String,
    /// The platform's id for the user within that Mini Program only.
    pub openid: String,
    /// The user across the developer's apps on that platform, when known.
    pub unionid: Option<String>,
}

impl MiniProgramIdentity {
    /// A WeChat identity.
    pub fn wechat(appid: impl Into<String>, openid: impl Into<String>, unionid: Option<String>) -> Self {
        Self { provider: Provider::Wechat, appid: appid.into(), openid: openid.into(), unionid }
    }

    /// The identity as the abuse budgets count it: `appid:openid` for
    /// WeChat, `douyin:appid:openid` for Douyin.
    pub fn key(&self) -> String {
        match self.provider {
            Provider::Wechat => format!("{}:{}", self.appid, self.openid),
            Provider::Douyin => format!("douyin:{}:{}", self.appid, self.openid),
        }
    }
}

/// What a new user starts with.
#[derive(Debug, Default)]
pub struct NewUser {
    /// Username for password sign-in.
    pub username: Option<String>,
    /// argon2id hash of the password.
    pub password_hash: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Verified phone number (E.164).
    pub phone: Option<String>,
    /// Verified email address.
    pub email: Option<String>,
}

/// Looks a user up by id.
pub async fn by_id(pool: &AnyPool, id: &str) -> Result<Option<User>, sqlx::Error> {
    user_where(pool, "id = $1", id).await
}

/// The user whose row matches `condition` on `value` (`$1`).
async fn user_where(pool: &AnyPool, condition: &str, value: &str) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}"))
        .bind(value)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(User::from))
}

/// The user a Mini Program identity is bound to: by (provider, appid,
/// openid), or else by a unionid another of the developer's apps on the same
/// platform has bound, in which case this identity is linked to the same
/// user (a WeChat unionid and a Douyin one are different names: they never
/// link). Reads on the read pool; writes only when there is something to
/// record.
pub async fn by_mini_program(db: &Db, identity: &MiniProgramIdentity, now: Millis) -> Result<Option<User>, AppError> {
    let provider = identity.provider.as_str();
    let bound: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT user_id, unionid FROM wechat_identities WHERE provider = $1 AND appid = $2 AND openid = $3",
    )
    .bind(provider)
    .bind(&identity.appid)
    .bind(&identity.openid)
    .fetch_optional(&db.read)
    .await?;
    if let Some((user_id, known_unionid)) = bound {
        if let (Some(unionid), None) = (&identity.unionid, known_unionid) {
            // The platform may start giving a unionid later (once the app
            // joins an Open Platform account): remember it.
            sqlx::query(
                "UPDATE wechat_identities SET unionid = $1
                 WHERE provider = $2 AND appid = $3 AND openid = $4 AND unionid IS NULL",
            )
            .bind(unionid)
            .bind(provider)
            .bind(&identity.appid)
            .bind(&identity.openid)
            .execute(&db.write)
            .await?;
        }
        return Ok(by_id(&db.read, &user_id).await?);
    }
    let Some(unionid) = &identity.unionid else {
        return Ok(None);
    };
    let linked: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM wechat_identities WHERE provider = $1 AND unionid = $2 LIMIT 1")
            .bind(provider)
            .bind(unionid)
            .fetch_optional(&db.read)
            .await?;
    let Some((user_id,)) = linked else {
        return Ok(None);
    };
    bind_identity(&mut *db.write.acquire().await?, identity, &user_id, now).await?;
    Ok(by_id(&db.read, &user_id).await?)
}

/// Looks a user up by verified phone number (E.164).
pub async fn by_phone(pool: &AnyPool, phone: &str) -> Result<Option<User>, sqlx::Error> {
    user_where(pool, "phone = $1 AND phone_verified = 1", phone).await
}

/// Looks a user up by verified email address (lower case).
pub async fn by_email(pool: &AnyPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    user_where(pool, "email = $1 AND email_verified = 1", email).await
}

/// The user with `username` and its password hash.
pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<(User, Option<String>)>, sqlx::Error> {
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(pool)
            .await?;
    let Some((id, hash)) = row else { return Ok(None) };
    Ok(by_id(pool, &id).await?.map(|user| (user, hash)))
}

/// The user `name` (normalised for the `wechat` channel) names: by
/// username, else by verified email address, else by verified phone
/// number, each in its normal form.
pub async fn by_account(pool: &AnyPool, name: &str) -> Result<Option<User>, sqlx::Error> {
    if let Some((user, _)) = by_username(pool, name).await? {
        return Ok(Some(user));
    }
    if let Ok(email) = normalize_recipient(Channel::Email, name) {
        if let Some(user) = by_email(pool, &email).await? {
            return Ok(Some(user));
        }
    }
    match normalize_recipient(Channel::Sms, name) {
        Ok(phone) => by_phone(pool, &phone).await,
        Err(_) => Ok(None),
    }
}

/// Creates a user. Phone and email given here count as verified.
pub async fn create<'c, E>(executor: E, new: NewUser, now: Millis) -> Result<String, AppError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let id = new_id("usr");
    let result = sqlx::query(
        "INSERT INTO users (id, username, password_hash, name, phone, phone_verified, email, email_verified, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&new.username)
    .bind(&new.password_hash)
    .bind(&new.name)
    .bind(&new.phone)
    .bind(i64::from(new.phone.is_some()))
    .bind(&new.email)
    .bind(i64::from(new.email.is_some()))
    .bind(now)
    .execute(executor)
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::new(
            ApiErrorCode::AlreadyBound,
            "a user with this username, phone number or email already exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Applies a checked profile update ([`super::profile::check`]): each field
/// given is set or, when `null`, cleared; the rest stay as they are.
pub async fn update_profile(pool: &AnyPool, id: &str, update: &ProfileUpdate) -> Result<Option<User>, sqlx::Error> {
    fn given<const MIN: usize, const MAX: usize>(field: &Option<Option<Text<MIN, MAX>>>) -> Option<Option<&str>> {
        field.as_ref().map(|value| value.as_deref())
    }
    let fields = [
        ("name", given(&update.name)),
        ("nickname", given(&update.nickname)),
        ("picture", given(&update.picture)),
        ("gender", given(&update.gender)),
        ("birthdate", given(&update.birthdate)),
        ("locale", given(&update.locale)),
    ];
    let given: Vec<(&str, Option<&str>)> =
        fields.into_iter().filter_map(|(column, value)| Some((column, value?))).collect();
    if !given.is_empty() {
        // Column names come from the fixed list above, never from the request.
        let set: Vec<String> = given.iter().zip(1..).map(|((column, _), n)| format!("{column} = ${n}")).collect();
        let sql = format!("UPDATE users SET {} WHERE id = ${}", set.join(", "), given.len() + 1);
        let mut query = sqlx::query(&sql);
        for (_, value) in &given {
            query = query.bind(*value);
        }
        query.bind(id).execute(pool).await?;
    }
    by_id(pool, id).await
}

/// Binds a Mini Program identity to a user. A user has at most one openid
/// per Mini Program (and so may hold a WeChat identity and a Douyin one),
/// and an identity is bound once.
pub async fn bind_identity(
    conn: &mut AnyConnection,
    identity: &MiniProgramIdentity,
    user_id: &str,
    now: Millis,
) -> Result<(), AppError> {
    let name = identity.provider.name();
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT openid FROM wechat_identities WHERE provider = $1 AND appid = $2 AND user_id = $3")
            .bind(identity.provider.as_str())
            .bind(&identity.appid)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    if taken.is_some_and(|(openid,)| openid != identity.openid) {
        return Err(AppError::new(
            ApiErrorCode::AlreadyBound,
            format!("this user is already bound to another {name} account"),
        ));
    }
    let result = sqlx::query(
        "INSERT INTO wechat_identities (provider, appid, openid, unionid, user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(identity.provider.as_str())
    .bind(&identity.appid)
    .bind(&identity.openid)
    .bind(&identity.unionid)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::new(ApiErrorCode::AlreadyBound, format!("this {name} account is already bound")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&super::secrets::random_bytes::<16>()).map_err(AppError::internal)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// A stand-in hash to check against when the user does not exist, so that
/// an unknown username takes as long as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("miniauth-timing-equaliser").unwrap_or_default());

/// Builds the dummy hash now, at start-up, so that the first unknown
/// username does not cost an extra hash (a timing signal).
pub fn prepare_dummy_hash() {
    std::sync::LazyLock::force(&DUMMY_HASH);
}

/// Checks `password` against `hash` (or against a dummy, when there is no
/// hash, to take the same time).
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let (hash, real) = match hash {
        Some(hash) => (hash, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && real
}
