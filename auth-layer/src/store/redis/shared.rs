//! What the store's clones and its background tasks share.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::clients::{Client, Pool, SubscriberClient};
use fred::error::Error as FredError;
use fred::interfaces::ClientLike;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::health::Health;
use super::keys::Keys;
use super::mirror::Mirror;
use super::script::Scripts;
use crate::clock::Clock;
use crate::store::StoreError;

/// What the store and its background tasks share. The tasks hold no
/// reference to the store itself, so dropping its last clone stops them.
pub(super) struct Shared {
    pub(super) pool: Pool,
    pub(super) subscriber: SubscriberClient,
    pub(super) scripts: Scripts,
    pub(super) keys: Keys,
    pub(super) mirror: Mirror,
    pub(super) health: Health,
    pub(super) clock: Arc<dyn Clock>,
    /// Signalled when the listener missed messages.
    pub(super) lagged: Notify,
    pub(super) command_timeout: Duration,
    pub(super) stale_after: Duration,
    pub(super) fail_open: bool,
}

impl Shared {
    pub(super) fn stale_after_ms(&self) -> u64 {
        u64::try_from(self.stale_after.as_millis()).unwrap_or(u64::MAX)
    }

    /// A connected client for the next command, or an error at once.
    pub(super) fn client(&self) -> Result<&Client, StoreError> {
        let client = self.pool.next_connected();
        if client.is_connected() {
            Ok(client)
        } else {
            Err(StoreError::Unavailable(Box::new(NotConnected)))
        }
    }
}

/// Background tasks, aborted when dropped.
#[derive(Default)]
pub(super) struct Tasks(Mutex<Vec<AbortHandle>>);

impl Tasks {
    pub(super) fn push(&self, task: AbortHandle) {
        if let Ok(mut tasks) = self.0.lock() {
            tasks.push(task);
        }
    }

    pub(super) fn abort(&self) {
        if let Ok(mut tasks) = self.0.lock() {
            tasks.drain(..).for_each(|task| task.abort());
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.abort();
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not connected to Redis")]
struct NotConnected;

/// The longest key lifetime the store sets, about 68 years.
const MAX_TTL: i64 = i32::MAX as i64;

/// A key lifetime in seconds, as the scripts take it: at least one second,
/// and never more than Redis accepts.
pub(super) fn ttl(seconds: i64) -> String {
    seconds.clamp(1, MAX_TTL).to_string()
}

pub(super) fn unavailable(error: FredError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}
