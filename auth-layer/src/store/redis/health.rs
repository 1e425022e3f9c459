//! Whether the local copy of the revocations can be trusted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The copy is current while its subscription is up and a resync has
/// completed since the subscription last (re)started. Once it is not, the
/// check trusts it for `stale_after` more, then fails closed (or open).
///
/// Only the sync task changes the state (and `connect` and `shutdown`,
/// which run when the sync task does not), so a plain store-then-publish
/// of `down_since` and `current` is enough.
pub(super) struct Health {
    current: AtomicBool,
    /// Milliseconds since `origin` when the copy stopped being current.
    down_since: AtomicU64,
    origin: Instant,
    stale_after: Duration,
    fail_open: bool,
}

impl Health {
    /// A copy not yet current.
    pub(super) fn new(stale_after: Duration, fail_open: bool) -> Self {
        Self {
            current: AtomicBool::new(false),
            down_since: AtomicU64::new(0),
            origin: Instant::now(),
            stale_after,
            fail_open,
        }
    }

    fn millis(&self) -> u64 {
        self.millis_at(Instant::now())
    }

    fn millis_at(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin);
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the per-request check may answer from the copy.
    pub(super) fn usable(&self) -> bool {
        if self.current.load(Ordering::Acquire) || self.fail_open {
            return true;
        }
        let since = self.down_since.load(Ordering::Relaxed);
        Duration::from_millis(self.millis().saturating_sub(since)) <= self.stale_after
    }

    /// Whether the copy is current right now.
    pub(super) fn is_current(&self) -> bool {
        self.current.load(Ordering::Acquire)
    }

    /// The copy may have missed revocations from now on.
    pub(super) fn lost(&self) -> bool {
        self.lost_since(Instant::now())
    }

    /// The copy may have missed revocations since `since`. Returns whether
    /// it was current until now, so the caller logs an outage once.
    pub(super) fn lost_since(&self, since: Instant) -> bool {
        if !self.current.load(Ordering::Relaxed) {
            return false;
        }
        self.down_since
            .store(self.millis_at(since), Ordering::Relaxed);
        self.current.store(false, Ordering::Release);
        true
    }

    /// The copy is current again. Returns how long it was not, if it was
    /// not.
    pub(super) fn restored(&self) -> Option<Duration> {
        if self.current.swap(true, Ordering::AcqRel) {
            return None;
        }
        let since = self.down_since.load(Ordering::Relaxed);
        Some(Duration::from_millis(self.millis().saturating_sub(since)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_that_was_never_current_is_usable_only_within_the_bound() {
        let health = Health::new(Duration::ZERO, false);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!health.usable());
    }

    #[test]
    fn a_lost_copy_stays_usable_within_the_bound_and_then_not() {
        let health = Health::new(Duration::from_millis(30), false);
        health.restored();

        assert!(health.lost());
        assert!(!health.lost(), "an outage is reported once");
        assert!(health.usable());
        std::thread::sleep(Duration::from_millis(60));
        assert!(!health.usable());

        assert!(health.restored().is_some());
        assert!(health.usable());
    }

    #[test]
    fn a_copy_lost_since_an_earlier_moment_goes_stale_from_that_moment() {
        let health = Health::new(Duration::from_millis(30), false);
        health.restored();
        let confirmed = Instant::now();
        std::thread::sleep(Duration::from_millis(60));

        assert!(health.lost_since(confirmed));
        assert!(!health.usable());
    }

    #[test]
    fn a_fail_open_copy_is_always_usable() {
        let health = Health::new(Duration::ZERO, true);
        health.restored();
        health.lost();
        std::thread::sleep(Duration::from_millis(5));
        assert!(health.usable());
    }
}
