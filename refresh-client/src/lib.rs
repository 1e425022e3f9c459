//! A [reqwest-middleware] middleware that keeps an HTTP client signed in to
//! an API protected by `auth-layer`: it attaches the access token, catches
//! the `401` of an expired one, refreshes once for every waiting request and
//! retries.
//!
//! This crate is a skeleton for now; the middleware is built in its own
//! issue.
//!
//! [reqwest-middleware]: https://docs.rs/reqwest-middleware
