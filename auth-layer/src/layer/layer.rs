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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
    use http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::layer::{Check, TokenRef, Verdict};
    use crate::{Key, KeySet, ManualClock, TokenConfig, TokenIssuer};

    fn issuer() -> TokenIssuer {
        let keys = |kid: &str| {
            KeySet::new(Key::hs256(kid, format!("{kid}: a secret of thirty-two bytes!")).unwrap())
                .unwrap()
        };
        let clock = Arc::new(ManualClock::new(1_000_000));
        TokenIssuer::with_clock(keys("a"), keys("r"), TokenConfig::new("i", "a"), clock).unwrap()
    }

    /// Sends one request through `layer` to a service that counts its calls
    /// and echoes the subject it found in the extensions.
    async fn send(
        layer: AuthLayer,
        token: Option<&str>,
    ) -> (StatusCode, Option<String>, String, usize) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let inner = service_fn(move |request: Request<()>| {
            counted.fetch_add(1, Ordering::SeqCst);
            let sub = request
                .extensions()
                .get::<AccessClaims>()
                .unwrap()
                .sub()
                .to_owned();
            async move { Ok::<_, Infallible>(Response::new(Full::from(sub))) }
        });

        let mut request = Request::new(());
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().unwrap();
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let response = layer.layer(inner).oneshot(request).await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        (status, challenge, body, calls.load(Ordering::SeqCst))
    }

    struct Fixed(Verdict, bool);

    impl RevocationCheck for Fixed {
        fn check(&self, _: TokenRef<'_>) -> Check {
            let verdict = self.0;
            if self.1 {
                Check::Pending(Box::pin(async move { verdict }))
            } else {
                Check::Ready(verdict)
            }
        }
    }

    #[tokio::test]
    async fn a_valid_token_reaches_the_inner_service_with_its_claims() {
        let issuer = issuer();
        let token = issuer.issue_access("alice", "s", &NoClaims {}).unwrap();
        let layer = AuthLayer::new(issuer.access_verifier());
        let (status, _, body, calls) = send(layer, Some(token.as_str())).await;
        assert_eq!((status, body.as_str(), calls), (StatusCode::OK, "alice", 1));
    }

    #[tokio::test]
    async fn a_missing_token_never_reaches_the_inner_service() {
        let layer = AuthLayer::new(issuer().access_verifier()).realm("shop \"x\"");
        let (status, challenge, _, calls) = send(layer, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"shop x\""));
        assert_eq!(calls, 0);
    }

    #[tokio::test]
    async fn revoked_tokens_are_refused_whether_the_check_is_ready_or_pending() {
        let issuer = issuer();
        let token = issuer.issue_access("alice", "s", &NoClaims {}).unwrap();
        for pending in [false, true] {
            let check = Arc::new(Fixed(Verdict::Revoked, pending));
            let layer = AuthLayer::new(issuer.access_verifier()).revocation_check(check);
            let (status, challenge, body, calls) = send(layer, Some(token.as_str())).await;
            assert_eq!((status, calls), (StatusCode::UNAUTHORIZED, 0));
            assert!(challenge.unwrap().contains("error=\"invalid_token\""));
            assert!(body.contains("revoked"));
        }
    }

    #[tokio::test]
    async fn a_pending_check_that_passes_calls_the_inner_service() {
        let issuer = issuer();
        let token = issuer.issue_access("alice", "s", &NoClaims {}).unwrap();
        let check = Arc::new(Fixed(Verdict::Valid, true));
        let layer = AuthLayer::new(issuer.access_verifier()).revocation_check(check);
        let (status, _, body, calls) = send(layer, Some(token.as_str())).await;
        assert_eq!((status, body.as_str(), calls), (StatusCode::OK, "alice", 1));
    }

    #[tokio::test]
    async fn an_unavailable_check_fails_closed_with_503() {
        let issuer = issuer();
        let token = issuer.issue_access("alice", "s", &NoClaims {}).unwrap();
        let check = Arc::new(Fixed(Verdict::Unavailable, false));
        let layer = AuthLayer::new(issuer.access_verifier()).revocation_check(check);
        let (status, challenge, _, calls) = send(layer, Some(token.as_str())).await;
        assert_eq!(
            (status, challenge, calls),
            (StatusCode::SERVICE_UNAVAILABLE, None, 0)
        );
    }

    #[tokio::test]
    async fn a_custom_renderer_keeps_the_status_and_challenge() {
        let render = |r: &Rejection| {
            let mut response = Response::new(Full::from(format!("nope: {}", r.description())));
            *response.status_mut() = StatusCode::IM_A_TEAPOT;
            response
        };
        let layer = AuthLayer::new(issuer().access_verifier()).render_rejections_with(render);
        let (status, challenge, body, _) = send(layer, Some("a.b.c")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(challenge.unwrap().contains("invalid_token"));
        assert_eq!(body, "nope: the access token is invalid");
    }
}
