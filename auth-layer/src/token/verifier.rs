use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::de::value::MapDeserializer;
use serde::de::{self, DeserializeOwned};

use super::jws::{self, Kind};
use super::{TokenConfig, TokenError, flat};
use crate::claims::{AccessClaims, AudienceBuilder, NoClaims, Registered};
use crate::clock::{Clock, SystemClock};
use crate::keys::KeySet;

/// Verifies access tokens: signature, `typ`, `iss`, `aud`, `exp`, `nbf` and
/// `iat`, with the configured leeway.
///
/// Cloning is cheap; clones share keys, configuration and clock.
///
/// # Example
///
/// A resource server that holds only the issuer's public key:
///
/// ```
/// use auth_layer::{AccessVerifier, Algorithm, Key, KeySet, TokenConfig, TokenError};
///
/// let public = "-----BEGIN PUBLIC KEY-----
/// MCowBQYDK2VwAyEAo2Pa91fFpG0YMgoLCCtM1Nkk3aCExx50DniRU/jkfSw=
/// -----END PUBLIC KEY-----";
/// let keys = KeySet::verify_only([Key::from_pem("ed-1", Algorithm::EdDSA, public)?])?;
/// let verifier: AccessVerifier = AccessVerifier::new(keys, TokenConfig::new("auth", "api"));
/// assert!(matches!(verifier.verify("not.a.token"), Err(TokenError::Malformed)));
/// # Ok::<(), auth_layer::KeyError>(())
/// ```
pub struct AccessVerifier<C = NoClaims> {
    inner: Arc<Inner>,
    _claims: PhantomData<fn() -> C>,
}

struct Inner {
    /// Swapped whole when keys rotate; shared with the issuer that made
    /// this verifier, so a rotation there reaches every verifier at once.
    keys: Arc<ArcSwap<KeySet>>,
    config: TokenConfig,
    clock: Arc<dyn Clock>,
}

impl<C> AccessVerifier<C> {
    /// A verifier for tokens signed by `keys`, checked against `config`,
    /// on the system clock.
    pub fn new(keys: KeySet, config: TokenConfig) -> Self {
        Self::with_clock(keys, config, Arc::new(SystemClock))
    }

    /// The same, with time from `clock`.
    pub fn with_clock(keys: KeySet, config: TokenConfig, clock: Arc<dyn Clock>) -> Self {
        Self::sharing(Arc::new(ArcSwap::from_pointee(keys)), config, clock)
    }

    pub(crate) fn sharing(
        keys: Arc<ArcSwap<KeySet>>,
        config: TokenConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                keys,
                config,
                clock,
            }),
            _claims: PhantomData,
        }
    }

    /// Replaces the keys tokens are verified with, for every clone of this
    /// verifier, without disturbing requests under way.
    pub fn set_keys(&self, keys: KeySet) {
        self.inner.keys.store(Arc::new(keys));
    }

    /// The configuration tokens are checked against.
    pub fn config(&self) -> &TokenConfig {
        &self.inner.config
    }

    /// The clock the verifier reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }
}

impl<C: DeserializeOwned> AccessVerifier<C> {
    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] saying why the token was refused;
    /// [`TokenError::is_expired`] tells an expired token from an invalid one.
    pub fn verify(&self, token: &str) -> Result<AccessClaims<C>, TokenError> {
        let claims = self.verify_signed(token)?;
        validate(&claims, &self.inner.config, self.inner.clock.now())?;
        Ok(claims)
    }

    /// Verifies everything but `exp`, `nbf` and `iat`: enough to know who
    /// sent a token, as logout needs even after the token has expired.
    pub(crate) fn verify_identity(&self, token: &str) -> Result<AccessClaims<C>, TokenError> {
        let claims = self.verify_signed(token)?;
        validate(&claims, &self.inner.config, claims.iat())?;
        Ok(claims)
    }

    fn verify_signed(&self, token: &str) -> Result<AccessClaims<C>, TokenError> {
        let inner = &*self.inner;
        jws::decode(
            &inner.keys.load(),
            token,
            Kind::Access,
            inner.config.max_token_len,
            |json| read_claims(json, &inner.config),
        )
    }
}

/// Reads access claims with the fast reader where the payload allows,
/// and with `serde_json` otherwise.
fn read_claims<C: DeserializeOwned>(
    json: &[u8],
    config: &TokenConfig,
) -> Result<AccessClaims<C>, TokenError> {
    let Some(flat) = flat::read(json) else {
        return jws::parse_claims(json);
    };
    // The payload held no claims of the application's, so `C` is read from
    // an empty object: `NoClaims` succeeds, a type with required fields
    // fails as it would have with `serde_json`.
    let no_fields = MapDeserializer::<_, de::value::Error>::new(std::iter::empty::<((), ())>());
    let extra = C::deserialize(no_fields).map_err(|_| TokenError::InvalidClaims)?;
    let iss = if flat.iss == &*config.issuer {
        Arc::clone(&config.issuer)
    } else {
        Arc::from(flat.iss)
    };
    Ok(AccessClaims::assemble(
        iss,
        AudienceBuilder::one(flat.aud, &config.audience),
        flat.sub,
        flat.jti,
        flat.sid,
        flat.iat,
        flat.exp,
        flat.nbf,
        extra,
    ))
}

/// Checks the registered claims of a token whose signature has verified.
///
/// Issuer and audience come before time, so that "expired" is only ever
/// said of a token that is otherwise ours.
pub(crate) fn validate(
    claims: &impl Registered,
    config: &TokenConfig,
    now: i64,
) -> Result<(), TokenError> {
    if claims.iss() != &*config.issuer {
        return Err(TokenError::WrongIssuer);
    }
    if claims.has_audience(&config.audience) == Some(false) {
        return Err(TokenError::WrongAudience);
    }

    let leeway = config.leeway;
    let not_before = claims.nbf().unwrap_or(i64::MIN).max(claims.iat());
    if not_before > now.saturating_add(leeway) {
        return Err(TokenError::NotYetValid);
    }
    if now >= claims.exp().saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    Ok(())
}

impl<C> Clone for AccessVerifier<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for AccessVerifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessVerifier")
            .field("keys", &**self.inner.keys.load())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
