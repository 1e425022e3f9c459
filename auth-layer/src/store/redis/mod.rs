//! The Redis store: sessions and revocations shared by many processes.
//!
//! [`RedisStore`] carries the documentation: the data model, the behaviour
//! when Redis is unreachable, and why the client is fred. The parts:
//!
//! - `store`: the store, connecting, shutting down, and the check;
//! - `ops`: its [`SessionStore`](super::SessionStore) operations, each one
//!   Lua script (or one read);
//! - `shared`: what the store's clones and background tasks share;
//! - `script`: the scripts;
//! - `mirror`: the in-process copy of the revocations the check reads;
//! - `sync`: the pub/sub listener, the resync and the heartbeat that keep
//!   the copy current;
//! - `health`: whether the copy can be trusted, and for how much longer;
//! - `config` and `keys`: settings and key names.

mod config;
mod health;
mod keys;
mod mirror;
mod ops;
mod script;
mod shared;
mod store;
mod sync;

pub use config::RedisConfig;
pub use store::RedisStore;
