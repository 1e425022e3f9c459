//! The tokenpair workspace's root package: the reference server that
//! `examples/server.rs` runs, kept here as a library so that the tests in
//! `tests/` can start the very same server in-process on a free port.

#![warn(missing_docs)]

pub mod reference;
