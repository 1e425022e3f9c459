//! The middleware against real servers on 127.0.0.1.
//!
//! Counts come from the mock API, which sees what reached the wire, and
//! from the middleware where both matter. Tokens expire because the API is
//! told to stop accepting them or because a test moves the middleware's
//! clock; no test waits for time to pass.

#[path = "../support/mod.rs"]
mod support;

mod ahead_of_time;
mod failed_refresh;
mod redaction;
mod refresh_calls;
mod single_refresh;
mod which_requests;
