//! One error type for every failure, each with a stable code.
//!
//! The codes are jose's where jose has one, so that code written against
//! jose's `err.code` keeps working. They cross into JavaScript unchanged as
//! `MiniAuthError.code`.

use alloc::borrow::Cow;
use core::fmt;

/// The stable, machine-readable kind of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `exp` has passed (or `iat` is older than `maxTokenAge`).
    JwtExpired,
    /// `nbf` is still in the future.
    JwtNotYetValid,
    /// A claim is missing, malformed or does not match what was required.
    JwtClaimValidationFailed,
    /// The signature does not verify with the selected key.
    JwsSignatureVerificationFailed,
    /// The token's algorithm is not allowed for this key or these options.
    JoseAlgNotAllowed,
    /// The compact JWS or its protected header is malformed.
    JwsInvalid,
    /// The JWS is well formed but is not a valid JWT (payload, `b64`).
    JwtInvalid,
    /// An algorithm, key type, curve or critical extension this library does
    /// not implement.
    JoseNotSupported,
    /// No key in the set matches the token's header.
    JwksNoMatchingKey,
    /// More than one key in the set matches the token's header.
    JwksMultipleMatchingKeys,
    /// The key set could not be fetched in time.
    JwksTimeout,
    /// The JWKS document itself is malformed.
    JwksInvalid,
    /// A key is malformed, too weak, or contradicts its own parameters.
    JwkInvalid,
    /// An option passed by the caller has the wrong type or value.
    InvalidArgument,
    /// The identity server answered with something that is not its protocol,
    /// or refused the request (`AuthClient` adds the status and `error`).
    Server,
    // The codes below are raised by the platform layers (`js/`); they are
    // listed here so that every code the package can report has one home.
    /// The module is still loading: await `ready` first.
    NotReady,
    /// The module could not be loaded (the message names the path tried).
    LoadFailed,
    /// The host lacks what this needs (a WebAssembly API, a native addon).
    NotSupported,
    /// No usable answer: the request failed, timed out or was too large.
    Network,
    /// `AuthClient` holds no session: sign in first.
    SignedOut,
    /// The WeChat identity must be bound before a token can be issued.
    BindRequired,
}

impl ErrorCode {
    /// Every code, in the order the package documents them.
    pub const ALL: [Self; 21] = [
        Self::JwtExpired,
        Self::JwtNotYetValid,
        Self::JwtClaimValidationFailed,
        Self::JwsSignatureVerificationFailed,
        Self::JoseAlgNotAllowed,
        Self::JwsInvalid,
        Self::JwtInvalid,
        Self::JoseNotSupported,
        Self::JwksNoMatchingKey,
        Self::JwksMultipleMatchingKeys,
        Self::JwksTimeout,
        Self::JwksInvalid,
        Self::JwkInvalid,
        Self::InvalidArgument,
        Self::Server,
        Self::NotReady,
        Self::LoadFailed,
        Self::NotSupported,
        Self::Network,
        Self::SignedOut,
        Self::BindRequired,
    ];

    /// The code as JavaScript sees it, for example `ERR_JWT_EXPIRED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JwtExpired => "ERR_JWT_EXPIRED",
            Self::JwtNotYetValid => "ERR_JWT_NOT_YET_VALID",
            Self::JwtClaimValidationFailed => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            Self::JwsSignatureVerificationFailed => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            Self::JoseAlgNotAllowed => "ERR_JOSE_ALG_NOT_ALLOWED",
            Self::JwsInvalid => "ERR_JWS_INVALID",
            Self::JwtInvalid => "ERR_JWT_INVALID",
            Self::JoseNotSupported => "ERR_JOSE_NOT_SUPPORTED",
            Self::JwksNoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            Self::JwksMultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            Self::JwksTimeout => "ERR_JWKS_TIMEOUT",
            Self::JwksInvalid => "ERR_JWKS_INVALID",
            Self::JwkInvalid => "ERR_JWK_INVALID",
            Self::InvalidArgument => "ERR_INVALID_ARGUMENT",
            Self::Server => "ERR_SERVER",
            Self::NotReady => "ERR_NOT_READY",
            Self::LoadFailed => "ERR_LOAD_FAILED",
            Self::NotSupported => "ERR_NOT_SUPPORTED",
            Self::Network => "ERR_NETWORK",
            Self::SignedOut => "ERR_SIGNED_OUT",
            Self::BindRequired => "ERR_BIND_REQUIRED",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a claim failed, as jose reports it in `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimFailure {
    /// The claim is absent but required.
    Missing,
    /// The claim has the wrong JSON type or shape.
    Invalid,
    /// The claim is present and well formed but does not match.
    CheckFailed,
}

impl ClaimFailure {
    /// jose's name for the reason: `missing`, `invalid` or `check_failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Invalid => "invalid",
            Self::CheckFailed => "check_failed",
        }
    }
}

/// A failure, with its stable [`ErrorCode`], a human-readable message and,
/// for claim failures, the claim concerned.
///
/// Messages never quote key material or whole tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: Cow<'static, str>,
    claim: Option<(Cow<'static, str>, ClaimFailure)>,
}

impl Error {
    /// An error with a fixed message.
    pub const fn new(code: ErrorCode, message: &'static str) -> Self {
        Self { code, message: Cow::Borrowed(message), claim: None }
    }

    /// An error whose message is built at run time.
    pub fn with_message(code: ErrorCode, message: alloc::string::String) -> Self {
        Self { code, message: Cow::Owned(message), claim: None }
    }

    /// A claim failure: `code` is [`ErrorCode::JwtClaimValidationFailed`],
    /// [`ErrorCode::JwtExpired`] or [`ErrorCode::JwtNotYetValid`].
    pub fn claim(
        code: ErrorCode,
        claim: impl Into<Cow<'static, str>>,
        reason: ClaimFailure,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self { code, message: message.into(), claim: Some((claim.into(), reason)) }
    }

    /// The code to match on; the message may change between versions, the
    /// code does not.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The claim that failed, if this is a claim failure.
    pub fn claim_name(&self) -> Option<&str> {
        self.claim.as_ref().map(|(name, _)| name.as_ref())
    }

    /// Why the claim failed, if this is a claim failure.
    pub fn claim_reason(&self) -> Option<ClaimFailure> {
        self.claim.as_ref().map(|(_, reason)| *reason)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
