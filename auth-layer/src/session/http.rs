//! The refresh and logout endpoints as Tower services.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use serde::Deserialize;
use tower_service::Service;

use super::cookie::{is_cross_site, read_cookie};
use super::{RefreshError, Sessions};
use crate::layer::Rejection;
use crate::layer::bearer::{Bearer, bearer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future of the endpoint services.
pub type EndpointFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

/// The body of a refresh or logout request.
#[derive(Deserialize)]
struct TokenBody {
    #[serde(rename = "refreshToken", alias = "refresh_token")]
    refresh_token: Option<String>,
}

/// Where the refresh token of a request came from.
struct Presented {
    token: Option<String>,
    via_cookie: bool,
}

impl Sessions {
    /// `POST /api/refresh` as a Tower service: the refresh token from the
    /// JSON body `{"refreshToken": "..."}` or from the refresh cookie,
    /// whichever the configuration accepts (both by default).
    ///
    /// | outcome | status |
    /// | --- | --- |
    /// | rotated, or replayed inside the grace window | `200`, the pair JSON, a new cookie |
    /// | missing, invalid, expired, revoked or reused token | `400 invalid_grant`, cookie cleared |
    /// | the cookie, sent from another site | `403` |
    /// | the store is unreachable | `503` |
    pub fn refresh_service(&self) -> Endpoint {
        Endpoint::new(self.clone(), Kind::Refresh)
    }

    /// `POST /api/logout` as a Tower service: revokes the session named by
    /// the bearer access token and/or the refresh token (body or cookie),
    /// clears the cookie and answers `204`. A request that names no live
    /// session gets `204` too, since there is nothing left to end.
    pub fn logout_service(&self) -> Endpoint {
        Endpoint::new(self.clone(), Kind::Logout)
    }

    /// `POST /api/logout-all` as a Tower service: revokes every session of
    /// the user named by the valid bearer access token, clears the cookie
    /// and answers `204`; `401` without a valid access token.
    pub fn logout_all_service(&self) -> Endpoint {
        Endpoint::new(self.clone(), Kind::LogoutAll)
    }

    /// Answers a refresh request.
    pub async fn handle_refresh<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if request.method() != Method::POST {
            return method_not_allowed();
        }
        let (parts, body) = request.into_parts();
        let presented = match self.presented(&parts.headers, body).await {
            Ok(presented) => presented,
            Err(err) => return err.to_response(),
        };
        let Some(token) = presented.token else {
            return RefreshError::Missing.to_response();
        };
        if presented.via_cookie && is_cross_site(&parts.headers, &self.config().allowed_origins) {
            tracing::debug!("cross-site refresh with the cookie refused");
            return RefreshError::CrossSite.to_response();
        }

        match self.refresh(&token).await {
            Ok(grant) => self.refresh_response(&grant),
            Err(err) => {
                let mut response = err.to_response();
                if presented.via_cookie && err.ends_session() {
                    self.append_clear_cookies(&mut response);
                }
                response
            }
        }
    }

    /// Answers a logout request.
    pub async fn handle_logout<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if request.method() != Method::POST {
            return method_not_allowed();
        }
        let (parts, body) = request.into_parts();
        let access = match bearer(&parts.headers) {
            Bearer::Token(token) => Some(token.to_owned()),
            _ => None,
        };
        let presented = match self.presented(&parts.headers, body).await {
            Ok(presented) => presented,
            Err(err) => return err.to_response(),
        };
        if presented.via_cookie && is_cross_site(&parts.headers, &self.config().allowed_origins) {
            tracing::debug!("cross-site logout with the cookie refused");
            return RefreshError::CrossSite.to_response();
        }

        match self
            .logout(access.as_deref(), presented.token.as_deref())
            .await
        {
            Ok(_) => self.no_content(),
            Err(err) => err.to_response(&self.config().realm),
        }
    }

    /// Answers a "log out everywhere" request.
    pub async fn handle_logout_all<B>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        if request.method() != Method::POST {
            return method_not_allowed();
        }
        let Bearer::Token(token) = bearer(request.headers()) else {
            let realm = &self.config().realm;
            return Rejection::missing(realm).to_response();
        };
        match self.logout_all(token).await {
            Ok(_) => self.no_content(),
            Err(err) => err.to_response(&self.config().realm),
        }
    }

    /// Reads the refresh token from the body, else from the cookie.
    async fn presented<B>(&self, headers: &HeaderMap, body: B) -> Result<Presented, RefreshError>
    where
        B: Body + Send,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let config = self.config();
        let bytes = Limited::new(body, config.max_body)
            .collect()
            .await
            .map_err(|_| RefreshError::TooLarge)?
            .to_bytes();

        let json = bytes.trim_ascii();
        if config.body && !json.is_empty() {
            // serde would also take the fields, in order, from an array.
            if json.first() != Some(&b'{') {
                return Err(RefreshError::Malformed);
            }
            let body: TokenBody =
                serde_json::from_slice(json).map_err(|_| RefreshError::Malformed)?;
            if let Some(token) = body.refresh_token {
                return Ok(Presented {
                    token: Some(token),
                    via_cookie: false,
                });
            }
        }
        let cookie = config
            .cookie_source
            .then(|| read_cookie(headers, &config.cookie.name))
            .flatten();
        Ok(Presented {
            token: cookie.map(str::to_owned),
            via_cookie: cookie.is_some(),
        })
    }

    fn no_content(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        self.append_clear_cookies(&mut response);
        response
    }

    fn append_clear_cookies(&self, response: &mut Response<Full<Bytes>>) {
        if self.config().cookie_source {
            for cookie in self.clear_cookie_headers() {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
        }
    }
}

fn method_not_allowed() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Refresh,
    Logout,
    LogoutAll,
}

/// One of the ready-made endpoints: refresh, logout or logout-all. Made by
/// [`Sessions::refresh_service`], [`Sessions::logout_service`] and
/// [`Sessions::logout_all_service`].
#[derive(Clone, Debug)]
pub struct Endpoint {
    sessions: Sessions,
    kind: Kind,
}

impl Endpoint {
    fn new(sessions: Sessions, kind: Kind) -> Self {
        Self { sessions, kind }
    }
}

impl<B> Service<Request<B>> for Endpoint
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let sessions = self.sessions.clone();
        let kind = self.kind;
        Box::pin(async move {
            Ok(match kind {
                Kind::Refresh => sessions.handle_refresh(request).await,
                Kind::Logout => sessions.handle_logout(request).await,
                Kind::LogoutAll => sessions.handle_logout_all(request).await,
            })
        })
    }
}
