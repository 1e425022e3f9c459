use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// Why the layer refused a request, and how that maps to HTTP.
///
/// Status codes and `WWW-Authenticate` challenges (RFC 6750, section 3) are
/// decided here and nowhere else; a [`RenderRejection`] only chooses the
/// body and any extra headers.
#[derive(Clone)]
pub struct Rejection {
    kind: RejectionKind,
    realm: Arc<str>,
}

/// The kinds of rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No bearer token came with the request: `401` with a bare challenge.
    Missing,
    /// The request itself is malformed, such as two `Authorization`
    /// headers: `400 invalid_request`.
    InvalidRequest(&'static str),
    /// The token is not valid: `401 invalid_token`.
    InvalidToken,
    /// The token was valid but has expired: `401 invalid_token`.
    Expired,
    /// The token's session or the token itself was revoked:
    /// `401 invalid_token`.
    Revoked,
    /// Revocations could not be checked and the layer fails closed:
    /// `503 temporarily_unavailable`.
    Unavailable,
}

impl Rejection {
    pub(crate) fn new(kind: RejectionKind, realm: Arc<str>) -> Self {
        Self { kind, realm }
    }

    /// A rejection for a request that carried no token, in `realm`.
    pub fn missing(realm: &str) -> Self {
        Self::new(RejectionKind::Missing, realm.into())
    }

    /// What kind of rejection this is.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The OAuth error code, if the kind has one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self.kind {
            RejectionKind::Missing => None,
            RejectionKind::InvalidRequest(_) => Some("invalid_request"),
            RejectionKind::Unavailable => Some("temporarily_unavailable"),
            _ => Some("invalid_token"),
        }
    }

    /// A short human-readable description; it never quotes the token.
    pub fn description(&self) -> &'static str {
        match self.kind {
            RejectionKind::Missing => "an access token is required",
            RejectionKind::InvalidRequest(why) => why,
            RejectionKind::InvalidToken => "the access token is invalid",
            RejectionKind::Expired => "the access token expired",
            RejectionKind::Revoked => "the access token has been revoked",
            RejectionKind::Unavailable => "the access token cannot be checked right now",
        }
    }

    /// The `WWW-Authenticate` challenge, if the status calls for one.
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        if self.kind == RejectionKind::Unavailable {
            return None;
        }
        let mut challenge = format!("Bearer realm=\"{}\"", self.realm);
        if let Some(code) = self.error_code() {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                self.description()
            ));
        }
        HeaderValue::try_from(challenge).ok()
    }

    /// The default response: the status, the challenge, and a small JSON
    /// body that repeats the error.
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        let body = serde_json::json!({
            "error": self.error_code().unwrap_or("unauthorized"),
            "error_description": self.description(),
        });
        let mut response = Response::new(Full::from(body.to_string()));
        *response.status_mut() = self.status();
        self.apply_headers(&mut response);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }

    /// Sets the status and the headers this rejection requires on a
    /// response built elsewhere.
    pub fn apply_headers<B>(&self, response: &mut Response<B>) {
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        if let Some(challenge) = self.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("realm", &self.realm)
            .finish()
    }
}

/// Chooses the response the layer sends when it refuses a request: the one
/// place where an application changes the shape of its 401s.
///
/// Whatever the renderer returns, the layer then sets the status, the
/// `WWW-Authenticate` challenge and `Cache-Control: no-store` from the
/// [`Rejection`], so the protocol stays right.
///
/// # Example
///
/// ```
/// use auth_layer::{Rejection, RenderRejection};
/// use bytes::Bytes;
/// use http::Response;
/// use http_body_util::Full;
///
/// let plain_text = |rejection: &Rejection| {
///     Response::new(Full::new(Bytes::from(rejection.description())))
/// };
/// # fn takes(_: impl RenderRejection) {}
/// # takes(plain_text);
/// ```
pub trait RenderRejection: Send + Sync + 'static {
    /// The response for `rejection`.
    fn render(&self, rejection: &Rejection) -> Response<Full<Bytes>>;
}

impl<F> RenderRejection for F
where
    F: Fn(&Rejection) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    fn render(&self, rejection: &Rejection) -> Response<Full<Bytes>> {
        self(rejection)
    }
}

/// The default renderer: [`Rejection::to_response`].
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonRejection;

impl RenderRejection for JsonRejection {
    fn render(&self, rejection: &Rejection) -> Response<Full<Bytes>> {
        rejection.to_response()
    }
}
