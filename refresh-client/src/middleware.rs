//! The middleware: attach, refresh once for everyone, retry.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Extensions;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode, Url};
use reqwest_middleware::{Middleware, Next};

use crate::refresh::{Redacted, RefreshCall};
use crate::store::{MemoryTokenStore, TokenStore};
use crate::{RefreshError, Tokens, jwt};

/// Put this in a request's extensions to send it without any refresh: no
/// refresh ahead of time, and a `401` goes straight back to the caller.
///
/// ```
/// # fn build(client: reqwest_middleware::ClientWithMiddleware) {
/// use refresh_client::SkipRefresh;
/// let request = client.get("https://api.example.com/probe").with_extension(SkipRefresh);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SkipRefresh;

/// A source of the current time in seconds since the Unix epoch.
pub type ClockFn = dyn Fn() -> i64 + Send + Sync;

/// A [`reqwest_middleware::Middleware`] that keeps a client signed in.
///
/// For requests to the configured origins it attaches
/// `Authorization: Bearer <access token>` (marked sensitive) unless the
/// request already has an `Authorization` header. When such a request
/// comes back `401`, exactly one refresh runs however many requests failed
/// with the same token; they all wait for it and retry once with the new
/// token. A request that failed with a token that has since been replaced
/// retries at once. A retried request that gets `401` again returns it.
///
/// A request whose body cannot be cloned (a stream) is sent once: on `401`
/// the caller gets that `401` back. The refresh request is sent with a
/// separate client, so it never passes through this middleware.
///
/// Cloning is cheap, and clones share tokens and state: keep one to put
/// login results in with [`RefreshMiddleware::set_tokens`].
///
/// # Example
///
/// ```
/// use refresh_client::{RefreshMiddleware, Tokens};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = RefreshMiddleware::builder("https://api.example.com/api/refresh")?
///     .on_session_expired(|| eprintln!("session ended: please sign in"))
///     .build();
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(auth.clone())
///     .build();
///
/// // After logging in:
/// auth.set_tokens(Tokens { access: "eyJ…".into(), refresh: Some("eyJ…".into()) });
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RefreshMiddleware {
    shared: Arc<Shared>,
}

struct Shared {
    origins: Vec<url::Origin>,
    call: RefreshCall,
    client: reqwest::Client,
    margin: i64,
    store: Arc<dyn TokenStore>,
    on_expired: Option<Box<dyn Fn() + Send + Sync>>,
    clock: Arc<ClockFn>,
    current: RwLock<Current>,
    /// Held by the one refresh in flight; the others queue behind it.
    flight: tokio::sync::Mutex<()>,
    /// How many refreshes have finished, and how the last failed one failed.
    flights: AtomicU64,
    last_failure: Mutex<Option<RefreshError>>,
    refreshes: AtomicU64,
}

/// The tokens in use. `generation` moves on whenever they change, which is
/// how a request that failed tells whether someone already refreshed.
#[derive(Default)]
struct Current {
    generation: u64,
    header: Option<HeaderValue>,
    refresh: Option<String>,
    /// Local time after which a refresh ahead of time is due.
    due_at: Option<i64>,
    /// Whether this generation has had its refresh ahead of time.
    early_tried: bool,
    /// Why the session ended, once it has.
    ended: Option<RefreshError>,
}

/// Builds a [`RefreshMiddleware`].
pub struct Builder {
    refresh_url: Url,
    origins: Vec<url::Origin>,
    call: Option<RefreshCall>,
    cookie: bool,
    client: Option<reqwest::Client>,
    margin: Duration,
    store: Arc<dyn TokenStore>,
    on_expired: Option<Box<dyn Fn() + Send + Sync>>,
    clock: Arc<ClockFn>,
}

impl RefreshMiddleware {
    /// A builder for a middleware that refreshes at `refresh_url`, and
    /// attaches tokens to requests for that URL's origin.
    ///
    /// # Errors
    ///
    /// When `refresh_url` is not an absolute URL.
    pub fn builder(refresh_url: &str) -> Result<Builder, url::ParseError> {
        let refresh_url = Url::parse(refresh_url)?;
        Ok(Builder {
            origins: vec![refresh_url.origin()],
            refresh_url,
            call: None,
            cookie: false,
            client: None,
            margin: Duration::from_secs(30),
            store: Arc::new(MemoryTokenStore::new()),
            on_expired: None,
            clock: Arc::new(system_now),
        })
    }

    /// Puts in new tokens (after a login), replacing any others and
    /// starting a new session.
    pub fn set_tokens(&self, tokens: Tokens) {
        self.shared.install(Some(tokens));
    }

    /// Puts in the tokens of a login response body (`accessToken` and
    /// `refreshToken`, or the OAuth names). Returns whether it held an
    /// access token.
    pub fn set_tokens_from_json(&self, body: &[u8]) -> bool {
        match Tokens::from_json(body) {
            Some(tokens) => {
                self.set_tokens(tokens);
                true
            }
            None => false,
        }
    }

    /// Forgets the tokens, as after a logout.
    pub fn clear(&self) {
        self.shared.install(None);
    }

    /// The tokens in use, if any.
    pub fn tokens(&self) -> Option<Tokens> {
        self.shared.store.load()
    }

    /// How many refresh calls this middleware has made.
    pub fn refresh_count(&self) -> u64 {
        self.shared.refreshes.load(Ordering::Relaxed)
    }
}

impl Builder {
    /// Also attach tokens to requests for `origin` (such as
    /// `https://api.example.com`). Requests to any other origin never carry
    /// the token.
    ///
    /// # Errors
    ///
    /// When `origin` is not an absolute URL.
    pub fn origin(mut self, origin: &str) -> Result<Self, url::ParseError> {
        self.origins.push(Url::parse(origin)?.origin());
        Ok(self)
    }

    /// Cookie mode: the refresh request has no body, and the client's
    /// cookie store carries the HttpOnly refresh cookie. Give the client
    /// that shares the cookie store with [`Builder::client`].
    pub fn cookie_mode(mut self) -> Self {
        self.cookie = true;
        self
    }

    /// Refresh with the application's own function, which gets the current
    /// refresh token and returns new tokens. Its error decides what
    /// happens: [`RefreshError::SessionEnded`] ends the session, anything
    /// else keeps the tokens.
    pub fn refresh_with<F, Fut>(mut self, refresh: F) -> Self
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Tokens, RefreshError>> + Send + 'static,
    {
        self.call = Some(RefreshCall::custom(refresh));
        self
    }

    /// The client that sends refresh requests (default: a new
    /// `reqwest::Client`). It is used as it is, outside this middleware.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Refresh ahead of time when the access token has less than this left
    /// (default 30 seconds; at most half the token's lifetime is used, so a
    /// fresh token never looks due).
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Where tokens are kept (default: memory).
    pub fn store(mut self, store: impl TokenStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Called once each time a session ends because the server refused a
    /// refresh: the place to send the user to sign in.
    pub fn on_session_expired(mut self, callback: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_expired = Some(Box::new(callback));
        self
    }

    /// The clock, in seconds since the Unix epoch (default: the system's).
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The middleware, with the store's tokens in use.
    pub fn build(self) -> RefreshMiddleware {
        let call = self.call.unwrap_or_else(|| {
            if self.cookie {
                RefreshCall::Cookie(self.refresh_url.clone())
            } else {
                RefreshCall::Json(self.refresh_url.clone())
            }
        });
        let shared = Arc::new(Shared {
            origins: self.origins,
            call,
            client: self.client.unwrap_or_default(),
            margin: self.margin.as_secs().min(i64::MAX as u64) as i64,
            store: self.store,
            on_expired: self.on_expired,
            clock: self.clock,
            current: RwLock::new(Current::default()),
            flight: tokio::sync::Mutex::new(()),
            flights: AtomicU64::new(0),
            last_failure: Mutex::new(None),
            refreshes: AtomicU64::new(0),
        });
        let stored = shared.store.load();
        shared.replace(stored.as_ref(), None);
        RefreshMiddleware { shared }
    }
}

impl Shared {
    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn covers(&self, url: &Url) -> bool {
        self.origins.iter().any(|origin| match origin {
            url::Origin::Tuple(scheme, host, port) => {
                url.scheme() == scheme
                    && url.port_or_known_default() == Some(*port)
                    && url.host().is_some_and(|h| same_host(&h, host))
            }
            url::Origin::Opaque(_) => false,
        })
    }

    /// The header to attach, and the generation it belongs to.
    fn token(&self) -> (u64, Option<HeaderValue>) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        (current.generation, current.header.clone())
    }

    /// The generation to refresh ahead of time, if its time has come.
    fn due(&self) -> Option<u64> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        let due_at = current.due_at?;
        (!current.early_tried && self.now() >= due_at).then_some(current.generation)
    }

    /// Installs new tokens (or none) from outside: a new session.
    fn install(&self, tokens: Option<Tokens>) {
        self.store.save(tokens.as_ref());
        self.replace(tokens.as_ref(), None);
    }

    /// Makes `tokens` current, moving the generation on.
    fn replace(&self, tokens: Option<&Tokens>, ended: Option<RefreshError>) {
        self.replace_if(None, tokens, ended);
    }

    /// The same, but only while generation `expected` (if given) is still
    /// current; returns whether it replaced.
    fn replace_if(
        &self,
        expected: Option<u64>,
        tokens: Option<&Tokens>,
        ended: Option<RefreshError>,
    ) -> bool {
        let now = self.now();
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if expected.is_some_and(|expected| expected != current.generation) {
            return false;
        }
        let generation = current.generation + 1;
        *current = Current {
            generation,
            header: tokens.and_then(|t| bearer(&t.access)),
            refresh: tokens.and_then(|t| t.refresh.clone()),
            due_at: tokens.and_then(|t| {
                let lifetime = jwt::lifetime(&t.access, now)?;
                let margin = self.margin.min(lifetime / 2);
                // The token is unverified server output: a lifetime near
                // `i64::MAX` must mean "late", not overflow.
                Some(now.saturating_add(lifetime - margin))
            }),
            early_tried: false,
            ended,
        };
        true
    }

    /// Gets new tokens to replace generation `failed`: one refresh for all
    /// the callers that saw that generation fail.
    async fn refresh(&self, failed: u64, early: bool) -> Result<(), RefreshError> {
        let flights_seen = self.flights.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;

        let refresh = {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            if current.generation != failed {
                // Someone refreshed (or the session ended) meanwhile.
                return match (&current.header, &current.ended) {
                    (Some(_), _) => Ok(()),
                    (None, Some(ended)) => Err(ended.clone()),
                    (None, None) => Err(RefreshError::NotSignedIn),
                };
            }
            if early {
                current.early_tried = true;
            }
            current.refresh.clone()
        };
        if self.flights.load(Ordering::Acquire) != flights_seen {
            // The refresh this caller waited on failed in transport; share
            // its error rather than trying again at once.
            let failure = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
            return Err(failure.clone().unwrap_or(RefreshError::NotSignedIn));
        }

        tracing::debug!(early, "refresh started");
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let outcome = self.call.run(&self.client, refresh).await;
        let applied = self.apply(failed, &outcome);
        self.flights.fetch_add(1, Ordering::Release);
        match applied {
            Some(()) => outcome.map(|_| ()),
            // A login or logout happened while the refresh was out: its
            // tokens win, and the refresh's answer is dropped.
            None => match self.token().1 {
                Some(_) => Ok(()),
                None => Err(RefreshError::NotSignedIn),
            },
        }
    }

    /// Applies a refresh's outcome if the tokens it was for are still the
    /// current ones; returns `None` when they have been replaced meanwhile.
    fn apply(&self, failed: u64, outcome: &Result<Tokens, RefreshError>) -> Option<()> {
        let dropped = || {
            tracing::debug!("refresh answer dropped: the tokens changed meanwhile");
            None
        };
        match outcome {
            Ok(tokens) => {
                if !self.replace_if(Some(failed), Some(tokens), None) {
                    return dropped();
                }
                tracing::debug!("refresh succeeded");
                self.store.save(Some(tokens));
            }
            Err(err) if err.session_ended() => {
                if !self.replace_if(Some(failed), None, Some(err.clone())) {
                    return dropped();
                }
                tracing::debug!(error = %err, "refresh refused: session ended");
                self.store.save(None);
                if let Some(callback) = &self.on_expired {
                    callback();
                }
            }
            Err(_) if self.token().0 != failed => return dropped(),
            Err(err) => {
                tracing::debug!(error = %err, "refresh failed; tokens kept");
                let mut failure = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
                *failure = Some(err.clone());
            }
        }
        Some(())
    }
}

#[async_trait::async_trait]
impl Middleware for RefreshMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let shared = &*self.shared;
        if !shared.covers(request.url()) || request.headers().contains_key(AUTHORIZATION) {
            return next.run(request, extensions).await;
        }
        let skip = extensions.get::<SkipRefresh>().is_some();

        // A failed early refresh is not fatal, since the token may still be
        // good for a while; but the same request does not try again on 401.
        let mut early_failure = None;
        if !skip && let Some(generation) = shared.due() {
            match shared.refresh(generation, true).await {
                Err(err) if err.session_ended() => {
                    return Err(reqwest_middleware::Error::middleware(err));
                }
                Err(err) => early_failure = Some((generation, err)),
                Ok(()) => {}
            }
        }

        let (generation, header) = shared.token();
        let Some(header) = header else {
            return next.run(request, extensions).await;
        };
        let retry = if skip { None } else { request.try_clone() };
        request.headers_mut().insert(AUTHORIZATION, header);
        tracing::debug!("access token attached");

        let response = next.clone().run(request, extensions).await?;
        let Some(mut retry) = retry.filter(|_| response.status() == StatusCode::UNAUTHORIZED)
        else {
            return Ok(response);
        };

        if let Some((failed, err)) = early_failure
            && failed == generation
        {
            return Err(reqwest_middleware::Error::middleware(err));
        }
        shared
            .refresh(generation, false)
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        let (_, header) = shared.token();
        let Some(header) = header else {
            return Err(reqwest_middleware::Error::middleware(
                RefreshError::NotSignedIn,
            ));
        };
        retry.headers_mut().insert(AUTHORIZATION, header);
        tracing::debug!("retrying with the new access token");
        next.run(retry, extensions).await
    }
}

fn same_host(a: &url::Host<&str>, b: &url::Host<String>) -> bool {
    match (a, b) {
        (url::Host::Domain(a), url::Host::Domain(b)) => a.eq_ignore_ascii_case(b),
        (url::Host::Ipv4(a), url::Host::Ipv4(b)) => a == b,
        (url::Host::Ipv6(a), url::Host::Ipv6(b)) => a == b,
        _ => false,
    }
}

fn bearer(access: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::try_from(format!("Bearer {access}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl fmt::Debug for RefreshMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.shared;
        let current = shared.current.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("RefreshMiddleware")
            .field("call", &shared.call)
            .field("signed_in", &current.header.is_some())
            .field("generation", &current.generation)
            .field("refreshes", &shared.refreshes.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("refresh_url", &Redacted(&self.refresh_url))
            .field("cookie", &self.cookie)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}
