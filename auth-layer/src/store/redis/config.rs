use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

/// How a [`RedisStore`](super::RedisStore) reaches Redis and how it behaves
/// when it cannot.
///
/// Every setting but the URL has a default:
///
/// | setting | default |
/// | --- | --- |
/// | [`key_prefix`](Self::key_prefix) | `"tokenpair:"` |
/// | [`stale_after`](Self::stale_after) | 2 seconds |
/// | [`fail_open`](Self::fail_open) | `false` (fail closed) |
/// | [`command_timeout`](Self::command_timeout) | 1 second |
/// | [`clock`](Self::clock) | [`SystemClock`] |
///
/// The `Debug` output hides any password in the URL.
///
/// # Example
///
/// ```
/// use std::time::Duration;
///
/// use auth_layer::store::RedisConfig;
///
/// let config = RedisConfig::new("redis://:hunter2@127.0.0.1:6379/0")
///     .key_prefix("shop:")
///     .stale_after(Duration::from_secs(5));
/// assert!(!format!("{config:?}").contains("hunter2"));
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(super) url: String,
    pub(super) key_prefix: String,
    pub(super) stale_after: Duration,
    pub(super) fail_open: bool,
    pub(super) command_timeout: Duration,
    pub(super) clock: Arc<dyn Clock>,
}

impl RedisConfig {
    /// A configuration for the Redis server at `url`, such as
    /// `redis://127.0.0.1:6379` or `redis://user:password@host:6379/2`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "tokenpair:".to_owned(),
            stale_after: Duration::from_secs(2),
            fail_open: false,
            command_timeout: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
        }
    }

    /// The prefix of every key and of the pub/sub channel, so that several
    /// applications (or tests) can share one Redis. Default `"tokenpair:"`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long the local copy of the revocations may go without being
    /// known current (its subscription down, or its resync unfinished)
    /// before the per-request check stops trusting it. Default 2 seconds.
    ///
    /// A longer bound keeps requests flowing through short Redis outages,
    /// at the cost of honouring a revocation made elsewhere during the
    /// outage that much later.
    pub fn stale_after(mut self, bound: Duration) -> Self {
        self.stale_after = bound;
        self
    }

    /// What the per-request check answers once the copy is stale: `false`
    /// (the default) answers [`Verdict::Unavailable`](crate::Verdict), which
    /// the layer turns into `503`; `true` answers from the stale copy.
    ///
    /// **`true` lowers security**: while Redis is unreachable, a session
    /// revoked by another process keeps working here.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// How long one command to Redis may take, connecting included, before
    /// the operation gives up with
    /// [`StoreError::Unavailable`](crate::store::StoreError). Default 1 second.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The clock that decides when sessions and revocations expire. Every
    /// process sharing a Redis should agree on the time, as they must for
    /// token expiry anyway. Default [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("stale_after", &self.stale_after)
            .field("fail_open", &self.fail_open)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

/// `url` with the password of its user info replaced by `***`.
pub(super) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => return "***".to_owned(),
    };
    // The last `@` ends the user info even when a careless password holds
    // an unescaped `@` of its own.
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let user = match rest[..at].split_once(':') {
        Some((user, _)) => user,
        None => "",
    };
    format!("{scheme}://{user}:***@{}", &rest[at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_credentials_is_shown_whole() {
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
    }

    #[test]
    fn a_password_is_hidden_and_the_user_kept() {
        assert_eq!(
            redact("redis://app:s3cret@cache:6379"),
            "redis://app:***@cache:6379"
        );
        assert_eq!(redact("rediss://:s3cret@cache"), "rediss://:***@cache");
    }

    #[test]
    fn a_lone_user_info_is_treated_as_a_password() {
        assert_eq!(redact("redis://s3cret@cache"), "redis://:***@cache");
    }

    #[test]
    fn an_unescaped_at_sign_in_the_password_does_not_leak_it() {
        let shown = redact("redis://app:pa@ss@cache:6379");
        assert_eq!(shown, "redis://app:***@cache:6379");
    }

    #[test]
    fn a_string_that_is_not_a_url_is_hidden_entirely() {
        assert_eq!(redact("s3cret"), "***");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let config = RedisConfig::new("redis://app:s3cret@cache:6379");
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
