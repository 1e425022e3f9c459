//! Where the client keeps its tokens.

use std::fmt;
use std::sync::RwLock;

use serde::Deserialize;

use crate::refresh::Answer;

/// An access token and, when the server gave one, a refresh token.
///
/// `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token, sent as `Authorization: Bearer`.
    pub access: String,
    /// The refresh token, sent to the refresh endpoint (absent in cookie
    /// mode, where the cookie carries it).
    pub refresh: Option<String>,
}

impl Tokens {
    /// Tokens from a login or refresh response body: `accessToken` and
    /// `refreshToken`, or the OAuth names `access_token` and
    /// `refresh_token`. Returns `None` unless the body is a JSON object (in
    /// UTF-8) with a non-empty access token; an empty refresh token counts
    /// as none.
    ///
    /// # Example
    ///
    /// ```
    /// use refresh_client::Tokens;
    ///
    /// let tokens = Tokens::from_json(br#"{"access_token":"a","refresh_token":"r"}"#).unwrap();
    /// assert_eq!(tokens.access, "a");
    /// assert_eq!(tokens.refresh.as_deref(), Some("r"));
    /// ```
    pub fn from_json(body: &[u8]) -> Option<Self> {
        // Parsed whole first: read straight into `Answer`, serde would skip
        // unknown fields without checking that they are JSON at all (bytes
        // that are not UTF-8, numbers out of range), and would take the
        // fields from a JSON array in order.
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
            return None;
        };
        let answer = Answer::deserialize(serde_json::Value::Object(fields)).ok()?;
        Some(Self {
            access: answer.access_token.filter(|t| !t.is_empty())?,
            refresh: answer.refresh_token.filter(|t| !t.is_empty()),
        })
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Keeps the tokens between requests, and between runs if it wants to: a
/// command-line tool can keep them in a file or the OS keyring.
///
/// The middleware reads the store once when it is built and writes every
/// change through, so the store is not on the per-request path.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored tokens, if any.
    fn load(&self) -> Option<Tokens>;

    /// Replaces the stored tokens; `None` clears them (the session ended).
    fn save(&self, tokens: Option<&Tokens>);
}

/// Tokens in memory, for as long as the process runs. The default.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: RwLock<Option<Tokens>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Option<Tokens> {
        self.tokens.read().ok().and_then(|t| t.clone())
    }

    fn save(&self, tokens: Option<&Tokens>) {
        if let Ok(mut held) = self.tokens.write() {
            *held = tokens.cloned();
        }
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.tokens.read().map(|t| t.is_some()).unwrap_or(false);
        f.debug_struct("MemoryTokenStore")
            .field("holds_tokens", &held)
            .finish()
    }
}
