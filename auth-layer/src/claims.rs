//! The claims carried by access and refresh tokens.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The claims of a verified access token: the registered claims this crate
/// sets and checks, read through methods, plus the application's own
/// claims in [`extra`](AccessClaims::extra).
///
/// The application's claims sit beside the registered ones in the token's
/// payload, so their field names must not clash with `iss`, `aud`, `sub`,
/// `iat`, `exp`, `nbf`, `jti` or `sid`.
///
/// The layer builds one of these for every request it lets through, so the
/// registered strings share one allocation, and the issuer and audience
/// share the verifier's own copies.
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
#[derive(Clone, PartialEq, Eq)]
pub struct AccessClaims<C = NoClaims> {
    iss: Arc<str>,
    aud: Audience,
    /// `sub`, `jti` and `sid`, back to back.
    ids: Box<str>,
    sub_end: usize,
    jti_end: usize,
    iat: i64,
    exp: i64,
    nbf: Option<i64>,
    /// The application's own claims.
    pub extra: C,
}

/// The `aud` claim: one audience or several.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Audience {
    One(Arc<str>),
    Many(Vec<String>),
}

impl<C> AccessClaims<C> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        iss: Arc<str>,
        aud: AudienceBuilder,
        sub: &str,
        jti: &str,
        sid: &str,
        iat: i64,
        exp: i64,
        nbf: Option<i64>,
        extra: C,
    ) -> Self {
        let mut ids = String::with_capacity(sub.len() + jti.len() + sid.len());
        ids.push_str(sub);
        ids.push_str(jti);
        ids.push_str(sid);
        Self {
            iss,
            aud: aud.0,
            sub_end: sub.len(),
            jti_end: sub.len() + jti.len(),
            ids: ids.into_boxed_str(),
            iat,
            exp,
            nbf,
            extra,
        }
    }

    /// Issuer (`iss`).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// Audiences (`aud`).
    pub fn aud(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match &self.aud {
            Audience::One(one) => (Some(&**one), &[][..]),
            Audience::Many(many) => (None, &many[..]),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    /// Subject (`sub`): the user id.
    pub fn sub(&self) -> &str {
        &self.ids[..self.sub_end]
    }

    /// The token's unique id (`jti`), by which it can be revoked alone.
    pub fn jti(&self) -> &str {
        &self.ids[self.sub_end..self.jti_end]
    }

    /// The session this token belongs to (`sid`).
    pub fn sid(&self) -> &str {
        &self.ids[self.jti_end..]
    }

    /// Issued at (`iat`), seconds since the Unix epoch.
    pub fn iat(&self) -> i64 {
        self.iat
    }

    /// Expires at (`exp`), seconds since the Unix epoch.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// Not before (`nbf`), seconds since the Unix epoch, when present.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }
}

/// Collects the audiences of a token, sharing `expected` when the token
/// names just that one.
pub(crate) struct AudienceBuilder(Audience);

impl AudienceBuilder {
    pub(crate) fn one(aud: &str, expected: &Arc<str>) -> Self {
        let shared = if aud == &**expected {
            Arc::clone(expected)
        } else {
            Arc::from(aud)
        };
        Self(Audience::One(shared))
    }
}

impl<C: fmt::Debug> fmt::Debug for AccessClaims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessClaims")
            .field("iss", &self.iss())
            .field("aud", &self.aud().collect::<Vec<_>>())
            .field("sub", &self.sub())
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("nbf", &self.nbf)
            .field("jti", &self.jti())
            .field("sid", &self.sid())
            .field("extra", &self.extra)
            .finish()
    }
}

/// The payload of an access token as written: the registered claims and
/// the application's own, side by side.
#[derive(Serialize)]
pub(crate) struct AccessPayload<'a, C> {
    pub(crate) iss: &'a str,
    #[serde(serialize_with = "one_or_many::serialize")]
    pub(crate) aud: &'a [&'a str],
    pub(crate) sub: &'a str,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nbf: Option<i64>,
    pub(crate) jti: &'a str,
    pub(crate) sid: &'a str,
    #[serde(flatten)]
    pub(crate) extra: &'a C,
}

impl<C: Serialize> Serialize for AccessClaims<C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let aud: Vec<&str> = self.aud().collect();
        AccessPayload {
            iss: self.iss(),
            aud: &aud,
            sub: self.sub(),
            iat: self.iat,
            exp: self.exp,
            nbf: self.nbf,
            jti: self.jti(),
            sid: self.sid(),
            extra: &self.extra,
        }
        .serialize(s)
    }
}

/// Deserialized by hand rather than with `#[serde(flatten)]`, which would
/// buffer every field before sorting them out: registered claims are parsed
/// straight into their fields, and only the application's own fields are
/// gathered for `C`.
impl<'de, C: DeserializeOwned> Deserialize<'de> for AccessClaims<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AccessVisitor(PhantomData))
    }
}

struct AccessVisitor<C>(PhantomData<fn() -> C>);

impl<'de, C: DeserializeOwned> Visitor<'de> for AccessVisitor<C> {
    type Value = AccessClaims<C>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of access token claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut iss, mut aud, mut sub, mut iat, mut exp) = (None, None, None, None, None);
        let (mut nbf, mut jti, mut sid) = (None, None, None);
        let mut rest = serde_json::Map::new();

        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Iss => set(&mut iss, "iss", map.next_value::<String>()?)?,
                Field::Aud => set(&mut aud, "aud", map.next_value::<Audiences>()?.0)?,
                Field::Sub => set(&mut sub, "sub", map.next_value::<String>()?)?,
                Field::Iat => set(&mut iat, "iat", map.next_value()?)?,
                Field::Exp => set(&mut exp, "exp", map.next_value()?)?,
                Field::Nbf => set(&mut nbf, "nbf", map.next_value::<Option<i64>>()?)?,
                Field::Jti => set(&mut jti, "jti", map.next_value::<String>()?)?,
                Field::Sid => set(&mut sid, "sid", map.next_value::<String>()?)?,
                Field::Other(name) => {
                    let value = map.next_value::<serde_json::Value>()?;
                    if rest.insert(name, value).is_some() {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                }
            }
        }

        let extra = C::deserialize(serde_json::Value::Object(rest)).map_err(de::Error::custom)?;
        let iss: Arc<str> = iss.ok_or_else(|| de::Error::missing_field("iss"))?.into();
        let aud = aud.ok_or_else(|| de::Error::missing_field("aud"))?;
        let aud = match <[String; 1]>::try_from(aud) {
            Ok([one]) => Audience::One(one.into()),
            Err(many) => Audience::Many(many),
        };
        Ok(AccessClaims::assemble(
            iss,
            AudienceBuilder(aud),
            &sub.ok_or_else(|| de::Error::missing_field("sub"))?,
            &jti.ok_or_else(|| de::Error::missing_field("jti"))?,
            &sid.ok_or_else(|| de::Error::missing_field("sid"))?,
            iat.ok_or_else(|| de::Error::missing_field("iat"))?,
            exp.ok_or_else(|| de::Error::missing_field("exp"))?,
            nbf.flatten(),
            extra,
        ))
    }
}

/// A claim given twice is refused: which of the two a verifier would use
/// differs between parsers.
fn set<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(E::duplicate_field(name)),
    }
}

/// A claim name, matched without allocating for the registered ones.
enum Field {
    Iss,
    Aud,
    Sub,
    Iat,
    Exp,
    Nbf,
    Jti,
    Sid,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(FieldVisitor)
    }
}

struct FieldVisitor;

impl Visitor<'_> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claim name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
        Ok(match name {
            "iss" => Field::Iss,
            "aud" => Field::Aud,
            "sub" => Field::Sub,
            "iat" => Field::Iat,
            "exp" => Field::Exp,
            "nbf" => Field::Nbf,
            "jti" => Field::Jti,
            "sid" => Field::Sid,
            other => Field::Other(other.to_owned()),
        })
    }
}

struct Audiences(Vec<String>);

impl<'de> Deserialize<'de> for Audiences {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(one_or_many::OneOrMany).map(Audiences)
    }
}

/// The claims of a verified refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    fn has_audience(&self, audience: &str) -> Option<bool>;
    fn iat(&self) -> i64;
    fn exp(&self) -> i64;
    fn nbf(&self) -> Option<i64>;
}

impl<C> Registered for AccessClaims<C> {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn has_audience(&self, audience: &str) -> Option<bool> {
        Some(self.aud().any(|a| a == audience))
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
    fn has_audience(&self, _: &str) -> Option<bool> {
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

    use serde::Serializer;
    use serde::de::{self, SeqAccess, Visitor};

    pub(crate) fn serialize<S: Serializer>(aud: &&[&str], s: S) -> Result<S::Ok, S::Error> {
        match aud {
            [one] => s.serialize_str(one),
            many => s.collect_seq(many.iter()),
        }
    }

    pub(crate) struct OneOrMany;

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
