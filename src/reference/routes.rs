use std::sync::Arc;

use auth_layer::{
    AuthLayer, Authenticated, Clock, Key, KeySet, NoClaims, SystemClock, TokenConfig, TokenIssuer,
    random_id,
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
    issuer: TokenIssuer,
}

impl Server {
    /// A server for `config`, on the system clock.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Key`] when a secret is too short or too weak.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A server for `config` whose tokens read time from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`Server::new`].
    pub fn with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let token_config = TokenConfig::new(ISSUER, AUDIENCE)
            .access_ttl(config.access_ttl)
            .refresh_ttl(config.refresh_ttl);
        let issuer = TokenIssuer::with_clock(
            KeySet::new(Key::hs256("access-1", &config.access_secret)?)?,
            KeySet::new(Key::hs256("refresh-1", &config.refresh_secret)?)?,
            token_config,
            clock,
        )?;
        Ok(Self { issuer })
    }

    /// The issuer that signs this server's tokens.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// The routes, with `/api/me` behind the auth layer.
    pub fn router(&self) -> Router {
        let auth = AuthLayer::new(self.issuer.access_verifier::<NoClaims>()).realm("tokenpair");
        let protected = Router::new().route("/api/me", get(me)).layer(auth);

        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/api/login", post(login))
            .merge(protected)
            .with_state(self.clone())
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(State(server): State<Server>, Json(credentials): Json<Credentials>) -> Response {
    if !is_demo_user(&credentials) {
        tracing::debug!("login refused: wrong credentials");
        let body = json!({
            "error": "invalid_credentials",
            "error_description": "wrong username or password",
        });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }

    match server
        .issuer
        .issue_pair(&credentials.username, &random_id(), &NoClaims {})
    {
        Ok(pair) => Json(pair).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not issue a token pair");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
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

async fn me(Authenticated(claims): Authenticated<NoClaims>) -> Json<serde_json::Value> {
    Json(json!({ "userId": claims.sub(), "sessionId": claims.sid() }))
}
