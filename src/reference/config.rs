use std::net::SocketAddr;
use std::time::Duration;

use auth_layer::{KeyError, random_id};

/// The reference server's settings, normally read from the environment.
#[derive(Clone)]
pub struct Config {
    /// `ADDR`: where to listen (default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// `ACCESS_TTL`: access token lifetime (default `15m`).
    pub access_ttl: Duration,
    /// `REFRESH_TTL`: refresh token lifetime (default `7d`).
    pub refresh_ttl: Duration,
    /// `ACCESS_SECRET`: the HS256 secret for access tokens.
    pub access_secret: String,
    /// `REFRESH_SECRET`: the HS256 secret for refresh tokens.
    pub refresh_secret: String,
    /// Whether either secret was made up for this process.
    pub random_secrets: bool,
    /// `REFRESH_GRACE`: how long a just-rotated refresh token still gets the
    /// same answer (default `10s`; `0s` turns the window off).
    pub grace: Duration,
    /// `REDIS_URL`: the Redis store's address; the memory store when unset.
    pub redis_url: Option<String>,
    /// `REFRESH_ROTATION`: `off` makes refresh answer with an access token
    /// only, like a server that does not rotate (default `on`).
    pub rotation: bool,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable is set to something that is not a valid value.
    #[error("{name} is not valid: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why not (never the value of a secret).
        why: String,
    },
    /// A secret was refused as a key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The session store could not be reached.
    #[error("the session store could not be reached: {0}")]
    Store(#[from] auth_layer::store::StoreError),
}

impl Config {
    /// Reads `ADDR`, `ACCESS_TTL`, `REFRESH_TTL`, `ACCESS_SECRET` and
    /// `REFRESH_SECRET`; secrets that are unset are made up at random.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for a variable that does not parse.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same, reading variables through `var`.
    ///
    /// # Errors
    ///
    /// As for [`Config::from_env`].
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr = match var("ADDR") {
            Some(addr) => addr.parse().map_err(|_| ConfigError::Invalid {
                name: "ADDR",
                why: format!("`{addr}` is not a socket address such as 127.0.0.1:3000"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let access_secret = var("ACCESS_SECRET");
        let refresh_secret = var("REFRESH_SECRET");
        let random_secrets = access_secret.is_none() || refresh_secret.is_none();

        Ok(Self {
            addr,
            access_ttl: duration(&var, "ACCESS_TTL", "15m")?,
            refresh_ttl: duration(&var, "REFRESH_TTL", "7d")?,
            access_secret: access_secret.unwrap_or_else(random_secret),
            refresh_secret: refresh_secret.unwrap_or_else(random_secret),
            random_secrets,
            grace: grace(&var)?,
            redis_url: var("REDIS_URL").filter(|url| !url.is_empty()),
            rotation: switch(&var, "REFRESH_ROTATION")?,
        })
    }
}

fn duration(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let text = var(name).unwrap_or_else(|| default.to_owned());
    let ttl = humantime::parse_duration(&text).map_err(|err| ConfigError::Invalid {
        name,
        why: format!("`{text}`: {err}"),
    })?;
    if ttl.as_secs() == 0 {
        return Err(ConfigError::Invalid {
            name,
            why: "a lifetime must be at least one second".to_owned(),
        });
    }
    Ok(ttl)
}

fn grace(var: &impl Fn(&str) -> Option<String>) -> Result<Duration, ConfigError> {
    let text = var("REFRESH_GRACE").unwrap_or_else(|| "10s".to_owned());
    humantime::parse_duration(&text).map_err(|err| ConfigError::Invalid {
        name: "REFRESH_GRACE",
        why: format!("`{text}`: {err}"),
    })
}

fn switch(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match var(name).as_deref() {
        None | Some("on" | "true" | "1") => Ok(true),
        Some("off" | "false" | "0") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            name,
            why: format!("`{other}` is neither `on` nor `off`"),
        }),
    }
}

fn random_secret() -> String {
    format!("{}{}", random_id(), random_id())
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("access_secret", &"[redacted]")
            .field("refresh_secret", &"[redacted]")
            .field("grace", &self.grace)
            .field("redis", &self.redis_url.is_some())
            .field("rotation", &self.rotation)
            .finish()
    }
}
