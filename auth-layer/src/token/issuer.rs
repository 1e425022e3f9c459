use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::verifier::validate;
use super::{
    ACCESS_TOKEN_TYPE, AccessVerifier, IssuedToken, REFRESH_TOKEN_TYPE, TokenConfig, TokenError,
    TokenPair, jws,
};
use crate::claims::{AccessClaims, RefreshClaims};
use crate::clock::{Clock, SystemClock};
use crate::id::random_id;
use crate::keys::{KeyError, KeySet};

/// Signs token pairs and verifies refresh tokens.
///
/// Access and refresh tokens use separate key sets, so that neither can
/// stand in for the other even if a `typ` check were skipped. Cloning is
/// cheap.
///
/// # Example
///
/// ```
/// use auth_layer::{Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
///
/// let issuer = TokenIssuer::new(
///     KeySet::new(Key::hs256("access-1", b"access secret, at least 32 bytes!!")?)?,
///     KeySet::new(Key::hs256("refresh-1", b"refresh secret, at least 32 bytes!")?)?,
///     TokenConfig::new("https://auth.example.com", "api"),
/// )?;
///
/// let pair = issuer.issue_pair("user-42", "session-1", &NoClaims {})?;
/// let claims = issuer.access_verifier::<NoClaims>().verify(pair.access_token())?;
/// assert_eq!(claims.sub, "user-42");
/// assert_eq!(issuer.verify_refresh(pair.refresh_token())?.sid, "session-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    access: KeySet,
    refresh: KeySet,
    config: TokenConfig,
    clock: Arc<dyn Clock>,
}

impl TokenIssuer {
    /// An issuer signing access tokens with `access` and refresh tokens with
    /// `refresh`, on the system clock.
    ///
    /// # Errors
    ///
    /// [`KeyError::NoSigningKey`] when either set cannot sign, and
    /// [`KeyError::DuplicateKid`] when both sets share a key id (each token
    /// kind needs its own key).
    pub fn new(access: KeySet, refresh: KeySet, config: TokenConfig) -> Result<Self, KeyError> {
        Self::with_clock(access, refresh, config, Arc::new(SystemClock))
    }

    /// The same, with time from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`TokenIssuer::new`].
    pub fn with_clock(
        access: KeySet,
        refresh: KeySet,
        config: TokenConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, KeyError> {
        if access.signing_key().is_none() || refresh.signing_key().is_none() {
            return Err(KeyError::NoSigningKey);
        }
        if let Some(shared) = access.keys().find(|k| refresh.find(k.kid()).is_some()) {
            return Err(KeyError::DuplicateKid(shared.kid().to_owned()));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                access,
                refresh,
                config,
                clock,
            }),
        })
    }

    /// Issues an access token and a refresh token for `subject` in session
    /// `session_id`, with the application's own claims `extra`.
    ///
    /// # Errors
    ///
    /// [`TokenError::Signing`] when signing fails, and
    /// [`TokenError::InvalidClaims`] when `extra` does not serialize to a
    /// JSON object.
    pub fn issue_pair<C: Serialize>(
        &self,
        subject: &str,
        session_id: &str,
        extra: &C,
    ) -> Result<TokenPair, TokenError> {
        Ok(TokenPair {
            access: self.issue_access(subject, session_id, extra)?,
            refresh: self.issue_refresh(subject, session_id)?,
            expires_in: self.inner.config.access_ttl.as_secs(),
        })
    }

    /// Issues an access token alone, as a refresh without rotation does.
    ///
    /// # Errors
    ///
    /// As for [`TokenIssuer::issue_pair`].
    pub fn issue_access<C: Serialize>(
        &self,
        subject: &str,
        session_id: &str,
        extra: &C,
    ) -> Result<IssuedToken, TokenError> {
        let inner = &*self.inner;
        let iat = inner.clock.now();
        let claims = AccessClaims {
            iss: inner.config.issuer.clone(),
            aud: vec![inner.config.audience.clone()],
            sub: subject.to_owned(),
            iat,
            exp: expiry(iat, inner.config.access_ttl),
            nbf: None,
            jti: random_id(),
            sid: session_id.to_owned(),
            extra,
        };
        let key = inner.access.signing_key().ok_or(KeyError::NoSigningKey)?;
        Ok(IssuedToken {
            token: jws::encode(key, ACCESS_TOKEN_TYPE, &claims)?,
            jti: claims.jti,
            expires_at: claims.exp,
        })
    }

    /// Issues a refresh token alone.
    ///
    /// # Errors
    ///
    /// [`TokenError::Signing`] when signing fails.
    pub fn issue_refresh(
        &self,
        subject: &str,
        session_id: &str,
    ) -> Result<IssuedToken, TokenError> {
        let inner = &*self.inner;
        let iat = inner.clock.now();
        let claims = RefreshClaims {
            iss: inner.config.issuer.clone(),
            sub: subject.to_owned(),
            iat,
            exp: expiry(iat, inner.config.refresh_ttl),
            nbf: None,
            jti: random_id(),
            sid: session_id.to_owned(),
        };
        let key = inner.refresh.signing_key().ok_or(KeyError::NoSigningKey)?;
        Ok(IssuedToken {
            token: jws::encode(key, REFRESH_TOKEN_TYPE, &claims)?,
            jti: claims.jti,
            expires_at: claims.exp,
        })
    }

    /// Verifies a refresh token's signature, type, issuer and lifetime.
    /// Whether it is still the session's current one is the session store's
    /// question, not this one's.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] saying why the token was refused.
    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        let inner = &*self.inner;
        let claims: RefreshClaims = jws::decode(
            &inner.refresh,
            token,
            REFRESH_TOKEN_TYPE,
            inner.config.max_token_len,
        )?;
        validate(&claims, &inner.config, inner.clock.now())?;
        Ok(claims)
    }

    /// A verifier for this issuer's access tokens, sharing its keys, its
    /// configuration and its clock.
    pub fn access_verifier<C>(&self) -> AccessVerifier<C> {
        let inner = &*self.inner;
        AccessVerifier::with_clock(
            inner.access.clone(),
            inner.config.clone(),
            Arc::clone(&inner.clock),
        )
    }

    /// The configuration tokens are issued with.
    pub fn config(&self) -> &TokenConfig {
        &self.inner.config
    }

    /// The clock the issuer reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The access key set, for publishing its public keys as a JWKS.
    pub fn access_keys(&self) -> &KeySet {
        &self.inner.access
    }
}

fn expiry(iat: i64, ttl: std::time::Duration) -> i64 {
    iat.saturating_add(ttl.as_secs().min(i64::MAX as u64) as i64)
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("access_keys", &self.inner.access)
            .field("refresh_keys", &self.inner.refresh)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
