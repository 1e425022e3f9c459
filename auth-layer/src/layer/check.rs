use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Decides whether a verified access token has been revoked: the question
/// the layer asks a session store on every request, after the signature
/// and the claims have passed.
///
/// A store that can answer from memory returns [`Check::Ready`] and costs
/// the request no allocation; one that must wait on I/O returns
/// [`Check::Pending`], and the layer awaits it before calling the inner
/// service.
///
/// # Example
///
/// ```
/// use auth_layer::{Check, RevocationCheck, TokenRef, Verdict};
/// use std::collections::HashSet;
///
/// struct Denylist(HashSet<String>);
///
/// impl RevocationCheck for Denylist {
///     fn check(&self, token: TokenRef<'_>) -> Check {
///         if self.0.contains(token.sid) {
///             Check::Ready(Verdict::Revoked)
///         } else {
///             Check::Ready(Verdict::Valid)
///         }
///     }
/// }
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// Whether `token` may still be used.
    fn check(&self, token: TokenRef<'_>) -> Check;
}

/// The identifying claims of a verified access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRef<'a> {
    /// The user (`sub`).
    pub sub: &'a str,
    /// The session (`sid`).
    pub sid: &'a str,
    /// The token's id (`jti`).
    pub jti: &'a str,
    /// Issued at (`iat`).
    pub iat: i64,
    /// Expires at (`exp`).
    pub exp: i64,
}

/// The answer of a [`RevocationCheck`], now or later.
pub enum Check {
    /// Answered at once.
    Ready(Verdict),
    /// Answered when the future completes.
    Pending(Pin<Box<dyn Future<Output = Verdict> + Send + 'static>>),
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready(verdict) => f.debug_tuple("Ready").field(verdict).finish(),
            Self::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// Whether a token may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Not revoked: the request goes on.
    Valid,
    /// Revoked, alone or with its session: `401 invalid_token`.
    Revoked,
    /// The answer cannot be known (a store is unreachable) and the check
    /// fails closed: `503`.
    Unavailable,
}
