//! The embedded default: sessions and revocations in this process's memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dashmap::DashMap;

use super::{NewSession, Rotated, Rotation, SessionInfo, SessionStore, StoreFuture};
use crate::clock::{Clock, SystemClock};
use crate::layer::{Check, RevocationCheck, TokenRef, Verdict};

/// Sessions and revocations in memory, for a single process.
///
/// Every entry expires with the tokens it guards: a session when its
/// refresh token expires, a revocation when the last access token it
/// refuses has expired. Expired entries are removed a few at a time by
/// every write, so memory stays bounded under endless logins and logouts
/// without a background task; [`MemoryStore::purge_expired`] removes them
/// all at once.
///
/// The per-request check takes no global lock: the maps are sharded, and
/// when nothing is revoked the check reads one atomic counter.
/// "Log out everywhere" scans the sessions (it keeps no per-user index, to
/// keep each session small).
///
/// # Example
///
/// ```
/// use auth_layer::store::{MemoryStore, NewSession, SessionStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_layer::store::StoreError> {
/// let store = MemoryStore::new();
/// let session = NewSession {
///     sid: "s1".into(),
///     sub: "alice".into(),
///     claims: "{}".into(),
///     refresh_jti: "r1".into(),
///     expires_at: i64::MAX,
/// };
/// store.create(session).await?;
/// assert!(store.session("s1").await?.is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: DashMap<Box<str>, Entry>,
    revoked_sessions: DashMap<Box<str>, i64>,
    revoked_tokens: DashMap<Box<str>, i64>,
    /// How many revocations are held; zero lets the check skip the maps.
    revocations: AtomicUsize,
    /// One entry per session and per revocation, earliest expiry first.
    expiry: Mutex<BinaryHeap<Reverse<(i64, Slot)>>>,
    clock: Arc<dyn Clock>,
}

struct Entry {
    sub: Box<str>,
    /// `None` for the common empty object.
    claims: Option<Box<str>>,
    current: Box<str>,
    previous: Option<Box<Previous>>,
    expires_at: i64,
}

struct Previous {
    jti: Box<str>,
    rotated_at: i64,
    answer: Box<str>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Session(Box<str>),
    RevokedSession(Box<str>),
    RevokedToken(Box<str>),
}

/// How many expired entries one write removes at most.
const SWEEP_PER_WRITE: usize = 64;

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose entries expire by `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                sessions: DashMap::new(),
                revoked_sessions: DashMap::new(),
                revoked_tokens: DashMap::new(),
                revocations: AtomicUsize::new(0),
                expiry: Mutex::new(BinaryHeap::new()),
                clock,
            }),
        }
    }

    /// How many sessions and revocations are held.
    pub fn len(&self) -> usize {
        let inner = &*self.inner;
        inner.sessions.len() + inner.revoked_sessions.len() + inner.revoked_tokens.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry whose time has passed, and gives back the room
    /// the maps had grown to.
    pub fn purge_expired(&self) {
        let inner = &*self.inner;
        inner.sweep(usize::MAX);
        inner.sessions.shrink_to_fit();
        inner.revoked_sessions.shrink_to_fit();
        inner.revoked_tokens.shrink_to_fit();
        if let Ok(mut expiry) = inner.expiry.lock() {
            expiry.shrink_to_fit();
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn schedule(&self, at: i64, slot: Slot) {
        if let Ok(mut expiry) = self.expiry.lock() {
            expiry.push(Reverse((at, slot)));
        }
    }

    /// Removes up to `limit` entries whose time has passed.
    fn sweep(&self, limit: usize) {
        let now = self.now();
        let Ok(mut expiry) = self.expiry.lock() else {
            return;
        };
        for _ in 0..limit {
            match expiry.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => break,
            }
            let Some(Reverse((_, slot))) = expiry.pop() else {
                break;
            };
            match slot {
                Slot::Session(sid) => {
                    // A rotation may have pushed the expiry back: keep the
                    // session and look at it again then.
                    let removed = self.sessions.remove_if(&sid, |_, e| e.expires_at <= now);
                    if removed.is_none()
                        && let Some(later) = self.sessions.get(&sid).map(|e| e.expires_at)
                    {
                        expiry.push(Reverse((later, Slot::Session(sid))));
                    }
                }
                Slot::RevokedSession(sid) => {
                    if let Some(later) = self.forget(&self.revoked_sessions, &sid, now) {
                        expiry.push(Reverse((later, Slot::RevokedSession(sid))));
                    }
                }
                Slot::RevokedToken(jti) => {
                    if let Some(later) = self.forget(&self.revoked_tokens, &jti, now) {
                        expiry.push(Reverse((later, Slot::RevokedToken(jti))));
                    }
                }
            }
        }
    }

    /// Removes a revocation whose time has passed. One that a later
    /// revocation extended is kept, and its new time returned so that it is
    /// looked at again then.
    fn forget(&self, map: &DashMap<Box<str>, i64>, key: &str, now: i64) -> Option<i64> {
        if map.remove_if(key, |_, until| *until <= now).is_some() {
            self.revocations.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        map.get(key).map(|until| *until)
    }

    fn revoke(&self, map: &DashMap<Box<str>, i64>, key: &str, until: i64, slot: Slot) {
        let mut fresh = false;
        map.entry(key.into())
            .and_modify(|held| *held = (*held).max(until))
            .or_insert_with(|| {
                fresh = true;
                until
            });
        if fresh {
            self.revocations.fetch_add(1, Ordering::Relaxed);
            self.schedule(until, slot);
        }
    }

    fn revoke_session(&self, sid: &str, keep_until: i64) -> bool {
        let live = self.sessions.remove(sid).is_some();
        self.revoke(
            &self.revoked_sessions,
            sid,
            keep_until,
            Slot::RevokedSession(sid.into()),
        );
        live
    }

    fn rotate(&self, r: &Rotation<'_>) -> Rotated {
        let Some(mut entry) = self.sessions.get_mut(r.sid) else {
            return Rotated::Unknown;
        };
        if entry.expires_at <= r.now {
            return Rotated::Unknown;
        }

        if *entry.current == *r.presented_jti {
            entry.previous = Some(Box::new(Previous {
                jti: entry.current.clone(),
                rotated_at: r.now,
                answer: r.answer.into(),
            }));
            entry.current = r.next_jti.into();
            entry.expires_at = entry.expires_at.max(r.expires_at);
            return Rotated::Rotated;
        }
        if let Some(previous) = &entry.previous
            && *previous.jti == *r.presented_jti
            && r.now - previous.rotated_at <= r.grace
            && r.grace > 0
        {
            return Rotated::Replayed(previous.answer.to_string());
        }

        Rotated::Reused
    }
}

impl RevocationCheck for MemoryStore {
    fn check(&self, token: TokenRef<'_>) -> Check {
        let inner = &*self.inner;
        if inner.revocations.load(Ordering::Relaxed) == 0 {
            return Check::Ready(Verdict::Valid);
        }
        let now = inner.now();
        let held = |map: &DashMap<Box<str>, i64>, key: &str| {
            map.get(key).is_some_and(|until| *until > now)
        };
        if held(&inner.revoked_sessions, token.sid) || held(&inner.revoked_tokens, token.jti) {
            Check::Ready(Verdict::Revoked)
        } else {
            Check::Ready(Verdict::Valid)
        }
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        let inner = &*self.inner;
        inner.sweep(SWEEP_PER_WRITE);
        let claims = (session.claims != "{}").then(|| session.claims.into_boxed_str());
        let sid: Box<str> = session.sid.into();
        inner.sessions.insert(
            sid.clone(),
            Entry {
                sub: session.sub.into(),
                claims,
                current: session.refresh_jti.into(),
                previous: None,
                expires_at: session.expires_at,
            },
        );
        inner.schedule(session.expires_at, Slot::Session(sid));
        Box::pin(async { Ok(()) })
    }

    fn session<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        let now = self.inner.now();
        let info = self.inner.sessions.get(sid).and_then(|entry| {
            (entry.expires_at > now).then(|| SessionInfo {
                sub: entry.sub.to_string(),
                claims: entry.claims.as_deref().unwrap_or("{}").to_owned(),
                current_jti: entry.current.to_string(),
            })
        });
        Box::pin(async move { Ok(info) })
    }

    fn rotate<'a>(&'a self, rotation: Rotation<'a>) -> StoreFuture<'a, Rotated> {
        let inner = &*self.inner;
        inner.sweep(SWEEP_PER_WRITE);
        let outcome = inner.rotate(&rotation);
        if outcome == Rotated::Reused {
            inner.revoke_session(rotation.sid, rotation.revoke_until);
        }
        Box::pin(async move { Ok(outcome) })
    }

    fn revoke_session<'a>(&'a self, sid: &'a str, keep_until: i64) -> StoreFuture<'a, bool> {
        self.inner.sweep(SWEEP_PER_WRITE);
        let live = self.inner.revoke_session(sid, keep_until);
        Box::pin(async move { Ok(live) })
    }

    fn revoke_user<'a>(&'a self, sub: &'a str, keep_until: i64) -> StoreFuture<'a, usize> {
        let inner = &*self.inner;
        inner.sweep(SWEEP_PER_WRITE);
        let sids: Vec<Box<str>> = inner
            .sessions
            .iter()
            .filter(|entry| *entry.sub == *sub)
            .map(|entry| entry.key().clone())
            .collect();
        let live = sids
            .iter()
            .filter(|sid| inner.revoke_session(sid, keep_until))
            .count();
        Box::pin(async move { Ok(live) })
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, expires_at: i64) -> StoreFuture<'a, ()> {
        let inner = &*self.inner;
        inner.sweep(SWEEP_PER_WRITE);
        inner.revoke(
            &inner.revoked_tokens,
            jti,
            expires_at,
            Slot::RevokedToken(jti.into()),
        );
        Box::pin(async { Ok(()) })
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("MemoryStore")
            .field("sessions", &inner.sessions.len())
            .field("revoked_sessions", &inner.revoked_sessions.len())
            .field("revoked_tokens", &inner.revoked_tokens.len())
            .finish()
    }
}
