//! The claims carried by access and refresh tokens.

use serde::{Deserialize, Serialize};

/// The claims of a verified access token: the registered claims this crate
/// sets and checks, plus the application's own claims in `extra`.
///
/// `extra` is flattened into the token's payload, so its field names must
/// not clash with the registered ones.
///
/// # Example
///
/// ```
/// use auth_layer::AccessClaims;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Roles {
///     roles: Vec<String>,
/// }
///
/// fn is_admin(claims: &AccessClaims<Roles>) -> bool {
///     claims.extra.roles.iter().any(|r| r == "admin")
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims<C = NoClaims> {
    /// Issuer.
    pub iss: String,
    /// Audience: one value or several.
    #[serde(with = "one_or_many")]
    pub aud: Vec<String>,
    /// Subject: the user id.
    pub sub: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The token's unique id, by which it can be revoked alone.
    pub jti: String,
    /// The session this token belongs to.
    pub sid: String,
    /// The application's own claims.
    #[serde(flatten)]
    pub extra: C,
}

/// The claims of a verified refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: i64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before, seconds since the Unix epoch, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The token's unique id; rotation tracks it.
    pub jti: String,
    /// The session this token belongs to.
    pub sid: String,
}

/// The claim type for applications that add no claims of their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoClaims {}

/// Claims both token kinds share, for the checks common to both.
pub(crate) trait Registered {
    fn iss(&self) -> &str;
    fn aud(&self) -> Option<&[String]>;
    fn iat(&self) -> i64;
    fn exp(&self) -> i64;
    fn nbf(&self) -> Option<i64>;
}

impl<C> Registered for AccessClaims<C> {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn aud(&self) -> Option<&[String]> {
        Some(&self.aud)
    }
    fn iat(&self) -> i64 {
        self.iat
    }
    fn exp(&self) -> i64 {
        self.exp
    }
    fn nbf(&self) -> Option<i64> {
        self.nbf
    }
}

impl Registered for RefreshClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn aud(&self) -> Option<&[String]> {
        None
    }
    fn iat(&self) -> i64 {
        self.iat
    }
    fn exp(&self) -> i64 {
        self.exp
    }
    fn nbf(&self) -> Option<i64> {
        self.nbf
    }
}

/// `aud` is a string or an array of strings (RFC 7519, section 4.1.3); a
/// single audience is written as a string.
mod one_or_many {
    use std::fmt;

    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(aud: &[String], s: S) -> Result<S::Ok, S::Error> {
        match aud {
            [one] => s.serialize_str(one),
            many => s.collect_seq(many),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(OneOrMany)
    }

    struct OneOrMany;

    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(one) = seq.next_element::<String>()? {
                all.push(one);
            }
            Ok(all)
        }
    }
}
