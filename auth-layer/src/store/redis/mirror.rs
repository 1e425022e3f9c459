//! The in-process copy of the revocations held in Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;

/// Revoked session ids and token ids, each with the time until which it is
/// refused. Entries only ever grow later: a merge keeps the later time, so
/// messages, resyncs and local writes can arrive in any order.
pub(super) struct Mirror {
    sessions: DashMap<Box<str>, i64>,
    tokens: DashMap<Box<str>, i64>,
    /// How many entries are held; zero lets the check skip the maps.
    held: AtomicUsize,
}

/// Which map a Redis member (`s:{sid}` or `j:{jti}`) belongs to.
enum Member<'a> {
    Session(&'a str),
    Token(&'a str),
}

impl<'a> Member<'a> {
    fn parse(member: &'a str) -> Option<Self> {
        if let Some(sid) = member.strip_prefix("s:") {
            Some(Self::Session(sid))
        } else {
            member.strip_prefix("j:").map(Self::Token)
        }
    }
}

impl Mirror {
    pub(super) fn new() -> Self {
        Self {
            sessions: DashMap::new(),
            tokens: DashMap::new(),
            held: AtomicUsize::new(0),
        }
    }

    /// Refuses session `sid` until `until`.
    pub(super) fn hold_session(&self, sid: &str, until: i64) {
        self.hold(&self.sessions, sid, until);
    }

    /// Refuses the access token `jti` until `until`.
    pub(super) fn hold_token(&self, jti: &str, until: i64) {
        self.hold(&self.tokens, jti, until);
    }

    /// Merges a Redis member; unknown kinds are ignored.
    pub(super) fn hold_member(&self, member: &str, until: i64) {
        match Member::parse(member) {
            Some(Member::Session(sid)) => self.hold_session(sid, until),
            Some(Member::Token(jti)) => self.hold_token(jti, until),
            None => {}
        }
    }

    /// Merges a pub/sub message, `"{until} {member}"`. Returns whether it
    /// could be read.
    pub(super) fn hold_message(&self, message: &str) -> bool {
        let Some((until, member)) = message.split_once(' ') else {
            return false;
        };
        let Some(until) = parse_time(until) else {
            return false;
        };
        self.hold_member(member, until);
        true
    }

    fn hold(&self, map: &DashMap<Box<str>, i64>, key: &str, until: i64) {
        if let Some(mut held) = map.get_mut(key) {
            *held = (*held).max(until);
            return;
        }
        let mut fresh = false;
        map.entry(key.into())
            .and_modify(|held| *held = (*held).max(until))
            .or_insert_with(|| {
                fresh = true;
                until
            });
        if fresh {
            self.held.fetch_add(1, Ordering::Release);
        }
    }

    /// Whether session `sid` or token `jti` is refused at `now`, which is
    /// only asked for when something is held.
    pub(super) fn revoked(&self, sid: &str, jti: &str, now: impl FnOnce() -> i64) -> bool {
        if self.held.load(Ordering::Acquire) == 0 {
            return false;
        }
        let now = now();
        let refused = |map: &DashMap<Box<str>, i64>, key: &str| {
            map.get(key).is_some_and(|until| *until > now)
        };
        refused(&self.sessions, sid) || refused(&self.tokens, jti)
    }

    /// Forgets every entry whose time has passed.
    pub(super) fn purge(&self, now: i64) {
        for map in [&self.sessions, &self.tokens] {
            let mut gone = 0;
            map.retain(|_, until| {
                let keep = *until > now;
                gone += usize::from(!keep);
                keep
            });
            if gone > 0 {
                self.held.fetch_sub(gone, Ordering::Release);
            }
        }
    }

    /// The entries still in force at `now` that `remote` lacks or holds for
    /// less long, as Redis members.
    pub(super) fn missing_from(
        &self,
        remote: &HashMap<String, i64>,
        now: i64,
    ) -> Vec<(String, i64)> {
        let mut missing = Vec::new();
        for (kind, map) in [("s:", &self.sessions), ("j:", &self.tokens)] {
            for entry in map.iter() {
                let until = *entry.value();
                if until <= now {
                    continue;
                }
                let member = format!("{kind}{}", entry.key());
                if remote.get(&member).is_none_or(|held| *held < until) {
                    missing.push((member, until));
                }
            }
        }
        missing
    }

    /// How many entries are held, expired or not.
    pub(super) fn len(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

/// Reads a time as Redis hands it back: an integer, or a score that Redis
/// formats as a float (`9.2233720368547758e+18`).
pub(super) fn parse_time(text: &str) -> Option<i64> {
    if let Ok(time) = text.parse::<i64>() {
        return Some(time);
    }
    let float = text.parse::<f64>().ok()?;
    // `as` saturates, which is what a far-future time wants.
    float.is_finite().then_some(float as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_revoked_in_an_empty_copy_and_the_clock_is_not_read() {
        let mirror = Mirror::new();
        assert!(!mirror.revoked("s1", "j1", || unreachable!()));
    }

    #[test]
    fn a_held_session_or_token_is_revoked_until_its_time() {
        let mirror = Mirror::new();
        mirror.hold_session("s1", 100);
        mirror.hold_token("j2", 50);

        assert!(mirror.revoked("s1", "other", || 99));
        assert!(!mirror.revoked("s1", "other", || 100));
        assert!(mirror.revoked("other", "j2", || 49));
        assert!(!mirror.revoked("s2", "j1", || 0));
    }

    #[test]
    fn a_merge_keeps_the_later_time() {
        let mirror = Mirror::new();
        mirror.hold_session("s1", 100);
        mirror.hold_session("s1", 50);
        assert!(mirror.revoked("s1", "", || 99));
        assert_eq!(mirror.len(), 1);
    }

    #[test]
    fn messages_are_read_and_garbage_is_refused() {
        let mirror = Mirror::new();
        assert!(mirror.hold_message("100 s:a b"));
        assert!(mirror.hold_message("9.2233720368547758e+18 j:t"));
        assert!(!mirror.hold_message("soon s:a"));
        assert!(!mirror.hold_message(""));

        assert!(mirror.revoked("a b", "", || 99));
        assert!(mirror.revoked("", "t", || i64::MAX - 1));
        assert_eq!(mirror.len(), 2);
    }

    #[test]
    fn purge_forgets_expired_entries_only() {
        let mirror = Mirror::new();
        mirror.hold_session("old", 10);
        mirror.hold_token("new", 30);
        mirror.purge(20);
        assert_eq!(mirror.len(), 1);
        assert!(mirror.revoked("", "new", || 20));
    }

    #[test]
    fn missing_entries_are_those_redis_lacks_or_holds_shorter() {
        let mirror = Mirror::new();
        mirror.hold_session("kept", 100);
        mirror.hold_session("shorter", 100);
        mirror.hold_token("lost", 100);
        mirror.hold_token("expired", 5);
        let remote = HashMap::from([("s:kept".to_owned(), 100), ("s:shorter".to_owned(), 60)]);

        let mut missing = mirror.missing_from(&remote, 10);
        missing.sort();
        let expected = vec![("j:lost".to_owned(), 100), ("s:shorter".to_owned(), 100)];
        assert_eq!(missing, expected);
    }
}
