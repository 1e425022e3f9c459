//! One behaviour suite for every session store.
//!
//! Each test is a generic function over a store and the `ManualClock` it
//! runs on; the `suite!` macro at the bottom instantiates every one of them
//! for `MemoryStore` and for `RedisStore` (on the Redis at `REDIS_URL`,
//! under a fresh key prefix), so both backends are held to the same
//! contract. Time only moves when a test moves the clock.

mod common_redis;

use std::sync::Arc;
use std::time::Duration;

use auth_layer::Clock;
use auth_layer::store::{MemoryStore, NewSession, Rotated, Rotation, SessionStore};
use auth_layer::{Check, ManualClock, TokenRef, Verdict};

const HOUR: i64 = 3_600;
const WEEK: i64 = 7 * 24 * HOUR;
const GRACE: i64 = 10;

fn new_session(sid: &str, sub: &str, jti: &str, expires_at: i64) -> NewSession {
    NewSession {
        sid: sid.to_owned(),
        sub: sub.to_owned(),
        claims: r#"{"role":"admin"}"#.to_owned(),
        refresh_jti: jti.to_owned(),
        expires_at,
    }
}

/// Rotates `sid` from `presented` to `next`, answering `answer`.
fn rotation<'a>(
    clock: &ManualClock,
    sid: &'a str,
    presented: &'a str,
    next: &'a str,
    answer: &'a str,
    grace: i64,
) -> Rotation<'a> {
    let now = clock.now();
    Rotation {
        sid,
        presented_jti: presented,
        next_jti: next,
        expires_at: now + WEEK,
        answer,
        now,
        grace,
        revoke_until: now + HOUR,
    }
}

fn verdict<S: SessionStore>(store: &S, sid: &str, jti: &str) -> Verdict {
    let token = TokenRef {
        sub: "someone",
        sid,
        jti,
        iat: 0,
        exp: i64::MAX,
    };
    match store.check(token) {
        Check::Ready(verdict) => verdict,
        Check::Pending(_) => panic!("the check must answer without waiting"),
    }
}

/// A store holding session `s1` of `alice` with refresh token `r1`.
async fn with_session<S: SessionStore>(store: &S, clock: &ManualClock) {
    let session = new_session("s1", "alice", "r1", clock.now() + WEEK);
    store.create(session).await.unwrap();
}

async fn a_created_session_is_found_with_its_user_claims_and_jti<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;

    let info = store
        .session("s1")
        .await
        .unwrap()
        .expect("the session is live");

    assert_eq!(info.sub, "alice");
    assert_eq!(info.claims, r#"{"role":"admin"}"#);
    assert_eq!(info.current_jti, "r1");
    assert_eq!(store.session("nobody").await.unwrap(), None);
}

async fn a_session_is_gone_once_the_clock_passes_its_expiry<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    let session = new_session("s1", "alice", "r1", clock.now() + HOUR);
    store.create(session).await.unwrap();

    clock.advance(Duration::from_secs(HOUR as u64));

    assert_eq!(store.session("s1").await.unwrap(), None);
    let late = rotation(&clock, "s1", "r1", "r2", "late", GRACE);
    assert_eq!(store.rotate(late).await.unwrap(), Rotated::Unknown);
}

async fn rotating_an_unknown_session_is_unknown<S: SessionStore>(store: S, clock: ManualClock) {
    let nobody = rotation(&clock, "nobody", "r1", "r2", "answer", GRACE);

    assert_eq!(store.rotate(nobody).await.unwrap(), Rotated::Unknown);
}

async fn rotating_the_current_jti_moves_the_session_on<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;

    let first = rotation(&clock, "s1", "r1", "r2", "answer-2", GRACE);
    assert_eq!(store.rotate(first).await.unwrap(), Rotated::Rotated);

    let info = store.session("s1").await.unwrap().unwrap();
    assert_eq!(info.current_jti, "r2");
    let second = rotation(&clock, "s1", "r2", "r3", "answer-3", GRACE);
    assert_eq!(store.rotate(second).await.unwrap(), Rotated::Rotated);
}

async fn the_previous_jti_inside_the_window_gets_the_identical_answer<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    let first = rotation(&clock, "s1", "r1", "r2", "the first answer", GRACE);
    assert_eq!(store.rotate(first).await.unwrap(), Rotated::Rotated);

    clock.advance(Duration::from_secs(GRACE as u64));
    let racing = rotation(&clock, "s1", "r1", "r9", "another answer", GRACE);

    let replayed = Rotated::Replayed("the first answer".to_owned());
    assert_eq!(store.rotate(racing).await.unwrap(), replayed);
    let info = store.session("s1").await.unwrap().unwrap();
    assert_eq!(info.current_jti, "r2");
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);
}

async fn the_previous_jti_after_the_window_is_reuse_and_revokes_the_session<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    let first = rotation(&clock, "s1", "r1", "r2", "answer-2", GRACE);
    assert_eq!(store.rotate(first).await.unwrap(), Rotated::Rotated);

    clock.advance(Duration::from_secs(GRACE as u64 + 1));
    let stolen = rotation(&clock, "s1", "r1", "r3", "answer-3", GRACE);

    assert_eq!(store.rotate(stolen).await.unwrap(), Rotated::Reused);
    assert_eq!(store.session("s1").await.unwrap(), None);
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
    let newest = rotation(&clock, "s1", "r2", "r4", "answer-4", GRACE);
    assert_eq!(store.rotate(newest).await.unwrap(), Rotated::Unknown);
}

async fn an_older_jti_is_reuse_even_inside_the_window<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    let first = rotation(&clock, "s1", "r1", "r2", "answer-2", GRACE);
    assert_eq!(store.rotate(first).await.unwrap(), Rotated::Rotated);
    let second = rotation(&clock, "s1", "r2", "r3", "answer-3", GRACE);
    assert_eq!(store.rotate(second).await.unwrap(), Rotated::Rotated);

    let oldest = rotation(&clock, "s1", "r1", "r4", "answer-4", GRACE);

    assert_eq!(store.rotate(oldest).await.unwrap(), Rotated::Reused);
    assert_eq!(store.session("s1").await.unwrap(), None);
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
}

async fn without_a_grace_window_the_previous_jti_is_reuse<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    let first = rotation(&clock, "s1", "r1", "r2", "answer-2", 0);
    assert_eq!(store.rotate(first).await.unwrap(), Rotated::Rotated);

    let again = rotation(&clock, "s1", "r1", "r3", "answer-3", 0);

    assert_eq!(store.rotate(again).await.unwrap(), Rotated::Reused);
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
}

async fn racing_rotations_of_one_jti_have_one_winner_and_one_answer<S>(store: S, clock: ManualClock)
where
    S: SessionStore + Clone,
{
    with_session(&store, &clock).await;

    let racers = (0..8).map(|i| {
        let (store, clock) = (store.clone(), clock.clone());
        tokio::spawn(async move {
            let (next, answer) = (format!("next-{i}"), format!("answer-{i}"));
            let race = rotation(&clock, "s1", "r1", &next, &answer, GRACE);
            let outcome = store.rotate(race).await.unwrap();
            (next, answer, outcome)
        })
    });
    let mut outcomes = Vec::new();
    for racer in racers.collect::<Vec<_>>() {
        outcomes.push(racer.await.unwrap());
    }

    let winners: Vec<_> = outcomes
        .iter()
        .filter(|(_, _, outcome)| *outcome == Rotated::Rotated)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let (next, answer, _) = winners[0];
    let replayed = Rotated::Replayed(answer.clone());
    let losers = outcomes
        .iter()
        .filter(|(_, _, outcome)| *outcome == replayed);
    assert_eq!(losers.count(), 7, "{outcomes:?}");
    let info = store.session("s1").await.unwrap().unwrap();
    assert_eq!(&info.current_jti, next);
}

async fn revoking_a_session_refuses_its_access_tokens_at_once<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);

    let live = store
        .revoke_session("s1", clock.now() + HOUR)
        .await
        .unwrap();

    assert!(live);
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
    assert_eq!(verdict(&store, "s1", "a2"), Verdict::Revoked);
    assert_eq!(verdict(&store, "s2", "a3"), Verdict::Valid);
    assert_eq!(store.session("s1").await.unwrap(), None);
    let refresh = rotation(&clock, "s1", "r1", "r2", "answer", GRACE);
    assert_eq!(store.rotate(refresh).await.unwrap(), Rotated::Unknown);
    let again = store
        .revoke_session("s1", clock.now() + HOUR)
        .await
        .unwrap();
    assert!(!again, "a revoked session is no longer live");
}

async fn revoking_a_token_refuses_that_jti_only<S: SessionStore>(store: S, clock: ManualClock) {
    with_session(&store, &clock).await;

    store.revoke_token("a1", clock.now() + 900).await.unwrap();

    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
    assert_eq!(verdict(&store, "other", "a1"), Verdict::Revoked);
    assert_eq!(verdict(&store, "s1", "a2"), Verdict::Valid);
    assert!(store.session("s1").await.unwrap().is_some());
}

async fn revoking_a_user_revokes_all_their_sessions_and_no_one_elses<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    let until = clock.now() + WEEK;
    store
        .create(new_session("a1", "alice", "r1", until))
        .await
        .unwrap();
    store
        .create(new_session("a2", "alice", "r2", until))
        .await
        .unwrap();
    store
        .create(new_session("b1", "bob", "r3", until))
        .await
        .unwrap();

    let live = store
        .revoke_user("alice", clock.now() + HOUR)
        .await
        .unwrap();

    assert_eq!(live, 2);
    assert_eq!(verdict(&store, "a1", "t1"), Verdict::Revoked);
    assert_eq!(verdict(&store, "a2", "t2"), Verdict::Revoked);
    assert_eq!(verdict(&store, "b1", "t3"), Verdict::Valid);
    assert_eq!(store.session("a1").await.unwrap(), None);
    assert_eq!(store.session("a2").await.unwrap(), None);
    assert!(store.session("b1").await.unwrap().is_some());
    assert_eq!(
        store
            .revoke_user("alice", clock.now() + HOUR)
            .await
            .unwrap(),
        0
    );
}

async fn revocations_are_held_until_the_clock_passes_their_time<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    with_session(&store, &clock).await;
    store.revoke_session("s1", clock.now() + 60).await.unwrap();
    store.revoke_token("a9", clock.now() + 30).await.unwrap();

    clock.advance(Duration::from_secs(29));
    assert_eq!(verdict(&store, "s2", "a9"), Verdict::Revoked);
    clock.advance(Duration::from_secs(1));
    assert_eq!(verdict(&store, "s2", "a9"), Verdict::Valid);
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);

    clock.advance(Duration::from_secs(30));
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);
}

async fn a_shorter_revocation_never_cuts_a_longer_one_short<S: SessionStore>(
    store: S,
    clock: ManualClock,
) {
    store.revoke_session("s1", clock.now() + 60).await.unwrap();
    store.revoke_session("s1", clock.now() + 10).await.unwrap();

    clock.advance(Duration::from_secs(30));

    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Revoked);
}

async fn tokens_nobody_revoked_are_valid<S: SessionStore>(store: S, clock: ManualClock) {
    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);
    with_session(&store, &clock).await;
    store
        .revoke_session("other", clock.now() + HOUR)
        .await
        .unwrap();
    store
        .revoke_token("other", clock.now() + HOUR)
        .await
        .unwrap();

    assert_eq!(verdict(&store, "s1", "a1"), Verdict::Valid);
    assert_eq!(verdict(&store, "s:other", "j:other"), Verdict::Valid);
}

/// Instantiates every test above for each backend.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let clock = ManualClock::starting_now();
                    let store = MemoryStore::with_clock(Arc::new(clock.clone()));
                    super::$test(store, clock).await;
                }
            )*
        }

        mod redis {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let clock = ManualClock::starting_now();
                    let store = common_redis::connect(common_redis::config(&clock)).await;
                    super::$test(store.clone(), clock).await;
                    store.shutdown().await;
                }
            )*
        }
    };
}

suite!(
    a_created_session_is_found_with_its_user_claims_and_jti,
    a_session_is_gone_once_the_clock_passes_its_expiry,
    rotating_an_unknown_session_is_unknown,
    rotating_the_current_jti_moves_the_session_on,
    the_previous_jti_inside_the_window_gets_the_identical_answer,
    the_previous_jti_after_the_window_is_reuse_and_revokes_the_session,
    an_older_jti_is_reuse_even_inside_the_window,
    without_a_grace_window_the_previous_jti_is_reuse,
    racing_rotations_of_one_jti_have_one_winner_and_one_answer,
    revoking_a_session_refuses_its_access_tokens_at_once,
    revoking_a_token_refuses_that_jti_only,
    revoking_a_user_revokes_all_their_sessions_and_no_one_elses,
    revocations_are_held_until_the_clock_passes_their_time,
    a_shorter_revocation_never_cuts_a_longer_one_short,
    tokens_nobody_revoked_are_valid,
);
