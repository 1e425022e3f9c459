use std::sync::Arc;

use auth_layer::session::{SessionConfig, Sessions, handlers};
use auth_layer::store::{MemoryStore, RedisConfig, RedisStore, SessionStore};
use auth_layer::{
    Authenticated, Clock, Key, KeySet, NoClaims, SystemClock, TokenConfig, TokenIssuer,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Config, ConfigError};

/// The demo user's name.
pub const DEMO_USER: &str = "demo";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The issuer named in the reference server's tokens.
const ISSUER: &str = "tokenpair-reference";
/// The audience named in the reference server's access tokens.
const AUDIENCE: &str = "tokenpair-api";

/// The reference server's state and routes.
#[derive(Clone, Debug)]
pub struct Server {
    sessions: Sessions,
}

impl Server {
    /// A server for `config` on the system clock, with the Redis store when
    /// `config.redis_url` is set and the memory store otherwise.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Key`] when a secret is too short or too weak, and
    /// [`ConfigError::Store`] when Redis cannot be reached.
    pub async fn new(config: &Config) -> Result<Self, ConfigError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = store_for(config, &clock).await?;
        Self::with_store(config, clock, store)
    }

    /// A server for `config` whose tokens read time from `clock`, keeping
    /// sessions in `store`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Key`] when a secret is too short or too weak.
    pub fn with_store(
        config: &Config,
        clock: Arc<dyn Clock>,
        store: Arc<dyn SessionStore>,
    ) -> Result<Self, ConfigError> {
        let token_config = TokenConfig::new(ISSUER, AUDIENCE)
            .access_ttl(config.access_ttl)
            .refresh_ttl(config.refresh_ttl);
        let issuer = TokenIssuer::with_clock(
            KeySet::new(Key::hs256("access-1", &config.access_secret)?)?,
            KeySet::new(Key::hs256("refresh-1", &config.refresh_secret)?)?,
            token_config,
            clock,
        )?;
        let session_config = SessionConfig::default()
            .grace(config.grace)
            .rotation(config.rotation)
            .realm("tokenpair");
        Ok(Self {
            sessions: Sessions::from_arc(issuer, store, session_config),
        })
    }

    /// The sessions this server keeps.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The issuer that signs this server's tokens.
    pub fn issuer(&self) -> &TokenIssuer {
        self.sessions.issuer()
    }

    /// The routes, with `/api/me` behind the auth layer.
    pub fn router(&self) -> Router {
        let auth = self.sessions.layer::<NoClaims>();
        let protected = Router::new().route("/api/me", get(me)).layer(auth);

        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/api/login", post(login))
            .route("/api/refresh", post(handlers::refresh))
            .route("/api/logout", post(handlers::logout))
            .route("/api/logout-all", post(handlers::logout_all))
            .merge(protected)
            .merge(super::page::routes())
            .with_state(self.sessions.clone())
    }
}

/// The memory store, or the Redis store when `REDIS_URL` is set.
async fn store_for(
    config: &Config,
    clock: &Arc<dyn Clock>,
) -> Result<Arc<dyn SessionStore>, ConfigError> {
    let Some(url) = &config.redis_url else {
        return Ok(Arc::new(MemoryStore::with_clock(Arc::clone(clock))));
    };
    let redis = RedisConfig::new(url.as_str()).clock(Arc::clone(clock));
    Ok(Arc::new(RedisStore::connect(redis).await?))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(State(sessions): State<Sessions>, Json(credentials): Json<Credentials>) -> Response {
    if !is_demo_user(&credentials) {
        tracing::debug!("login refused: wrong credentials");
        let body = json!({
            "error": "invalid_credentials",
            "error_description": "wrong username or password",
        });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }

    match sessions.login(&credentials.username, &NoClaims {}).await {
        Ok(login) => login.response.into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "login failed");
            err.to_response("tokenpair").into_response()
        }
    }
}

/// Compares digests so that the time taken does not depend on how much of
/// the password was right.
fn is_demo_user(credentials: &Credentials) -> bool {
    let given = Sha256::digest(credentials.password.as_bytes());
    let expected = Sha256::digest(DEMO_PASSWORD.as_bytes());
    credentials.username == DEMO_USER && given == expected
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Me<'a> {
    user_id: &'a str,
    session_id: &'a str,
}

async fn me(Authenticated(claims): Authenticated<NoClaims>) -> Response {
    let me = Me {
        user_id: claims.sub(),
        session_id: claims.sid(),
    };
    Json(me).into_response()
}
