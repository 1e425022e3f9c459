use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, SET_COOKIE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use super::cookie::{clear_cookies, set_cookies};
use super::{RefreshError, SessionConfig, SessionError};
use crate::id::random_id;
use crate::layer::{AuthLayer, Check, RevocationCheck, TokenRef, Verdict};
use crate::store::{NewSession, Rotated, Rotation, SessionStore};
use crate::token::{IssuedToken, TokenIssuer, TokenPair};

/// Sessions: login, refresh with rotation and reuse detection, logout and
/// revocation, over a [`TokenIssuer`] and a [`SessionStore`].
///
/// Cloning is cheap. [`Sessions::layer`] makes the [`AuthLayer`] that also
/// refuses revoked tokens; [`Sessions::refresh_service`],
/// [`Sessions::logout_service`] and [`Sessions::logout_all_service`] are the
/// ready-made HTTP endpoints.
///
/// # Example
///
/// ```
/// use auth_layer::session::{SessionConfig, Sessions};
/// use auth_layer::store::MemoryStore;
/// use auth_layer::{Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TokenIssuer::new(
///     KeySet::new(Key::hs256("access-1", b"access secret, at least 32 bytes!!")?)?,
///     KeySet::new(Key::hs256("refresh-1", b"refresh secret, at least 32 bytes!")?)?,
///     TokenConfig::new("https://auth.example.com", "api"),
/// )?;
/// let sessions = Sessions::new(issuer, MemoryStore::new(), SessionConfig::default());
///
/// // The application has checked the password.
/// let login = sessions.login("alice", &NoClaims {}).await?;
/// let first = login.pair.refresh_token().to_owned();
///
/// let refreshed = sessions.refresh(&first).await?;
/// assert_ne!(refreshed.refresh_token(), Some(first.as_str()));
///
/// // Logging out revokes the session: its refresh token is dead.
/// sessions.logout(Some(login.pair.access_token()), None).await?;
/// assert!(sessions.refresh(refreshed.refresh_token().unwrap()).await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: TokenIssuer,
    store: Arc<dyn SessionStore>,
    config: SessionConfig,
}

/// The result of a login: the pair, and the response that hands it to the
/// client (JSON body and refresh cookie). `Debug` hides the tokens.
pub struct Login {
    /// The new session's tokens.
    pub pair: TokenPair,
    /// `200` with the pair's JSON, the refresh cookie, and `no-store`.
    pub response: Response<Full<Bytes>>,
}

/// What a successful refresh hands back.
#[derive(Clone)]
pub struct Grant {
    body: String,
    refresh: Option<(String, i64)>,
}

impl Grant {
    /// The JSON body: `{"accessToken","refreshToken","tokenType","expiresIn"}`,
    /// without `refreshToken` when rotation is off.
    pub fn json(&self) -> &str {
        &self.body
    }

    /// The new refresh token, when the refresh rotated one.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh.as_ref().map(|(token, _)| token.as_str())
    }
}

impl Sessions {
    /// Sessions issued by `issuer`, kept in `store`.
    pub fn new(issuer: TokenIssuer, store: impl SessionStore, config: SessionConfig) -> Self {
        Self::from_arc(issuer, Arc::new(store), config)
    }

    /// The same, with a store already behind an `Arc` (such as one chosen at
    /// run time).
    pub fn from_arc(
        issuer: TokenIssuer,
        store: Arc<dyn SessionStore>,
        config: SessionConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer,
                store,
                config,
            }),
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.inner.issuer
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// An [`AuthLayer`] for this issuer's access tokens that also refuses
    /// tokens whose session, or which themselves, were revoked.
    pub fn layer<C>(&self) -> AuthLayer<C> {
        let check: Arc<dyn RevocationCheck> = Arc::clone(&self.inner.store) as _;
        AuthLayer::new(self.inner.issuer.access_verifier())
            .revocation_check(check)
            .realm(&self.inner.config.realm)
    }

    /// Creates a session for `subject`, whose credentials the application
    /// has checked, with the application's own access-token claims `extra`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when the store fails, [`SessionError::Token`]
    /// when `extra` is not a JSON object or signing fails.
    pub async fn login<C: Serialize>(
        &self,
        subject: &str,
        extra: &C,
    ) -> Result<Login, SessionError> {
        let inner = &*self.inner;
        let claims = serde_json::to_string(extra).map_err(|_| SessionError::ClaimsNotAnObject)?;
        if !claims.starts_with('{') {
            return Err(SessionError::ClaimsNotAnObject);
        }

        let sid = random_id();
        let pair = inner.issuer.issue_pair(subject, &sid, extra)?;
        inner
            .store
            .create(NewSession {
                sid,
                sub: subject.to_owned(),
                claims,
                refresh_jti: pair.refresh.jti().to_owned(),
                expires_at: pair.refresh.expires_at(),
            })
            .await?;

        let refresh = (pair.refresh.as_str().to_owned(), pair.refresh.expires_at());
        let response = self.grant_response(&pair.to_json(), Some(&refresh));
        Ok(Login { pair, response })
    }

    /// Trades a refresh token for new tokens.
    ///
    /// With the session's current token this rotates: a new pair, atomically.
    /// With the token just replaced, inside the grace window, it answers with
    /// the very pair the first refresh got. Any other reuse revokes the whole
    /// session. Without rotation it answers with a new access token only.
    ///
    /// # Errors
    ///
    /// A [`RefreshError`]; [`RefreshError::Store`] is the only one that is
    /// not the client's fault.
    pub async fn refresh(&self, token: &str) -> Result<Grant, RefreshError> {
        let inner = &*self.inner;
        let claims = inner.issuer.verify_refresh(token).map_err(|err| {
            tracing::debug!(reason = %err, "refresh token refused");
            if err.is_expired() {
                RefreshError::Expired
            } else {
                RefreshError::Invalid
            }
        })?;
        let session = inner.store.session(&claims.sid).await?;
        let Some(session) = session.filter(|s| s.sub == claims.sub) else {
            tracing::debug!(sid = %claims.sid, "refresh for an unknown or revoked session");
            return Err(RefreshError::Revoked);
        };
        let extra: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&session.claims).map_err(|_| RefreshError::Revoked)?;

        if !inner.config.rotation {
            if session.current_jti != claims.jti {
                return Err(RefreshError::Revoked);
            }
            let access = inner
                .issuer
                .issue_access(&claims.sub, &claims.sid, &extra)?;
            return Ok(self.access_only(&access));
        }

        let pair = inner.issuer.issue_pair(&claims.sub, &claims.sid, &extra)?;
        let answer = pair.to_json();
        let now = inner.issuer.clock().now();
        let rotation = Rotation {
            sid: &claims.sid,
            presented_jti: &claims.jti,
            next_jti: pair.refresh.jti(),
            expires_at: pair.refresh.expires_at(),
            answer: &answer,
            now,
            grace: inner.config.grace.as_secs().min(i64::MAX as u64) as i64,
            revoke_until: self.revoke_until(now),
        };
        match inner.store.rotate(rotation).await? {
            Rotated::Rotated => {
                let expires_at = pair.refresh.expires_at();
                Ok(Grant {
                    body: answer,
                    refresh: Some((pair.refresh.into_string(), expires_at)),
                })
            }
            Rotated::Replayed(answer) => Ok(self.replayed(answer)),
            Rotated::Reused => {
                tracing::warn!(sid = %claims.sid, "refresh token reused: session revoked");
                Err(RefreshError::Reused)
            }
            _ => Err(RefreshError::Revoked),
        }
    }

    /// Revokes the session named by `access` (a signed access token, even
    /// an expired one) and/or `refresh` (a valid refresh token). Returns how
    /// many sessions were live; tokens that verify as neither are ignored.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when the store fails.
    pub async fn logout(
        &self,
        access: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<usize, SessionError> {
        let inner = &*self.inner;
        let from_access = access.and_then(|t| {
            let verifier = inner.issuer.access_verifier::<serde::de::IgnoredAny>();
            verifier.verify_identity(t).ok().map(|c| c.sid().to_owned())
        });
        let from_refresh = refresh.and_then(|t| inner.issuer.verify_refresh(t).ok().map(|c| c.sid));

        let mut sids: Vec<String> = from_access.into_iter().chain(from_refresh).collect();
        sids.dedup();
        let keep_until = self.revoke_until(inner.issuer.clock().now());
        let mut live = 0;
        for sid in &sids {
            live += usize::from(inner.store.revoke_session(sid, keep_until).await?);
        }
        tracing::debug!(sessions = live, "logged out");
        Ok(live)
    }

    /// Revokes every session of the user whose valid access token this is
    /// ("log out everywhere"). Returns how many sessions were live.
    ///
    /// # Errors
    ///
    /// [`SessionError::Token`] when `access` is not a valid access token,
    /// [`SessionError::Revoked`] when it was revoked, and
    /// [`SessionError::Store`] or [`SessionError::Unavailable`] when the
    /// store fails.
    pub async fn logout_all(&self, access: &str) -> Result<usize, SessionError> {
        let inner = &*self.inner;
        let claims = inner
            .issuer
            .access_verifier::<serde::de::IgnoredAny>()
            .verify(access)?;
        let token = TokenRef {
            sub: claims.sub(),
            sid: claims.sid(),
            jti: claims.jti(),
            iat: claims.iat(),
            exp: claims.exp(),
        };
        let verdict = match inner.store.check(token) {
            Check::Ready(verdict) => verdict,
            Check::Pending(verdict) => verdict.await,
        };
        match verdict {
            Verdict::Valid => self.revoke_user(claims.sub()).await,
            Verdict::Unavailable => Err(SessionError::Unavailable),
            _ => Err(SessionError::Revoked),
        }
    }

    /// Revokes every session of user `sub`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when the store fails.
    pub async fn revoke_user(&self, sub: &str) -> Result<usize, SessionError> {
        let inner = &*self.inner;
        let keep_until = self.revoke_until(inner.issuer.clock().now());
        Ok(inner.store.revoke_user(sub, keep_until).await?)
    }

    /// Revokes the single access token `jti`, which expires at `exp`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Store`] when the store fails.
    pub async fn revoke_access_token(&self, jti: &str, exp: i64) -> Result<(), SessionError> {
        let leeway = self.inner.issuer.config().leeway_secs();
        Ok(self
            .inner
            .store
            .revoke_token(jti, exp.saturating_add(leeway))
            .await?)
    }

    /// Until when a revocation made `now` must be held: the last access
    /// token issued before it expires by then, leeway included.
    fn revoke_until(&self, now: i64) -> i64 {
        let config = self.inner.issuer.config();
        let ttl = config.access_ttl_value().as_secs().min(i64::MAX as u64) as i64;
        now.saturating_add(ttl).saturating_add(config.leeway_secs())
    }

    /// The grant for a replay inside the grace window: the first refresh's
    /// answer, and its refresh token again for the cookie.
    fn replayed(&self, answer: String) -> Grant {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "refreshToken")]
            refresh_token: String,
        }
        let refresh = serde_json::from_str::<Answer>(&answer).ok().and_then(|a| {
            let claims = self.inner.issuer.verify_refresh(&a.refresh_token).ok()?;
            Some((a.refresh_token, claims.exp))
        });
        Grant {
            body: answer,
            refresh,
        }
    }

    fn access_only(&self, access: &IssuedToken) -> Grant {
        let body = serde_json::json!({
            "accessToken": access.as_str(),
            "tokenType": "Bearer",
            "expiresIn": self.inner.issuer.config().access_ttl_value().as_secs(),
        });
        Grant {
            body: body.to_string(),
            refresh: None,
        }
    }

    /// `200` with `body`, `no-store`, and the refresh cookie when one is
    /// given and cookies are on.
    pub(crate) fn grant_response(
        &self,
        body: &str,
        refresh: Option<&(String, i64)>,
    ) -> Response<Full<Bytes>> {
        let mut response = json_response(StatusCode::OK, body.to_owned());
        let config = &self.inner.config;
        if let Some((token, expires_at)) = refresh
            && config.cookie_source
        {
            let max_age = expires_at - self.inner.issuer.clock().now();
            for cookie in set_cookies(&config.cookie, token, max_age) {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
        }
        response
    }

    /// The response for a successful refresh.
    pub(crate) fn refresh_response(&self, grant: &Grant) -> Response<Full<Bytes>> {
        self.grant_response(&grant.body, grant.refresh.as_ref())
    }

    /// Headers that delete the refresh cookie.
    pub(crate) fn clear_cookie_headers(&self) -> Vec<HeaderValue> {
        clear_cookies(&self.inner.config.cookie)
    }
}

/// A JSON response that no cache may keep.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("issuer", &self.inner.issuer)
            .field("store", &self.inner.store.name())
            .field("config", &self.inner.config)
            .finish()
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("pair", &self.pair)
            .field("status", &self.response.status())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("rotated", &self.refresh.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::clock::ManualClock;
    use crate::keys::{Key, KeySet};
    use crate::layer::{Check, TokenRef, Verdict};
    use crate::store::MemoryStore;
    use crate::token::TokenConfig;
    use crate::{AccessClaims, NoClaims};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Roles {
        roles: Vec<String>,
    }

    fn sessions(clock: &ManualClock, config: SessionConfig) -> Sessions {
        let keys = |kid: &str| {
            KeySet::new(
                Key::hs256(kid, format!("{kid}: a secret of thirty-two bytes or more")).unwrap(),
            )
            .unwrap()
        };
        let clock: Arc<dyn crate::Clock> = Arc::new(clock.clone());
        let config_tokens = TokenConfig::new("iss", "aud").access_ttl(Duration::from_secs(60));
        let issuer =
            TokenIssuer::with_clock(keys("a"), keys("r"), config_tokens, Arc::clone(&clock))
                .unwrap();
        Sessions::new(issuer, MemoryStore::with_clock(clock), config)
    }

    fn refresh_token(grant: &Grant) -> String {
        grant.refresh_token().unwrap().to_owned()
    }

    fn is_revoked(sessions: &Sessions, access: &str) -> bool {
        let claims: AccessClaims = sessions.issuer().access_verifier().verify(access).unwrap();
        let token = TokenRef {
            sub: claims.sub(),
            sid: claims.sid(),
            jti: claims.jti(),
            iat: claims.iat(),
            exp: claims.exp(),
        };
        matches!(
            sessions.store().check(token),
            Check::Ready(Verdict::Revoked)
        )
    }

    #[tokio::test]
    async fn the_applications_claims_survive_a_refresh() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default());
        let roles = Roles {
            roles: vec!["admin".into()],
        };
        let login = sessions.login("alice", &roles).await.unwrap();

        let grant = sessions.refresh(login.pair.refresh_token()).await.unwrap();

        let body: serde_json::Value = serde_json::from_str(grant.json()).unwrap();
        let access = body["accessToken"].as_str().unwrap();
        let claims = sessions
            .issuer()
            .access_verifier::<Roles>()
            .verify(access)
            .unwrap();
        assert_eq!(claims.extra, roles);
        let first: AccessClaims<Roles> = sessions
            .issuer()
            .access_verifier()
            .verify(login.pair.access_token())
            .unwrap();
        assert_eq!(claims.sid(), first.sid());
    }

    #[tokio::test]
    async fn rotation_replay_and_reuse_follow_the_grace_window() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default());
        let login = sessions.login("alice", &NoClaims {}).await.unwrap();
        let first = login.pair.refresh_token().to_owned();

        let rotated = sessions.refresh(&first).await.unwrap();
        let replayed = sessions.refresh(&first).await.unwrap();
        assert_eq!(rotated.json(), replayed.json());

        clock.advance(Duration::from_secs(11));
        let reused = sessions.refresh(&first).await.unwrap_err();
        assert!(matches!(reused, RefreshError::Reused));
        let after = sessions
            .refresh(&refresh_token(&rotated))
            .await
            .unwrap_err();
        assert!(matches!(after, RefreshError::Revoked));
        assert!(is_revoked(&sessions, login.pair.access_token()));
    }

    #[tokio::test]
    async fn without_rotation_the_refresh_token_keeps_working() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default().rotation(false));
        let login = sessions.login("alice", &NoClaims {}).await.unwrap();

        for _ in 0..3 {
            clock.advance(Duration::from_secs(70));
            let grant = sessions.refresh(login.pair.refresh_token()).await.unwrap();
            assert!(grant.refresh_token().is_none());
            let body: serde_json::Value = serde_json::from_str(grant.json()).unwrap();
            assert!(body.get("refreshToken").is_none());
            let access = body["accessToken"].as_str().unwrap();
            assert!(
                sessions
                    .issuer()
                    .access_verifier::<NoClaims>()
                    .verify(access)
                    .is_ok()
            );
        }
    }

    #[tokio::test]
    async fn logout_with_an_expired_access_token_still_ends_the_session() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default());
        let login = sessions.login("alice", &NoClaims {}).await.unwrap();

        clock.advance(Duration::from_secs(3600));
        let ended = sessions
            .logout(Some(login.pair.access_token()), None)
            .await
            .unwrap();

        assert_eq!(ended, 1);
        let refused = sessions
            .refresh(login.pair.refresh_token())
            .await
            .unwrap_err();
        assert!(matches!(refused, RefreshError::Revoked));
    }

    #[tokio::test]
    async fn claims_that_are_not_an_object_are_refused_at_login() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default());
        let refused = sessions.login("alice", &vec![1, 2]).await.unwrap_err();
        assert!(matches!(refused, SessionError::ClaimsNotAnObject));
    }

    #[tokio::test]
    async fn debug_output_hides_the_tokens() {
        let clock = ManualClock::new(1_000_000);
        let sessions = sessions(&clock, SessionConfig::default());
        let login = sessions.login("alice", &NoClaims {}).await.unwrap();
        let grant = sessions.refresh(login.pair.refresh_token()).await.unwrap();

        let debug = format!("{login:?} {grant:?} {sessions:?}");
        assert!(!debug.contains(login.pair.access_token()));
        assert!(!debug.contains(login.pair.refresh_token()));
        assert!(!debug.contains(grant.refresh_token().unwrap()));
    }
}
