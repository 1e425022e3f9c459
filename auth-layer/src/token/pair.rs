use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// One signed token with the facts a session store needs about it.
///
/// `Debug` leaves the token text out.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub(crate) token: String,
    pub(crate) jti: String,
    pub(crate) expires_at: i64,
}

impl IssuedToken {
    /// The token text, to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The token's unique id (`jti`).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// When the token expires, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// The token text, consuming the value.
    pub fn into_string(self) -> String {
        self.token
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// An access token and a refresh token issued together.
///
/// It serializes as the JSON the login and refresh endpoints answer with:
/// `{"accessToken","refreshToken","tokenType":"Bearer","expiresIn"}`, where
/// `expiresIn` is the access token's lifetime in seconds. `Debug` leaves the
/// token texts out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPair {
    /// The short-lived access token.
    pub access: IssuedToken,
    /// The long-lived refresh token.
    pub refresh: IssuedToken,
    pub(crate) expires_in: u64,
}

impl TokenPair {
    /// The access token text.
    pub fn access_token(&self) -> &str {
        self.access.as_str()
    }

    /// The refresh token text.
    pub fn refresh_token(&self) -> &str {
        self.refresh.as_str()
    }

    /// The access token's lifetime in seconds.
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// The pair as the JSON body of a login or refresh response.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for TokenPair {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut json = s.serialize_struct("TokenPair", 4)?;
        json.serialize_field("accessToken", self.access_token())?;
        json.serialize_field("refreshToken", self.refresh_token())?;
        json.serialize_field("tokenType", "Bearer")?;
        json.serialize_field("expiresIn", &self.expires_in)?;
        json.end()
    }
}
