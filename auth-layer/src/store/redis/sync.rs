//! Keeping the local copy of the revocations current: the pub/sub
//! listener, the resync after every (re)connect, and the heartbeat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fred::error::Error;
use fred::interfaces::{ClientLike, PubsubInterface};
use fred::types::Message;
use fred::types::Value;
use fred::types::config::Server;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

use super::mirror::parse_time;
use super::shared::{Shared, ttl};

/// How many revocations one re-seeding script carries.
const RESEED_BATCH: usize = 256;

/// How often expired entries are dropped from the copy.
const PURGE_EVERY: Duration = Duration::from_secs(30);

/// Applies every revocation published on the channel to the copy.
pub(super) async fn listen(shared: Arc<Shared>, mut messages: Receiver<Message>) {
    loop {
        match messages.recv().await {
            Ok(message) => {
                let read = message
                    .value
                    .as_str()
                    .is_some_and(|text| shared.mirror.hold_message(&text));
                if !read {
                    tracing::debug!(store = "redis", "ignored an unreadable revocation message");
                }
            }
            // Messages were dropped: only a resync can tell which.
            Err(RecvError::Lagged(_)) => shared.lagged.notify_one(),
            Err(RecvError::Closed) => return,
        }
    }
}

/// Watches the subscriber connection: marks the copy stale when it drops
/// or stops answering, and resyncs it once the connection is back.
pub(super) async fn watch(
    shared: Arc<Shared>,
    mut reconnects: Receiver<Server>,
    mut errors: Receiver<(Error, Option<Server>)>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut purged = Instant::now();
    let mut owed = false;
    // The last moment the copy was known to be current.
    let mut confirmed = Instant::now();

    loop {
        // Since when the copy may have missed revocations, if it may have.
        let missed_since = tokio::select! {
            // The streams close when the client quits.
            event = reconnects.recv() => {
                if matches!(event, Err(RecvError::Closed)) {
                    return;
                }
                Some(Instant::now())
            }
            event = errors.recv() => {
                if matches!(event, Err(RecvError::Closed)) {
                    return;
                }
                Some(Instant::now())
            }
            () = shared.lagged.notified() => Some(confirmed),
            _ = ticks.tick() => {
                if purged.elapsed() >= PURGE_EVERY {
                    shared.mirror.purge(shared.clock.now());
                    purged = Instant::now();
                }
                let sent = Instant::now();
                if heartbeat(&shared).await {
                    if !owed {
                        confirmed = sent;
                    }
                    None
                } else {
                    // A hung connection closes nothing: count from the
                    // last answer, not from when the ping gave up.
                    Some(confirmed)
                }
            }
        };
        if let Some(since) = missed_since {
            owed = true;
            if shared.health.lost_since(since) {
                tracing::warn!(
                    store = "redis",
                    stale_after_ms = shared.stale_after_ms(),
                    fail_open = shared.fail_open,
                    "lost the revocation feed from Redis; the local copy goes stale after the bound"
                );
            }
        }

        if owed && shared.subscriber.is_connected() {
            let started = Instant::now();
            match resync(&shared).await {
                Ok(()) => {
                    owed = false;
                    confirmed = started;
                    if let Some(outage) = shared.health.restored() {
                        let outage_ms = u64::try_from(outage.as_millis()).unwrap_or(u64::MAX);
                        tracing::info!(
                            store = "redis",
                            outage_ms,
                            "revocation feed from Redis restored"
                        );
                    }
                }
                Err(error) => {
                    tracing::debug!(store = "redis", %error, "resync failed; retrying");
                }
            }
        }
    }
}

/// Whether the subscriber connection answers a ping.
async fn heartbeat(shared: &Shared) -> bool {
    if !shared.subscriber.is_connected() {
        return false;
    }
    let ping = shared.subscriber.ping::<Value>(None);
    matches!(
        tokio::time::timeout(shared.command_timeout, ping).await,
        Ok(Ok(_))
    )
}

/// Subscribes, then merges every revocation Redis holds into the copy, then
/// writes back the ones Redis lacks (it keeps nothing across a restart).
///
/// Subscribing first means a revocation made during the resync arrives
/// either in the snapshot or as a message; merging in both directions means
/// no revocation in force is ever dropped, wherever it survived.
pub(super) async fn resync(shared: &Shared) -> Result<(), Error> {
    shared
        .subscriber
        .subscribe(shared.keys.channel.as_str())
        .await?;

    let now = shared.clock.now();
    let client = shared.pool.next_connected();
    let revoked = vec![shared.keys.revoked.clone()];
    let flat: Vec<String> = shared
        .scripts
        .snapshot
        .run(client, revoked.clone(), vec![now.to_string()])
        .await?;
    let mut remote = HashMap::with_capacity(flat.len() / 2);
    for pair in flat.chunks_exact(2) {
        if let Some(until) = parse_time(&pair[1]) {
            shared.mirror.hold_member(&pair[0], until);
            remote.insert(pair[0].clone(), until);
        }
    }

    let missing = shared.mirror.missing_from(&remote, now);
    let mut reseeded = 0;
    for batch in missing.chunks(RESEED_BATCH) {
        let latest = batch.iter().map(|(_, until)| *until).max().unwrap_or(now);
        let mut args = Vec::with_capacity(2 + 2 * batch.len());
        args.push(shared.keys.channel.clone());
        args.push(ttl(latest.saturating_sub(now)));
        for (member, until) in batch {
            args.push(member.clone());
            args.push(until.to_string());
        }
        let added: i64 = shared
            .scripts
            .reseed
            .run(client, revoked.clone(), args)
            .await?;
        reseeded += added;
    }
    if reseeded > 0 {
        tracing::info!(
            store = "redis",
            reseeded,
            "wrote back revocations Redis had lost"
        );
    }
    Ok(())
}
