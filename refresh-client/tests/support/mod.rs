//! Servers and clients for the middleware's tests, all on 127.0.0.1.
//!
//! [`MockApi`] issues JWT-shaped access tokens, accepts only the newest one
//! and answers refreshes the way a test tells it to; [`Recorder`] is a
//! second origin that writes down every `Authorization` header it is sent.
//! Nothing here waits on the wall clock except where a test asks for a
//! refresh or a request to stay in flight, and then for at most 300 ms.

mod api;
mod client;
mod other_hosts;

pub use api::{ISSUED_AT, LIFETIME, MockApi, RefreshAnswer};
pub use client::{
    CallCounter, ManualClock, TIMEOUT, counts, http, middleware, middleware_refreshing_at, send,
    send_together, tally, with_middleware,
};
pub use other_hosts::{Recorder, SilentEndpoint, unused_port};
