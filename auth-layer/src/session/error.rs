use bytes::Bytes;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use super::sessions::json_response;
use crate::store::StoreError;
use crate::token::TokenError;

/// Why a refresh was refused. Statuses and OAuth error codes are mapped
/// here, in [`RefreshError::status`] and [`RefreshError::error_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The request carried no refresh token where one is accepted.
    #[error("no refresh token was presented")]
    Missing,
    /// The body is not the JSON expected.
    #[error("the request body is not valid JSON with a refreshToken")]
    Malformed,
    /// The body is larger than allowed.
    #[error("the request body is too large")]
    TooLarge,
    /// The refresh token does not verify.
    #[error("the refresh token is invalid")]
    Invalid,
    /// The refresh token has expired.
    #[error("the refresh token expired")]
    Expired,
    /// The session is unknown, revoked or over, or the token was replaced
    /// (without rotation).
    #[error("the session has ended")]
    Revoked,
    /// An old refresh token came back: the session has been revoked.
    #[error("the refresh token was already used; the session has been revoked")]
    Reused,
    /// A request from another site tried to use the refresh cookie.
    #[error("cross-site requests may not use the refresh cookie")]
    CrossSite,
    /// The session store failed.
    #[error("the session store is unavailable")]
    Store(#[from] StoreError),
    /// Signing the new tokens failed.
    #[error("new tokens could not be issued")]
    Token(#[from] TokenError),
}

impl RefreshError {
    /// The HTTP status: `400` for every problem with the token or request,
    /// `403` for a cross-site cookie, `413` for a huge body, `503` when the
    /// store is down.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Token(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The OAuth error code (RFC 6749, section 5.2).
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::CrossSite | Self::TooLarge => "invalid_request",
            Self::Store(_) => "temporarily_unavailable",
            Self::Token(_) => "server_error",
            _ => "invalid_grant",
        }
    }

    /// Whether the client's session is over and it should sign in again.
    pub fn ends_session(&self) -> bool {
        self.status() == StatusCode::BAD_REQUEST
    }

    /// The response: the status and `{"error","error_description"}`.
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        let body = serde_json::json!({
            "error": self.error_code(),
            "error_description": self.to_string(),
        });
        json_response(self.status(), body.to_string())
    }
}

/// Why login or logout failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The application's claims do not serialize to a JSON object.
    #[error("the application's claims must serialize to a JSON object")]
    ClaimsNotAnObject,
    /// A token could not be issued, or the one presented is not valid.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The access token was revoked.
    #[error("the access token has been revoked")]
    Revoked,
    /// Revocations cannot be checked right now.
    #[error("the access token cannot be checked right now")]
    Unavailable,
    /// The session store failed.
    #[error("the session store is unavailable")]
    Store(#[from] StoreError),
}

impl SessionError {
    /// The HTTP status: `401` for an invalid token, `503` when the store is
    /// down, `500` otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Token(TokenError::Signing(_)) | Self::ClaimsNotAnObject => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Token(_) | Self::Revoked => StatusCode::UNAUTHORIZED,
            Self::Store(_) | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The response: the status and `{"error","error_description"}`, with
    /// a `WWW-Authenticate` challenge in `realm` for a `401`.
    pub fn to_response(&self, realm: &str) -> Response<Full<Bytes>> {
        let code = match self.status() {
            StatusCode::UNAUTHORIZED => "invalid_token",
            StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
            _ => "server_error",
        };
        let description = match self {
            Self::Token(err) if err.is_expired() => "the access token expired".to_owned(),
            Self::Token(_) => "the access token is invalid".to_owned(),
            other => other.to_string(),
        };
        let body = serde_json::json!({ "error": code, "error_description": description });
        let mut response = json_response(self.status(), body.to_string());
        if self.status() == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Bearer realm=\"{realm}\", error=\"invalid_token\", \
                 error_description=\"{description}\""
            );
            if let Ok(challenge) = HeaderValue::try_from(challenge) {
                response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            }
        }
        response
    }
}
