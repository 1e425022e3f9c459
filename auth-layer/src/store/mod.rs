//! Where sessions, rotation state and revocations live.
//!
//! One trait, [`SessionStore`], with atomic operations: create a session,
//! rotate its refresh token (compare and swap), revoke a session, a user's
//! sessions or a single access token, and, through [`RevocationCheck`], the
//! per-request question "has this access token been revoked?".
//!
//! - [`MemoryStore`], the embedded default: one process, entries expire
//!   with the tokens they guard.
//! - `RedisStore` (feature `redis`): many processes sharing one Redis.
//!
//! Revocations are keyed by session id and `jti`, never by a hash of the
//! token text: a JWT can be re-encoded without changing its meaning.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisConfig, RedisStore};

use crate::layer::RevocationCheck;

/// The future a [`SessionStore`] operation returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A session to create at login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// The session id (`sid`).
    pub sid: String,
    /// The user (`sub`).
    pub sub: String,
    /// The application's own access-token claims as a JSON object, kept so
    /// that a refresh can issue an access token that carries them again.
    pub claims: String,
    /// The `jti` of the session's first refresh token.
    pub refresh_jti: String,
    /// When that refresh token expires, in seconds since the Unix epoch; the
    /// session is forgotten then.
    pub expires_at: i64,
}

/// What a store knows about a live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The user (`sub`).
    pub sub: String,
    /// The application's own claims, as given at login.
    pub claims: String,
    /// The `jti` of the session's current refresh token.
    pub current_jti: String,
}

/// A request to rotate a session's refresh token.
#[derive(Clone, Debug)]
pub struct Rotation<'a> {
    /// The session.
    pub sid: &'a str,
    /// The `jti` of the refresh token that was presented.
    pub presented_jti: &'a str,
    /// The `jti` of the refresh token that replaces it.
    pub next_jti: &'a str,
    /// When the replacement expires; the session now lives until then.
    pub expires_at: i64,
    /// The answer given to this refresh (the pair's JSON), kept for the
    /// grace window so that a racing refresh with the same token gets it
    /// too.
    pub answer: &'a str,
    /// The current time.
    pub now: i64,
    /// How long, in seconds, the previous token may still be presented and
    /// get the same answer. Zero turns the window off.
    pub grace: i64,
    /// If the rotation finds reuse and revokes the session, until when its
    /// access tokens must be refused.
    pub revoke_until: i64,
}

/// The outcome of a [`Rotation`], decided atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotated {
    /// The presented token was the current one: the session moved on to
    /// `next_jti`.
    Rotated,
    /// The presented token was the one just replaced, inside the grace
    /// window: here is the answer the first refresh got.
    Replayed(String),
    /// The presented token is older (or the window has passed): treated as
    /// theft, and the whole session has been revoked.
    Reused,
    /// No live session has that id.
    Unknown,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or answered with an error.
    #[error("the session store is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The backend held data this crate cannot read.
    #[error("the session store holds unreadable data")]
    Corrupt,
}

/// Sessions, rotation and revocation, atomically.
///
/// Every method that changes state is atomic in the backend, so that two
/// processes racing on one session cannot both win a rotation.
/// [`RevocationCheck::check`] is the per-request path and should answer
/// without I/O.
pub trait SessionStore: RevocationCheck {
    /// Records a new session.
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()>;

    /// The live session `sid`, if there is one (not revoked, not expired).
    fn session<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, Option<SessionInfo>>;

    /// Rotates a session's refresh token: compare the presented `jti` with
    /// the current one and swap, all in one step.
    fn rotate<'a>(&'a self, rotation: Rotation<'a>) -> StoreFuture<'a, Rotated>;

    /// Revokes session `sid`: its refresh token stops working, and its
    /// access tokens are refused until `keep_until` (when the last of them
    /// has expired). Returns whether the session was live.
    fn revoke_session<'a>(&'a self, sid: &'a str, keep_until: i64) -> StoreFuture<'a, bool>;

    /// Revokes every session of user `sub`, as [`revoke_session`] does.
    /// Returns how many were live.
    ///
    /// [`revoke_session`]: SessionStore::revoke_session
    fn revoke_user<'a>(&'a self, sub: &'a str, keep_until: i64) -> StoreFuture<'a, usize>;

    /// Revokes the single access token `jti`, which expires at `expires_at`.
    fn revoke_token<'a>(&'a self, jti: &'a str, expires_at: i64) -> StoreFuture<'a, ()>;

    /// A short name for logs, such as `"memory"` or `"redis"`.
    fn name(&self) -> &'static str;
}

impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        (**self).create(session)
    }
    fn session<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        (**self).session(sid)
    }
    fn rotate<'a>(&'a self, rotation: Rotation<'a>) -> StoreFuture<'a, Rotated> {
        (**self).rotate(rotation)
    }
    fn revoke_session<'a>(&'a self, sid: &'a str, keep_until: i64) -> StoreFuture<'a, bool> {
        (**self).revoke_session(sid, keep_until)
    }
    fn revoke_user<'a>(&'a self, sub: &'a str, keep_until: i64) -> StoreFuture<'a, usize> {
        (**self).revoke_user(sub, keep_until)
    }
    fn revoke_token<'a>(&'a self, jti: &'a str, expires_at: i64) -> StoreFuture<'a, ()> {
        (**self).revoke_token(jti, expires_at)
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
}

impl<S: RevocationCheck + ?Sized> RevocationCheck for Arc<S> {
    fn check(&self, token: crate::layer::TokenRef<'_>) -> crate::layer::Check {
        (**self).check(token)
    }
}
