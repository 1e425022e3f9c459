//! The client side: a clock the test moves, the middleware wired to a mock
//! API, and requests sent together with their outcomes tallied.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use refresh_client::{Builder, RefreshError, RefreshMiddleware};
use reqwest::StatusCode;
use reqwest_middleware::ClientWithMiddleware;
use tokio::task::JoinSet;

use super::{ISSUED_AT, MockApi};

/// The bound on every request the tests send.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What one request came back with: its status and body, or the error.
pub type Outcome = Result<(StatusCode, String), reqwest_middleware::Error>;

/// Seconds since the epoch, moved only by the test. Clones share the time.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The clock as the middleware's clock function.
    pub fn source(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let now = self.0.clone();
        move || now.load(Ordering::SeqCst)
    }
}

/// Counts the calls of a callback, such as the session-expired one.
#[derive(Clone, Default)]
pub struct CallCounter(Arc<AtomicUsize>);

impl CallCounter {
    pub fn callback(&self) -> impl Fn() + Send + Sync + 'static {
        let calls = self.0.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A plain client whose every request is bounded by [`TIMEOUT`].
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("build a reqwest client")
}

/// A builder that refreshes at `api`, with a bounded refresh client and a
/// clock stopped at the moment the API issues its tokens.
pub fn middleware(api: &MockApi) -> Builder {
    middleware_refreshing_at(api, &api.refresh_url())
}

/// Like [`middleware`], but the refresh goes to `refresh_url`; tokens are
/// still attached for `api`.
pub fn middleware_refreshing_at(api: &MockApi, refresh_url: &str) -> Builder {
    RefreshMiddleware::builder(refresh_url)
        .expect("the refresh URL parses")
        .origin(&api.origin())
        .expect("the API's origin parses")
        .client(http())
        .clock(ManualClock::at(ISSUED_AT).source())
}

pub fn with_middleware(auth: &RefreshMiddleware) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(http())
        .with(auth.clone())
        .build()
}

pub async fn send(client: &ClientWithMiddleware, url: &str) -> Outcome {
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.text().await?;
    Ok((status, body))
}

/// Sends `count` requests for `url` at once and returns every outcome.
pub async fn send_together(client: &ClientWithMiddleware, url: &str, count: usize) -> Vec<Outcome> {
    let mut requests = JoinSet::new();
    for _ in 0..count {
        let (client, url) = (client.clone(), url.to_owned());
        requests.spawn(async move { send(&client, &url).await });
    }
    requests.join_all().await
}

/// How many outcomes of each kind, by [`label`].
pub fn tally(outcomes: &[Outcome]) -> BTreeMap<String, usize> {
    let mut tally = BTreeMap::new();
    for outcome in outcomes {
        *tally.entry(label(outcome)).or_default() += 1;
    }
    tally
}

/// An expected tally, written as `counts(&[("200", 100)])`.
pub fn counts(expected: &[(&str, usize)]) -> BTreeMap<String, usize> {
    let known = expected.iter().map(|(label, n)| (label.to_string(), *n));
    known.collect()
}

/// `"200"`, `"401"`, `"session ended (400)"`, `"server error (500)"`,
/// `"transport"`, `"not signed in"`, ...
fn label(outcome: &Outcome) -> String {
    let error = match outcome {
        Ok((status, _)) => return status.as_str().to_owned(),
        Err(error) => error,
    };
    match RefreshError::find(error) {
        Some(RefreshError::SessionEnded { status }) => {
            format!("session ended ({})", status.as_u16())
        }
        Some(RefreshError::Server { status }) => format!("server error ({})", status.as_u16()),
        Some(RefreshError::Transport(_)) => "transport".to_owned(),
        Some(RefreshError::NotSignedIn) => "not signed in".to_owned(),
        Some(RefreshError::InvalidResponse) => "invalid response".to_owned(),
        Some(RefreshError::Custom(message)) => format!("custom: {message}"),
        Some(other) => format!("refresh error: {other}"),
        None => format!("other error: {error}"),
    }
}
