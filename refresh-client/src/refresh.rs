//! The refresh call: what is sent to the refresh endpoint, and how its
//! answer is read.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::{RefreshError, Tokens};

/// The future an application's own refresh function returns.
pub type RefreshFuture = Pin<Box<dyn Future<Output = Result<Tokens, RefreshError>> + Send>>;

type RefreshFn = dyn Fn(Option<String>) -> RefreshFuture + Send + Sync;

/// How the middleware asks for new tokens.
#[derive(Clone)]
pub(crate) enum RefreshCall {
    /// `POST url` with `{"refreshToken": "..."}`.
    Json(Url),
    /// `POST url` with no body: the client's cookie store carries the
    /// HttpOnly refresh cookie.
    Cookie(Url),
    /// The application's own function, given the current refresh token.
    Custom(Arc<RefreshFn>),
}

/// A refresh or login response, in the original design's field names or
/// the OAuth ones.
#[derive(Deserialize)]
pub(crate) struct Answer {
    #[serde(rename = "accessToken", alias = "access_token")]
    pub(crate) access_token: Option<String>,
    #[serde(rename = "refreshToken", alias = "refresh_token")]
    pub(crate) refresh_token: Option<String>,
}

impl RefreshCall {
    pub(crate) fn custom<F, Fut>(refresh: F) -> Self
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Tokens, RefreshError>> + Send + 'static,
    {
        Self::Custom(Arc::new(move |token| Box::pin(refresh(token))))
    }

    /// Asks for new tokens with `refresh`, the current refresh token. A
    /// response without a new refresh token keeps `refresh`.
    pub(crate) async fn run(
        &self,
        client: &reqwest::Client,
        refresh: Option<String>,
    ) -> Result<Tokens, RefreshError> {
        let request = match self {
            Self::Custom(call) => return call(refresh).await,
            Self::Json(url) => {
                let Some(token) = &refresh else {
                    return Err(RefreshError::NotSignedIn);
                };
                client
                    .post(url.clone())
                    .json(&serde_json::json!({ "refreshToken": token }))
            }
            Self::Cookie(url) => client.post(url.clone()),
        };

        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED) {
            return Err(RefreshError::SessionEnded { status });
        }
        if !status.is_success() {
            return Err(RefreshError::Server { status });
        }
        let body = response.bytes().await.map_err(transport)?;
        let mut tokens = Tokens::from_json(&body).ok_or(RefreshError::InvalidResponse)?;
        if tokens.refresh.is_none() {
            tokens.refresh = refresh;
        }
        Ok(tokens)
    }
}

/// A transport error, without the URL (which may carry secrets in its
/// query).
fn transport(err: reqwest::Error) -> RefreshError {
    RefreshError::Transport(Arc::new(err.without_url()))
}

impl fmt::Debug for RefreshCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(url) => f.debug_tuple("Json").field(&Redacted(url)).finish(),
            Self::Cookie(url) => f.debug_tuple("Cookie").field(&Redacted(url)).finish(),
            Self::Custom(_) => f.write_str("Custom"),
        }
    }
}

/// A URL as `Debug` may show it: scheme, host, port and path, with any
/// user info, query or fragment replaced by `…`, since those may carry a
/// secret.
pub(crate) struct Redacted<'a>(pub(crate) &'a Url);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let userinfo = !url.username().is_empty() || url.password().is_some();
        let rest = url.query().is_some() || url.fragment().is_some();
        write!(f, "\"{}://", url.scheme())?;
        if userinfo {
            f.write_str("…@")?;
        }
        f.write_str(url.host_str().unwrap_or_default())?;
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())?;
        if rest {
            f.write_str("…")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_url_keeps_its_place_and_hides_what_may_be_secret() {
        let url = Url::parse("https://me:pw@auth.example:8443/api/refresh?key=k#f").unwrap();
        assert_eq!(
            format!("{:?}", Redacted(&url)),
            r#""https://…@auth.example:8443/api/refresh…""#
        );
        let plain = Url::parse("http://127.0.0.1:3000/api/refresh").unwrap();
        assert_eq!(
            format!("{:?}", Redacted(&plain)),
            r#""http://127.0.0.1:3000/api/refresh""#
        );
    }
}
