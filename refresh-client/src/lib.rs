//! A [reqwest-middleware] middleware that keeps an HTTP client signed in to
//! an API that uses short-lived access tokens and long-lived refresh
//! tokens, such as one behind `auth-layer`.
//!
//! It does for Rust clients what a browser app's response interceptor does:
//! attach the access token, catch the `401` of an expired one, refresh once
//! for every request that is waiting, retry, and report a session that has
//! ended so the user can sign in again. It also refreshes ahead of time,
//! when the token's `exp` (read without verifying it) is near.
//!
//! ```no_run
//! use refresh_client::{RefreshError, RefreshMiddleware};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = RefreshMiddleware::builder("http://127.0.0.1:3000/api/refresh")?.build();
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(auth.clone())
//!     .build();
//!
//! // Log in with any client, and put the answer in.
//! let login = reqwest::Client::new()
//!     .post("http://127.0.0.1:3000/api/login")
//!     .json(&serde_json::json!({"username": "demo", "password": "demo-password"}))
//!     .send()
//!     .await?;
//! auth.set_tokens_from_json(&login.bytes().await?);
//!
//! match client.get("http://127.0.0.1:3000/api/me").send().await {
//!     Ok(response) => println!("{}", response.status()),
//!     Err(err) if RefreshError::find(&err).is_some_and(RefreshError::session_ended) => {
//!         println!("please sign in again")
//!     }
//!     Err(err) => return Err(err.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The refresh call posts `{"refreshToken": "..."}` by default and accepts
//! `accessToken`/`refreshToken` as well as the OAuth names
//! `access_token`/`refresh_token`; a response without a new refresh token
//! keeps the old one. [`Builder::cookie_mode`] sends no body and relies on
//! the client's cookie store; [`Builder::refresh_with`] takes the
//! application's own function.
//!
//! No token appears in any log line or `Debug` output; the `Authorization`
//! header is marked sensitive.
//!
//! [reqwest-middleware]: https://docs.rs/reqwest-middleware

#![warn(missing_docs)]

mod error;
mod jwt;
mod middleware;
mod refresh;
mod store;

pub use error::RefreshError;
pub use middleware::{Builder, ClockFn, RefreshMiddleware, SkipRefresh};
pub use refresh::RefreshFuture;
pub use store::{MemoryTokenStore, TokenStore, Tokens};
