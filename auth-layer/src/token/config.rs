use std::sync::Arc;
use std::time::Duration;

/// Issuer, audience, lifetimes and verification tolerances.
///
/// # Example
///
/// ```
/// use auth_layer::TokenConfig;
/// use std::time::Duration;
///
/// let config = TokenConfig::new("https://auth.example.com", "api")
///     .access_ttl(Duration::from_secs(5 * 60))
///     .leeway(Duration::from_secs(2));
/// assert_eq!(config.refresh_ttl_value(), Duration::from_secs(7 * 24 * 3600));
/// ```
#[derive(Clone, Debug)]
pub struct TokenConfig {
    pub(crate) issuer: Arc<str>,
    pub(crate) audience: Arc<str>,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) leeway: i64,
    pub(crate) max_token_len: usize,
}

impl TokenConfig {
    /// Access tokens live 15 minutes by default.
    pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
    /// Refresh tokens live 7 days by default.
    pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    /// Clock skew tolerated on `exp`, `nbf` and `iat` by default.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
    /// Tokens longer than this many bytes are refused without parsing.
    pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

    /// A configuration for tokens issued by `issuer` (`iss`) for `audience`
    /// (`aud`); both are checked on every access token.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: Arc::from(issuer.into()),
            audience: Arc::from(audience.into()),
            access_ttl: Self::DEFAULT_ACCESS_TTL,
            refresh_ttl: Self::DEFAULT_REFRESH_TTL,
            leeway: Self::DEFAULT_LEEWAY.as_secs() as i64,
            max_token_len: Self::DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// How long an access token lives (default 15 minutes). Longer
    /// lifetimes lower security: a stolen token stays usable longer.
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// How long a refresh token lives (default 7 days).
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// The clock skew tolerated between issuer and verifier (default 5
    /// seconds, whole seconds). A larger leeway keeps expired tokens alive
    /// for longer.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.as_secs().min(i64::MAX as u64) as i64;
        self
    }

    /// The longest token accepted, in bytes (default 8 KiB).
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`).
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The access token lifetime.
    pub fn access_ttl_value(&self) -> Duration {
        self.access_ttl
    }

    /// The refresh token lifetime.
    pub fn refresh_ttl_value(&self) -> Duration {
        self.refresh_ttl
    }

    /// The leeway, in seconds.
    pub fn leeway_secs(&self) -> i64 {
        self.leeway
    }
}
