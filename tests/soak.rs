//! Soak tests: 64 clients, each with its own refresh-client middleware and
//! session, against the reference server with 1-second access tokens and a
//! 2-second grace window, in real time and through many refresh cycles,
//! while every eighth client logs out and in again.
//!
//! - On the memory store and on the shared Redis (`REDIS_URL`, default
//!   `redis://127.0.0.1:6379`; without it the test fails, never skips),
//!   with the access signing key rotated mid-soak: every request succeeds,
//!   no session ends that was not logged out, nothing answers 5xx, and the
//!   memory store stays bounded.
//! - On a private `redis-server` killed mid-soak and started again, empty,
//!   on the same port: every answer is a success or the documented
//!   fail-closed `503`, nothing panics, everything recovers without
//!   restarting the server, and a session revoked before the restart stays
//!   revoked.
//!
//! Each soak takes about twenty seconds. They run one at a time, so that
//! they share the machine with other work rather than with each other, and
//! they check correctness, never speed.

// Only the shared Redis's URL, prefixes and connection are used here.
#[allow(dead_code)]
mod common_redis;
mod soak_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_layer::store::{MemoryStore, RedisConfig};
use auth_layer::{NoClaims, SystemClock};
use reqwest::StatusCode;
use soak_support::{
    ACCESS_TTL, Event, KeyRotation, LEEWAY, LOGOUT_EVERY_NTH, Outcome, PrivateRedis, Sample,
    ServerLog, Soak, TASKS, TaskReport, config, http_client, join_clients, kid, panics,
    refused_as_revoked, rotate_access_keys, sample_memory, serve, start_clients,
};
use tokenpair::reference::{DEMO_USER, Server};

/// The soaks take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the memory and Redis soaks run.
const SOAK: Duration = Duration::from_secs(18);
/// When, into those soaks, the new access key starts signing. The old one
/// is dropped 7 seconds later, with 6 seconds of soak left after that.
const ROTATE_AT: Duration = Duration::from_secs(5);

/// How long the Redis restart soak runs.
const FAULT_SOAK: Duration = Duration::from_secs(20);
/// When, into that soak, Redis is killed.
const KILL_AT: Duration = Duration::from_secs(5);
/// How long Redis stays down: past the store's 2-second stale bound, so
/// that protected requests fail closed.
const DOWN_FOR: Duration = Duration::from_secs(3);
/// How long after the server has recovered every client may take to be
/// back to `200`s: its pool reconnects (up to a second apart) and each
/// client whose session Redis lost finds out and logs in again.
const RECOVERY: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_stay_signed_in_on_the_memory_store_through_a_key_rotation() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let store = MemoryStore::with_clock(Arc::new(SystemClock));
    let server = Server::with_store(
        &config("1s", None),
        Arc::new(SystemClock),
        Arc::new(store.clone()),
    )
    .expect("the reference server");

    soak_through_a_key_rotation("memory", &server, Some(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_stay_signed_in_on_the_redis_store_through_a_key_rotation() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // The store the reference server would make for REDIS_URL, but under a
    // prefix of its own on the shared Redis.
    let redis_config =
        RedisConfig::new(common_redis::redis_url()).key_prefix(common_redis::unique_prefix());
    let store = common_redis::connect(redis_config).await;
    let server = Server::with_store(
        &config("1s", None),
        Arc::new(SystemClock),
        Arc::new(store.clone()),
    )
    .expect("the reference server");

    soak_through_a_key_rotation("redis", &server, None).await;
    store.shutdown().await;
}

/// Runs the soak against `server`, rotating its access key on the way, and
/// checks that nothing failed. With `memory`, also checks that the store
/// stays bounded.
async fn soak_through_a_key_rotation(name: &str, server: &Server, memory: Option<MemoryStore>) {
    let panics_before = panics();
    let log = Arc::new(ServerLog::default());
    let (base, serving) = serve(server, Arc::clone(&log)).await;
    let start = Instant::now();
    let soak = Soak::new(base, start + SOAK);

    let rotation = rotate_access_keys(server.issuer().clone(), Arc::clone(&log), start + ROTATE_AT);
    let sampler = memory.map(|store| sample_memory(store, Arc::clone(&soak)));
    let reports = join_clients(start_clients(&soak)).await;
    let rotation = rotation.await.expect("the key rotation panicked");
    let samples = match sampler {
        Some(sampler) => Some(sampler.await.expect("the sampler panicked")),
        None => None,
    };
    let elapsed = start.elapsed();

    let totals = Totals::of(&reports);
    eprintln!(
        "{name} soak: {elapsed:.1?}, {totals}, {} logouts sent\n  server: {:?}",
        soak.logouts(),
        log.counts()
    );
    assert_eq!(panics(), panics_before, "something panicked");
    assert!(!serving.is_finished(), "the server stopped");
    assert_every_step_succeeded(&reports, start);
    assert_no_session_was_falsely_revoked(&log, &totals);
    assert_many_refresh_cycles_and_logouts(&reports, &totals);
    assert_the_rotation_failed_nothing(server, &log, &reports, &rotation, soak.deadline);
    if let Some(samples) = samples {
        assert_memory_stayed_bounded(name, &samples);
    }
}

/// Counts over every task's report.
struct Totals {
    requests: u64,
    refreshes: u64,
    ok: usize,
    unavailable: usize,
    refresh_unavailable: usize,
    session_ended: usize,
    logged_out: usize,
    revocations_held: usize,
    refused_as_expired: usize,
    login_unavailable: usize,
    logout_unavailable: usize,
    relogins_after_logout: usize,
    relogins_after_session_end: u64,
}

impl Totals {
    fn of(reports: &[TaskReport]) -> Self {
        let count = |outcome: Outcome| reports.iter().map(|r| r.count(&outcome)).sum::<usize>();
        let after_session_end: u64 = reports.iter().map(|r| r.relogins_after_session_end).sum();
        // Every login past each task's first follows a logout or the end of
        // its session.
        let relogins = count(Outcome::SignedIn).saturating_sub(reports.len());
        Self {
            requests: reports.iter().map(|r| r.requests).sum(),
            refreshes: reports.iter().map(|r| r.refreshes).sum(),
            ok: count(Outcome::Ok),
            unavailable: count(Outcome::Unavailable),
            refresh_unavailable: count(Outcome::RefreshUnavailable),
            session_ended: count(Outcome::SessionEnded),
            logged_out: count(Outcome::LoggedOut),
            revocations_held: count(Outcome::RevocationHeld),
            refused_as_expired: count(Outcome::RefusedAsExpired),
            login_unavailable: count(Outcome::LoginUnavailable),
            logout_unavailable: count(Outcome::LogoutUnavailable),
            relogins_after_logout: relogins.saturating_sub(after_session_end as usize),
            relogins_after_session_end: after_session_end,
        }
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests ({} ok, {} 503, {} refresh 503, {} session ended), {} refreshes, \
             {} logouts ({} old tokens refused as revoked, {} as expired), \
             {} logins after a logout, \
             {} after a session end, {} login 503, {} logout 503",
            self.requests,
            self.ok,
            self.unavailable,
            self.refresh_unavailable,
            self.session_ended,
            self.refreshes,
            self.logged_out,
            self.revocations_held,
            self.refused_as_expired,
            self.relogins_after_logout,
            self.relogins_after_session_end,
            self.login_unavailable,
            self.logout_unavailable,
        )
    }
}

/// The events of every task for which `pick` holds, described.
fn events_where(
    reports: &[TaskReport],
    start: Instant,
    pick: impl Fn(&Event) -> bool,
) -> Vec<String> {
    reports
        .iter()
        .flat_map(|report| {
            let pick = &pick;
            report.events.iter().filter(move |e| pick(e)).map(move |e| {
                let at = e.at.saturating_duration_since(start);
                format!("task {} at {at:.2?}: {:?}", report.task, e.outcome)
            })
        })
        .collect()
}

fn first_few(list: &[String]) -> &[String] {
    &list[..list.len().min(10)]
}

fn assert_every_step_succeeded(reports: &[TaskReport], start: Instant) {
    let failed = events_where(reports, start, |e| {
        !matches!(
            e.outcome,
            Outcome::Ok
                | Outcome::SignedIn
                | Outcome::LoggedOut
                | Outcome::RevocationHeld
                | Outcome::RefusedAsExpired
        )
    });
    assert!(
        failed.is_empty(),
        "{} steps of live sessions failed; the first: {:#?}",
        failed.len(),
        first_few(&failed)
    );
}

/// Every refresh the clients asked for was granted (a refused one, `400`,
/// is how a false reuse detection shows), and the only access tokens
/// refused as revoked are those of sessions that logged out.
fn assert_no_session_was_falsely_revoked(log: &ServerLog, totals: &Totals) {
    let refreshes = log.total(|key| key.starts_with("POST /api/refresh "));
    assert_eq!(
        log.count("POST /api/refresh 200"),
        refreshes,
        "refreshes refused: {:?}",
        log.counts()
    );
    assert_eq!(refreshes, totals.refreshes, "the clients' refresh count");
    assert_eq!(
        log.count("me 401 revoked") as usize,
        totals.revocations_held,
        "only logged-out tokens are refused as revoked"
    );
    assert_eq!(totals.session_ended, 0);
    assert_eq!(
        log.total(|key| key.starts_with("POST /api/logout ")),
        log.count("POST /api/logout 204")
    );
    assert_eq!(
        log.total(|key| key.starts_with("POST /api/login ")),
        log.count("POST /api/login 200")
    );
    assert_eq!(log.server_errors(), Vec::<String>::new());
}

/// With 1-second tokens every task refreshes about once a second, so an
/// 18-second soak makes more than ten refreshes per task, even slowed down;
/// every logging-out task logs out every two seconds or so.
fn assert_many_refresh_cycles_and_logouts(reports: &[TaskReport], totals: &Totals) {
    let fewest = TASKS as u64 * 10;
    assert!(
        totals.refreshes >= fewest,
        "{} refreshes, fewer than {fewest}",
        totals.refreshes
    );
    for report in reports
        .iter()
        .filter(|r| r.task.is_multiple_of(LOGOUT_EVERY_NTH))
    {
        let logouts = report.count(&Outcome::LoggedOut);
        assert!(
            logouts >= 3,
            "task {} logged out {logouts} times",
            report.task
        );
        let checked =
            report.count(&Outcome::RevocationHeld) + report.count(&Outcome::RefusedAsExpired);
        assert_eq!(checked, logouts, "task {}", report.task);
    }
}

/// Old tokens were still taken during the overlap, no live token was
/// refused as invalid, and every client ends on the new key.
fn assert_the_rotation_failed_nothing(
    server: &Server,
    log: &ServerLog,
    reports: &[TaskReport],
    rotation: &KeyRotation,
    deadline: Instant,
) {
    let held = rotation.dropped - rotation.started;
    assert!(held > ACCESS_TTL + LEEWAY, "the old key was held {held:?}");
    assert!(
        rotation.dropped + Duration::from_secs(2) < deadline,
        "the soak went on after the drop"
    );
    assert!(
        log.count("me 200 old key during the overlap") > 0,
        "no token signed by the old key was used during the overlap"
    );
    assert_eq!(log.count("me 401 invalid, token live"), 0);
    assert!(server.issuer().access_keys().find("access-1").is_none());
    for report in reports {
        if let Some(access) = &report.last_access {
            assert_eq!(
                kid(access).as_deref(),
                Some("access-2"),
                "task {}",
                report.task
            );
        }
    }
}

fn assert_memory_stayed_bounded(name: &str, samples: &[Sample]) {
    assert!(samples.len() > 10, "only {} samples", samples.len());
    let over: Vec<_> = samples.iter().filter(|s| s.len > s.bound).collect();
    let largest = samples.iter().map(|s| s.len).max().unwrap_or(0);
    let highest_bound = samples.iter().map(|s| s.bound).max().unwrap_or(0);
    eprintln!(
        "{name} store: {} samples, at most {largest} entries (bounds up to {highest_bound})",
        samples.len()
    );
    assert!(over.is_empty(), "the store outgrew its bound: {over:?}");
}

// ---------------------------------------------------------------------------
// Redis restarted mid-soak.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_soak_fails_closed_recovers_and_keeps_what_was_revoked() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let panics_before = panics();
    let mut redis = PrivateRedis::start().await;
    let server = Server::new(&config("1s", Some(redis.url())))
        .await
        .expect("the server connects to its Redis");
    // The same store behind an issuer of 60-second tokens: they outlive the
    // outage, so what the store says about them after it is what counts.
    let long_lived = Server::with_store(
        &config("60s", None),
        Arc::new(SystemClock),
        Arc::clone(server.sessions().store()),
    )
    .expect("a second issuer");
    let log = Arc::new(ServerLog::default());
    let (base, serving) = serve(&server, Arc::clone(&log)).await;
    let start = Instant::now();
    let soak = Soak::new(base.clone(), start + FAULT_SOAK);
    let tasks = start_clients(&soak);

    let sessions = long_lived.sessions();
    let revoked = sessions.login(DEMO_USER, &NoClaims {}).await.unwrap().pair;
    let witness = sessions.login(DEMO_USER, &NoClaims {}).await.unwrap().pair;
    sessions
        .logout(Some(revoked.access_token()), None)
        .await
        .unwrap();
    let probe = Probe::new(&base);
    assert!(probe.refuses_as_revoked(revoked.access_token()).await);
    assert_eq!(probe.status(witness.access_token()).await, StatusCode::OK);

    tokio::time::sleep_until((start + KILL_AT).into()).await;
    redis.kill();
    let killed = Instant::now();
    let closed = probe
        .until(witness.access_token(), StatusCode::SERVICE_UNAVAILABLE, 5)
        .await
        .expect("protected requests fail closed while Redis is down");
    assert!(
        probe.refuses_as_revoked(revoked.access_token()).await,
        "a held revocation still answers while Redis is down"
    );

    tokio::time::sleep_until((killed + DOWN_FOR).into()).await;
    // Taken before the restart: the store may be back before the test has
    // seen Redis answer.
    let restarted = Instant::now();
    redis.restart().await;
    // After a 503, a 200 means the store's copy is current again, which it
    // becomes only after a resync that writes back what Redis lost.
    let recovered = probe
        .until(witness.access_token(), StatusCode::OK, 10)
        .await
        .expect("the server recovers without a restart");
    assert!(probe.refuses_as_revoked(revoked.access_token()).await);
    assert_eq!(
        probe.refresh(revoked.refresh_token()).await,
        StatusCode::BAD_REQUEST
    );

    // An instance that starts now learns the revocation from Redis.
    let newcomer = Server::new(&config("60s", Some(redis.url())))
        .await
        .expect("a new instance connects");
    let (newcomer_base, _) = serve(&newcomer, Arc::new(ServerLog::default())).await;
    let newcomer_probe = Probe::new(&newcomer_base);
    assert!(
        newcomer_probe
            .refuses_as_revoked(revoked.access_token())
            .await,
        "a revocation made before the restart was lost"
    );
    assert_eq!(
        newcomer_probe.status(witness.access_token()).await,
        StatusCode::OK
    );

    let reports = join_clients(tasks).await;
    let timeline = Timeline {
        start,
        killed,
        restarted,
        recovered,
        end: soak.deadline,
    };
    let totals = Totals::of(&reports);
    // How long after the recovery the last such event came (zero for
    // none, or none after it).
    let since_recovery = |pick: fn(&Outcome) -> bool| {
        let events = reports.iter().flat_map(|r| &r.events);
        let latest = events.filter(|e| pick(&e.outcome)).map(|e| e.at).max();
        latest.map_or(Duration::ZERO, |at| at.saturating_duration_since(recovered))
    };
    eprintln!(
        "restart soak: {:.1?}, {totals}\n  failed closed {:.2?} after the kill, \
         recovered {:.2?} after the restart; after the recovery, the last fail-closed \
         answer at {:.2?}, the last session end at {:.2?}\n  server: {:?}",
        start.elapsed(),
        closed - killed,
        recovered - restarted,
        since_recovery(Outcome::is_fail_closed),
        since_recovery(|o| *o == Outcome::SessionEnded),
        log.counts()
    );
    assert_eq!(panics(), panics_before, "something panicked");
    assert!(!serving.is_finished(), "the server stopped");
    assert_only_success_or_fail_closed(&reports, &log, &timeline);
    assert_every_client_recovered(&reports, &timeline);
}

/// Requests of the test's own, without the middleware.
struct Probe {
    base: String,
    http: reqwest::Client,
}

impl Probe {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: http_client(),
        }
    }

    async fn me(&self, access: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/me", self.base))
            .bearer_auth(access)
            .send()
            .await
            .expect("the server answers")
    }

    async fn status(&self, access: &str) -> StatusCode {
        self.me(access).await.status()
    }

    async fn refuses_as_revoked(&self, access: &str) -> bool {
        refused_as_revoked(&self.me(access).await)
    }

    async fn refresh(&self, refresh: &str) -> StatusCode {
        let body = serde_json::json!({ "refreshToken": refresh });
        let sent = self.http.post(format!("{}/api/refresh", self.base));
        sent.json(&body).send().await.expect("an answer").status()
    }

    /// When `access` first gets `wanted`, asking every 50 ms for at most
    /// `seconds`.
    async fn until(&self, access: &str, wanted: StatusCode, seconds: u64) -> Option<Instant> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < deadline {
            if self.status(access).await == wanted {
                return Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// When things happened in the restart soak.
struct Timeline {
    start: Instant,
    killed: Instant,
    restarted: Instant,
    recovered: Instant,
    end: Instant,
}

impl Timeline {
    /// By when every client must be back to `200`s.
    fn settled(&self) -> Instant {
        self.recovered + RECOVERY
    }
}

/// Every step succeeded or got the documented fail-closed answer, and only
/// while Redis was down or coming back; sessions ended only because the
/// restarted Redis had lost them, once per client at most.
fn assert_only_success_or_fail_closed(reports: &[TaskReport], log: &ServerLog, t: &Timeline) {
    let failed = events_where(reports, t.start, |e| {
        matches!(e.outcome, Outcome::Failed(_))
    });
    assert!(
        failed.is_empty(),
        "{} steps got neither success nor the fail-closed answer; the first: {:#?}",
        failed.len(),
        first_few(&failed)
    );

    let fail_closed = |e: &Event| e.outcome.is_fail_closed();
    let misplaced = events_where(reports, t.start, |e| {
        fail_closed(e) && !(t.killed..t.settled()).contains(&e.at)
    });
    assert!(
        misplaced.is_empty(),
        "fail-closed answers outside the outage: {:#?}",
        first_few(&misplaced)
    );
    assert!(
        !events_where(reports, t.start, fail_closed).is_empty(),
        "no client met the outage"
    );

    let misplaced = events_where(reports, t.start, |e| {
        e.outcome == Outcome::SessionEnded && !(t.restarted..t.settled()).contains(&e.at)
    });
    assert!(
        misplaced.is_empty(),
        "sessions ended outside the restart: {:#?}",
        first_few(&misplaced)
    );
    for report in reports {
        assert!(
            report.relogins_after_session_end <= 1,
            "task {} lost its session {} times",
            report.task,
            report.relogins_after_session_end
        );
    }

    let not_503: Vec<_> = log
        .server_errors()
        .into_iter()
        .filter(|error| !error.contains(" 503 "))
        .collect();
    assert!(not_503.is_empty(), "server errors: {not_503:?}");
}

/// Every client got `200`s again after the restart, and kept getting them
/// to the end.
fn assert_every_client_recovered(reports: &[TaskReport], t: &Timeline) {
    let ok_between = |report: &TaskReport, from: Instant, to: Instant| {
        report
            .events
            .iter()
            .any(|e| e.outcome == Outcome::Ok && (from..to).contains(&e.at))
    };
    for report in reports {
        assert!(
            ok_between(report, t.restarted, t.settled()),
            "task {} got no 200 within {RECOVERY:?} of the recovery",
            report.task
        );
        assert!(
            ok_between(report, t.settled(), t.end),
            "task {} got no 200 after {RECOVERY:?} from the recovery",
            report.task
        );
    }
}
