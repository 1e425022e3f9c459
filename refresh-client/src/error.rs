use std::sync::Arc;

use reqwest::StatusCode;

/// Why the middleware could not get a fresh access token.
///
/// Every request that waited on the same refresh gets a clone of the same
/// error. It reaches the caller inside
/// [`reqwest_middleware::Error::Middleware`]; [`RefreshError::find`] gets it
/// back out.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// The server refused the refresh (`400` or `401`): the session is over
    /// and the user must sign in again. The stored tokens were cleared.
    #[error("the session has ended (the refresh was refused with {status}); sign in again")]
    SessionEnded {
        /// The refresh endpoint's status.
        status: StatusCode,
    },
    /// There are no tokens: nobody signed in, or the session ended before.
    #[error("not signed in")]
    NotSignedIn,
    /// The refresh endpoint could not be reached or timed out. The tokens
    /// were kept; a later request may try again.
    #[error("the refresh request failed in transport; tokens kept")]
    Transport(#[source] Arc<reqwest::Error>),
    /// The refresh endpoint answered with a server error (`5xx`) or another
    /// unexpected status. The tokens were kept.
    #[error("the refresh endpoint answered {status}; tokens kept")]
    Server {
        /// The refresh endpoint's status.
        status: StatusCode,
    },
    /// The refresh endpoint answered `200` without a usable access token.
    #[error("the refresh response carried no access token")]
    InvalidResponse,
    /// An application-supplied refresh function failed.
    #[error("the refresh function failed: {0}")]
    Custom(Arc<str>),
}

impl RefreshError {
    /// Whether the user must sign in again.
    pub fn session_ended(&self) -> bool {
        matches!(self, Self::SessionEnded { .. } | Self::NotSignedIn)
    }

    /// The refresh error inside a middleware error, if that is what it is.
    pub fn find(error: &reqwest_middleware::Error) -> Option<&RefreshError> {
        match error {
            reqwest_middleware::Error::Middleware(inner) => inner.downcast_ref(),
            reqwest_middleware::Error::Reqwest(_) => None,
        }
    }
}
