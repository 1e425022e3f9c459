use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

use super::jws::{self, Kind};
use super::verifier::validate;
use super::{AccessVerifier, IssuedToken, TokenConfig, TokenError, TokenPair};
use crate::claims::{AccessPayload, RefreshClaims};
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
/// assert_eq!(claims.sub(), "user-42");
/// assert_eq!(issuer.verify_refresh(pair.refresh_token())?.sid, "session-1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    access: Arc<ArcSwap<KeySet>>,
    refresh: ArcSwap<KeySet>,
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
        check_pair(&access, &refresh)?;
        Ok(Self {
            inner: Arc::new(Inner {
                access: Arc::new(ArcSwap::from_pointee(access)),
                refresh: ArcSwap::from_pointee(refresh),
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
        let jti = random_id();
        let claims = AccessPayload {
            iss: &inner.config.issuer,
            aud: &[&inner.config.audience],
            sub: subject,
            iat,
            exp: expiry(iat, inner.config.access_ttl),
            nbf: None,
            jti: &jti,
            sid: session_id,
            extra,
        };
        let keys = inner.access.load();
        let key = keys.signing_key().ok_or(KeyError::NoSigningKey)?;
        Ok(IssuedToken {
            token: jws::encode(key, Kind::Access, &claims)?,
            expires_at: claims.exp,
            jti,
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
            iss: inner.config.issuer.to_string(),
            sub: subject.to_owned(),
            iat,
            exp: expiry(iat, inner.config.refresh_ttl),
            nbf: None,
            jti: random_id(),
            sid: session_id.to_owned(),
        };
        let keys = inner.refresh.load();
        let key = keys.signing_key().ok_or(KeyError::NoSigningKey)?;
        Ok(IssuedToken {
            token: jws::encode(key, Kind::Refresh, &claims)?,
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
            &inner.refresh.load(),
            token,
            Kind::Refresh,
            inner.config.max_token_len,
            jws::parse_claims,
        )?;
        validate(&claims, &inner.config, inner.clock.now())?;
        Ok(claims)
    }

    /// A verifier for this issuer's access tokens, sharing its keys, its
    /// configuration and its clock.
    pub fn access_verifier<C>(&self) -> AccessVerifier<C> {
        let inner = &*self.inner;
        AccessVerifier::sharing(
            Arc::clone(&inner.access),
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
    pub fn access_keys(&self) -> Arc<KeySet> {
        self.inner.access.load_full()
    }

    /// Rotates the access keys: from now on tokens are signed with the new
    /// set's signing key, and this issuer and every verifier it made check
    /// tokens against the new set. Requests under way are not disturbed.
    ///
    /// To rotate without signing anyone out, keep the old key in the new set
    /// as a verify-only key until the last token it signed has expired
    /// (the access lifetime plus the leeway), then drop it with a second
    /// call.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_layer::{Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
    ///
    /// let old = Key::hs256("access-1", b"access secret, at least 32 bytes!!")?;
    /// let issuer = TokenIssuer::new(
    ///     KeySet::new(old.clone())?,
    ///     KeySet::new(Key::hs256("refresh-1", b"refresh secret, at least 32 bytes!")?)?,
    ///     TokenConfig::new("https://auth.example.com", "api"),
    /// )?;
    /// let before = issuer.issue_access("alice", "s1", &NoClaims {})?;
    ///
    /// let new = Key::hs256("access-2", b"the next access secret, 32 bytes!!")?;
    /// issuer.set_access_keys(KeySet::new(new)?.with_verify_key(old)?)?;
    /// assert!(issuer.access_verifier::<NoClaims>().verify(before.as_str()).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`TokenIssuer::new`]: the set needs a signing key and may not
    /// share a key id with the refresh keys.
    pub fn set_access_keys(&self, keys: KeySet) -> Result<(), KeyError> {
        check_pair(&keys, &self.inner.refresh.load())?;
        self.inner.access.store(Arc::new(keys));
        Ok(())
    }

    /// Rotates the refresh keys, as [`TokenIssuer::set_access_keys`] does
    /// for access keys.
    ///
    /// # Errors
    ///
    /// As for [`TokenIssuer::new`].
    pub fn set_refresh_keys(&self, keys: KeySet) -> Result<(), KeyError> {
        check_pair(&self.inner.access.load(), &keys)?;
        self.inner.refresh.store(Arc::new(keys));
        Ok(())
    }
}

/// Both sets must sign, and each token kind needs its own keys.
fn check_pair(access: &KeySet, refresh: &KeySet) -> Result<(), KeyError> {
    if access.signing_key().is_none() || refresh.signing_key().is_none() {
        return Err(KeyError::NoSigningKey);
    }
    if let Some(shared) = access.keys().find(|k| refresh.find(k.kid()).is_some()) {
        return Err(KeyError::DuplicateKid(shared.kid().to_owned()));
    }
    Ok(())
}

fn expiry(iat: i64, ttl: std::time::Duration) -> i64 {
    iat.saturating_add(ttl.as_secs().min(i64::MAX as u64) as i64)
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("access_keys", &**self.inner.access.load())
            .field("refresh_keys", &**self.inner.refresh.load())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::claims::NoClaims;
    use crate::clock::ManualClock;
    use crate::keys::Key;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Roles {
        roles: Vec<String>,
    }

    fn keys(kid: &str) -> KeySet {
        KeySet::new(
            Key::hs256(kid, format!("{kid}: a secret of thirty-two bytes or more")).unwrap(),
        )
        .unwrap()
    }

    fn issuer_at(clock: &ManualClock, config: TokenConfig) -> TokenIssuer {
        TokenIssuer::with_clock(keys("a1"), keys("r1"), config, Arc::new(clock.clone())).unwrap()
    }

    fn config() -> TokenConfig {
        TokenConfig::new("iss", "aud")
    }

    #[test]
    fn an_issued_pair_verifies_with_the_applications_claims() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config());
        let roles = Roles {
            roles: vec!["admin".into()],
        };

        let pair = issuer.issue_pair("alice", "s1", &roles).unwrap();
        let claims = issuer
            .access_verifier::<Roles>()
            .verify(pair.access_token())
            .unwrap();

        assert_eq!(claims.extra, roles);
        assert_eq!((claims.sub(), claims.sid()), ("alice", "s1"));
        assert_eq!(
            (claims.iat(), claims.exp()),
            (1_000_000, 1_000_000 + 15 * 60)
        );
        assert_eq!(claims.jti(), pair.access.jti());
        assert_eq!(claims.aud().collect::<Vec<_>>(), ["aud"]);
        assert_eq!(pair.expires_in(), 900);
        let refresh = issuer.verify_refresh(pair.refresh_token()).unwrap();
        assert_eq!(refresh.exp, 1_000_000 + 7 * 24 * 3600);
    }

    #[test]
    fn an_access_token_expires_after_its_lifetime_and_the_leeway() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config().access_ttl(Duration::from_secs(60)));
        let verifier = issuer.access_verifier::<NoClaims>();
        let token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();

        clock.advance(Duration::from_secs(60 + 4));
        assert!(verifier.verify(token.as_str()).is_ok());
        clock.advance(Duration::from_secs(1));
        assert!(verifier.verify(token.as_str()).unwrap_err().is_expired());
    }

    #[test]
    fn tokens_issued_in_the_future_are_not_valid_yet() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config());
        let token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();

        clock.set(1_000_000 - 60);
        let err = issuer
            .access_verifier::<NoClaims>()
            .verify(token.as_str())
            .unwrap_err();
        assert!(matches!(err, TokenError::NotYetValid));
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token_nor_the_reverse() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config());
        let pair = issuer.issue_pair("alice", "s1", &NoClaims {}).unwrap();

        let as_access = issuer
            .access_verifier::<NoClaims>()
            .verify(pair.refresh_token());
        assert!(matches!(as_access, Err(TokenError::UnknownKey)));
        assert!(issuer.verify_refresh(pair.access_token()).is_err());
    }

    #[test]
    fn the_typ_header_is_checked_even_when_keys_are_shared() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config());
        let refresh = issuer.issue_refresh("alice", "s1").unwrap();
        let verifier: AccessVerifier =
            AccessVerifier::with_clock(keys("r1"), config(), Arc::new(clock.clone()));
        assert!(matches!(
            verifier.verify(refresh.as_str()),
            Err(TokenError::WrongType)
        ));
    }

    #[test]
    fn other_issuers_and_audiences_are_refused() {
        let clock = ManualClock::new(1_000_000);
        let ours = issuer_at(&clock, config()).access_verifier::<NoClaims>();
        let theirs = issuer_at(&clock, TokenConfig::new("other", "aud"));
        let token = theirs.issue_access("a", "s", &NoClaims {}).unwrap();
        assert!(matches!(
            ours.verify(token.as_str()),
            Err(TokenError::WrongIssuer)
        ));

        let theirs = issuer_at(&clock, TokenConfig::new("iss", "other"));
        let token = theirs.issue_access("a", "s", &NoClaims {}).unwrap();
        assert!(matches!(
            ours.verify(token.as_str()),
            Err(TokenError::WrongAudience)
        ));
    }

    #[test]
    fn tokens_of_a_retired_key_verify_after_rotation() {
        let clock = ManualClock::new(1_000_000);
        let before = issuer_at(&clock, config());
        let token = before.issue_access("alice", "s1", &NoClaims {}).unwrap();

        let old = Key::hs256("a1", "a1: a secret of thirty-two bytes or more").unwrap();
        let rotated =
            KeySet::new(Key::hs256("a2", "a2: the next secret, 32 bytes or more").unwrap())
                .unwrap()
                .with_verify_key(old)
                .unwrap();
        let after =
            TokenIssuer::with_clock(rotated, keys("r1"), config(), Arc::new(clock)).unwrap();

        let verifier = after.access_verifier::<NoClaims>();
        assert!(verifier.verify(token.as_str()).is_ok());
        let fresh = after.issue_access("alice", "s1", &NoClaims {}).unwrap();
        assert!(
            fresh
                .as_str()
                .starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImEyIn0.")
        );
    }

    #[test]
    fn a_rotation_reaches_verifiers_made_before_it() {
        let clock = ManualClock::new(1_000_000);
        let issuer = issuer_at(&clock, config());
        let verifier = issuer.access_verifier::<NoClaims>();
        let old_token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();
        let old = Key::hs256("a1", "a1: a secret of thirty-two bytes or more").unwrap();
        let new = Key::hs256("a2", "a2: the next secret, 32 bytes or more").unwrap();

        let both = KeySet::new(new.clone())
            .unwrap()
            .with_verify_key(old)
            .unwrap();
        issuer.set_access_keys(both).unwrap();
        let new_token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();
        assert!(verifier.verify(old_token.as_str()).is_ok());
        assert!(verifier.verify(new_token.as_str()).is_ok());

        issuer.set_access_keys(KeySet::new(new).unwrap()).unwrap();
        assert!(matches!(
            verifier.verify(old_token.as_str()),
            Err(TokenError::UnknownKey)
        ));
        assert!(verifier.verify(new_token.as_str()).is_ok());
        assert!(
            issuer.set_access_keys(keys("r1")).is_err(),
            "shares a kid with refresh"
        );
    }

    #[test]
    fn access_and_refresh_sets_may_not_share_a_key() {
        let shared = TokenIssuer::new(keys("k"), keys("k"), config());
        assert!(matches!(shared, Err(KeyError::DuplicateKid(_))));
    }

    #[test]
    fn pairs_serialize_as_the_endpoint_json_and_debug_hides_the_tokens() {
        let issuer = issuer_at(&ManualClock::new(1_000_000), config());
        let pair = issuer.issue_pair("alice", "s1", &NoClaims {}).unwrap();

        let json: serde_json::Value = serde_json::from_str(&pair.to_json()).unwrap();
        assert_eq!(json["accessToken"], pair.access_token());
        assert_eq!(json["refreshToken"], pair.refresh_token());
        assert_eq!(json["tokenType"], "Bearer");
        assert_eq!(json["expiresIn"], 900);

        let debug = format!("{pair:?}");
        assert!(!debug.contains(pair.access_token()));
        assert!(!debug.contains(pair.refresh_token()));
    }
}
