//! The memory store's footprint, read off a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Duration;

use auth_layer::ManualClock;
use auth_layer::store::{MemoryStore, NewSession, SessionStore};

/// Counts live heap bytes while [`COUNTING`] is on. Off, it costs one
/// relaxed load, so it does not slow down the load that follows (a shared
/// counter would bounce between the cores on every allocation).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

fn count(bytes: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(bytes, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What the memory store holds at `n` sessions and `n` revocations.
pub struct Footprint {
    pub per_session: f64,
    pub per_revocation: f64,
    /// Live heap bytes once everything expired and was purged.
    pub left: isize,
    /// Resident set size with everything live.
    pub resident_full: usize,
    /// Resident set size once everything expired and was purged.
    pub resident: usize,
}

/// Fills a store with `n` sessions, then `n` revocations, then lets them
/// all expire. Run it before anything else allocates.
pub async fn footprint(n: usize) -> Footprint {
    let clock = ManualClock::new(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
    COUNTING.store(true, Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    for i in 0..n {
        let session = NewSession {
            sid: auth_layer::random_id(),
            sub: format!("user-{i}"),
            claims: "{}".to_owned(),
            refresh_jti: auth_layer::random_id(),
            expires_at: 1_700_000_000 + 7 * 24 * 3600,
        };
        store.create(session).await.expect("create");
    }
    let sessions = LIVE.load(Ordering::Relaxed) - base;
    for _ in 0..n {
        store
            .revoke_token(&auth_layer::random_id(), 1_700_000_000 + 900)
            .await
            .expect("revoke");
    }
    let revocations = LIVE.load(Ordering::Relaxed) - base - sessions;
    let resident_full = resident_bytes();

    clock.advance(Duration::from_secs(8 * 24 * 3600));
    store.purge_expired();
    let left = LIVE.load(Ordering::Relaxed) - base;
    COUNTING.store(false, Ordering::Relaxed);
    Footprint {
        per_session: sessions as f64 / n as f64,
        per_revocation: revocations as f64 / n as f64,
        left,
        resident_full,
        resident: resident_bytes(),
    }
}

fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
