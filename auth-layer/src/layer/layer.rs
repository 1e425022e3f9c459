use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Response};
use http_body_util::Full;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::bearer::{Bearer, bearer};
use super::{Auth, JsonRejection, Rejection, RejectionKind, RenderRejection, RevocationCheck};
use crate::claims::{AccessClaims, NoClaims};
use crate::token::{AccessVerifier, TokenError};

/// A Tower layer that lets a request through only with a valid access
/// token, and puts the token's [`AccessClaims<C>`] into the request's
/// extensions for the inner service.
///
/// # Example
///
/// ```
/// use auth_layer::{AuthLayer, Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
///
/// let issuer = TokenIssuer::new(
///     KeySet::new(Key::hs256("access-1", b"access secret, at least 32 bytes!!")?)?,
///     KeySet::new(Key::hs256("refresh-1", b"refresh secret, at least 32 bytes!")?)?,
///     TokenConfig::new("https://auth.example.com", "api"),
/// )?;
/// let layer = AuthLayer::new(issuer.access_verifier::<NoClaims>()).realm("example");
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AuthLayer<C = NoClaims> {
    shared: Arc<Shared<C>>,
}

pub(crate) struct Shared<C> {
    verifier: AccessVerifier<C>,
    pub(crate) check: Option<Arc<dyn RevocationCheck>>,
    pub(crate) responder: Arc<Responder>,
}

/// Everything needed to answer a refused request, without the claim type.
pub(crate) struct Responder {
    realm: Arc<str>,
    render: Arc<dyn RenderRejection>,
}

impl<C> AuthLayer<C> {
    /// A layer that verifies tokens with `verifier`, in realm `"api"`, with
    /// the default JSON rejections and no revocation check.
    pub fn new(verifier: AccessVerifier<C>) -> Self {
        Self {
            shared: Arc::new(Shared {
                verifier,
                check: None,
                responder: Arc::new(Responder {
                    realm: Arc::from("api"),
                    render: Arc::new(JsonRejection),
                }),
            }),
        }
    }

    /// The realm named in `WWW-Authenticate` challenges (default `"api"`).
    /// Quotes, backslashes and control characters are removed.
    pub fn realm(self, realm: &str) -> Self {
        let realm: String = realm
            .chars()
            .filter(|c| (' '..='~').contains(c) && !matches!(c, '"' | '\\'))
            .collect();
        self.with_responder(|r| Responder {
            realm: realm.into(),
            render: Arc::clone(&r.render),
        })
    }

    /// Renders refused requests with `render` instead of the default JSON
    /// body. The status and the challenge header stay the layer's.
    pub fn render_rejections_with(self, render: impl RenderRejection) -> Self {
        self.with_responder(|r| Responder {
            realm: Arc::clone(&r.realm),
            render: Arc::new(render),
        })
    }

    /// Asks `check` whether each verified token has been revoked before
    /// letting its request through.
    pub fn revocation_check(self, check: Arc<dyn RevocationCheck>) -> Self {
        let shared = &self.shared;
        Self {
            shared: Arc::new(Shared {
                verifier: shared.verifier.clone(),
                check: Some(check),
                responder: Arc::clone(&shared.responder),
            }),
        }
    }

    fn with_responder(self, make: impl FnOnce(&Responder) -> Responder) -> Self {
        let shared = &self.shared;
        Self {
            shared: Arc::new(Shared {
                verifier: shared.verifier.clone(),
                check: shared.check.clone(),
                responder: Arc::new(make(&shared.responder)),
            }),
        }
    }
}

impl<C: DeserializeOwned> Shared<C> {
    /// Reads and verifies the bearer token.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<AccessClaims<C>, RejectionKind> {
        let token = match bearer(headers) {
            Bearer::Token(token) => token,
            Bearer::Missing => return Err(RejectionKind::Missing),
            Bearer::Invalid => {
                tracing::debug!(reason = "not a b64token", "access token refused");
                return Err(RejectionKind::InvalidToken);
            }
            Bearer::Malformed(why) => {
                tracing::debug!(reason = why, "request refused");
                return Err(RejectionKind::InvalidRequest(why));
            }
        };

        self.verifier.verify(token).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            match err {
                TokenError::Expired => RejectionKind::Expired,
                _ => RejectionKind::InvalidToken,
            }
        })
    }
}

impl Responder {
    pub(crate) fn reject(&self, kind: RejectionKind) -> Response<Full<Bytes>> {
        let rejection = Rejection::new(kind, Arc::clone(&self.realm));
        let mut response = self.render.render(&rejection);
        rejection.apply_headers(&mut response);
        response
    }
}

impl<S, C> Layer<S> for AuthLayer<C> {
    type Service = Auth<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth::from_shared(inner, Arc::clone(&self.shared))
    }
}

impl<C> Clone for AuthLayer<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> fmt::Debug for AuthLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("verifier", &self.shared.verifier)
            .field("realm", &self.shared.responder.realm)
            .field("revocation_check", &self.shared.check.is_some())
            .finish()
    }
}
