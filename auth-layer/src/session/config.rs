use std::time::Duration;

/// How refresh, login and logout behave.
///
/// # Example
///
/// ```
/// use auth_layer::session::{CookieConfig, SessionConfig};
/// use std::time::Duration;
///
/// let config = SessionConfig::default()
///     .grace(Duration::from_secs(5))
///     .cookie(CookieConfig::default().name("__Host-refresh").paths(["/"]));
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub(crate) grace: Duration,
    pub(crate) rotation: bool,
    pub(crate) body: bool,
    pub(crate) cookie_source: bool,
    pub(crate) cookie: CookieConfig,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) max_body: usize,
    pub(crate) realm: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(10),
            rotation: true,
            body: true,
            cookie_source: true,
            cookie: CookieConfig::default(),
            allowed_origins: Vec::new(),
            max_body: 16 * 1024,
            realm: "api".to_owned(),
        }
    }
}

impl SessionConfig {
    /// How long after a rotation the replaced refresh token still gets the
    /// same answer (default 10 seconds, whole seconds; zero turns the window
    /// off). The window lets racing tabs and parallel requests converge on
    /// one session; a longer one gives a thief more time to race the user.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Whether a refresh rotates the refresh token (default `true`).
    /// Without rotation a refresh answers with a new access token only, and
    /// the refresh token stays valid until it expires, so reuse of a stolen
    /// one cannot be detected: this lowers security.
    pub fn rotation(mut self, rotation: bool) -> Self {
        self.rotation = rotation;
        self
    }

    /// Whether the refresh token may come in a JSON body
    /// `{"refreshToken": "..."}` (default `true`).
    pub fn accept_body(mut self, accept: bool) -> Self {
        self.body = accept;
        self
    }

    /// Whether the refresh token may come in the refresh cookie (default
    /// `true`); login and refresh then also set the cookie.
    pub fn accept_cookie(mut self, accept: bool) -> Self {
        self.cookie_source = accept;
        self
    }

    /// The refresh cookie's name, paths, domain and flags.
    pub fn cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = cookie;
        self
    }

    /// Origins (such as `https://app.example.com`) besides the server's own
    /// that may use the refresh cookie. Empty by default: a request that
    /// relies on the cookie and comes from any other origin is refused with
    /// `403`.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// The realm named in `WWW-Authenticate` challenges by
    /// [`Sessions::layer`](super::Sessions::layer) and the logout endpoints
    /// (default `"api"`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The largest request body read by refresh and logout (default
    /// 16 KiB); a larger one is refused with `413`.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

/// The refresh cookie: `HttpOnly; Secure; SameSite=Strict`, sent only to the
/// auth endpoints.
#[derive(Clone, Debug)]
pub struct CookieConfig {
    pub(crate) name: String,
    pub(crate) paths: Vec<String>,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "refresh_token".to_owned(),
            paths: vec!["/api/refresh".to_owned(), "/api/logout".to_owned()],
            domain: None,
            secure: true,
        }
    }
}

impl CookieConfig {
    /// The cookie's name (default `refresh_token`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The paths the cookie is set for (default `/api/refresh` and
    /// `/api/logout`, so that no other route ever receives it). One cookie
    /// is set per path.
    pub fn paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// The cookie's `Domain` (default none: this host only, the safest).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Whether the cookie is marked `Secure` (default `true`). Browsers
    /// accept `Secure` cookies from `http://localhost`; turn this off only
    /// for clients that refuse them over plain HTTP, never in production.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }
}
