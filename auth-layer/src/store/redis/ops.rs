//! The [`SessionStore`] operations, each one script (or one read).

use fred::interfaces::HashesInterface;
use fred::types::Value;

use super::mirror::parse_time;
use super::shared::{ttl, unavailable};
use super::store::RedisStore;
use crate::store::{
    NewSession, Rotated, Rotation, SessionInfo, SessionStore, StoreError, StoreFuture,
};

impl SessionStore for RedisStore {
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let now = shared.clock.now();
            let keys = vec![
                shared.keys.session(&session.sid),
                shared.keys.answer(&session.sid),
                shared.keys.user(&session.sub),
            ];
            let ttl = ttl(session.expires_at.saturating_sub(now));
            let args = vec![
                session.sub,
                session.claims,
                session.refresh_jti,
                session.expires_at.to_string(),
                ttl,
                session.sid,
            ];
            let _: i64 = shared
                .scripts
                .create
                .run(client, keys, args)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn session<'a>(&'a self, sid: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let fields: Vec<Option<String>> = client
                .hmget(
                    shared.keys.session(sid),
                    vec!["sub", "claims", "cur", "exp"],
                )
                .await
                .map_err(unavailable)?;
            let [sub, claims, current, expires_at] =
                <[Option<String>; 4]>::try_from(fields).map_err(|_| StoreError::Corrupt)?;
            let Some(current_jti) = current else {
                return Ok(None);
            };
            let expires_at = expires_at.as_deref().and_then(parse_time);
            let (Some(sub), Some(claims), Some(expires_at)) = (sub, claims, expires_at) else {
                return Err(StoreError::Corrupt);
            };
            let live = expires_at > shared.clock.now();
            Ok(live.then_some(SessionInfo {
                sub,
                claims,
                current_jti,
            }))
        })
    }

    fn rotate<'a>(&'a self, rotation: Rotation<'a>) -> StoreFuture<'a, Rotated> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let r = &rotation;
            let keys = vec![
                shared.keys.session(r.sid),
                shared.keys.answer(r.sid),
                shared.keys.revoked.clone(),
            ];
            let args = vec![
                r.presented_jti.to_owned(),
                r.next_jti.to_owned(),
                r.expires_at.to_string(),
                r.now.to_string(),
                r.grace.to_string(),
                r.answer.to_owned(),
                r.revoke_until.to_string(),
                ttl(r.expires_at.saturating_sub(r.now)),
                ttl(r.grace.saturating_add(1)),
                format!("s:{}", r.sid),
                shared.keys.channel.clone(),
                ttl(r.revoke_until.saturating_sub(r.now)),
                shared.keys.prefix().to_owned(),
            ];
            let reply: Vec<Value> = shared
                .scripts
                .rotate
                .run(client, keys, args)
                .await
                .map_err(unavailable)?;

            let mut reply = reply.into_iter();
            let code = reply.next().and_then(|code| code.as_i64());
            match code {
                Some(0) => Ok(Rotated::Unknown),
                Some(1) => Ok(Rotated::Rotated),
                Some(2) => {
                    let answer = reply.next().and_then(Value::into_string);
                    answer.map(Rotated::Replayed).ok_or(StoreError::Corrupt)
                }
                Some(3) => {
                    if r.revoke_until > r.now {
                        shared.mirror.hold_session(r.sid, r.revoke_until);
                    }
                    Ok(Rotated::Reused)
                }
                _ => Err(StoreError::Corrupt),
            }
        })
    }

    fn revoke_session<'a>(&'a self, sid: &'a str, keep_until: i64) -> StoreFuture<'a, bool> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let now = shared.clock.now();
            let keys = vec![
                shared.keys.session(sid),
                shared.keys.answer(sid),
                shared.keys.revoked.clone(),
            ];
            let args = vec![
                format!("s:{sid}"),
                keep_until.to_string(),
                now.to_string(),
                shared.keys.channel.clone(),
                ttl(keep_until.saturating_sub(now)),
            ];
            let live: i64 = shared
                .scripts
                .revoke_session
                .run(client, keys, args)
                .await
                .map_err(unavailable)?;

            if keep_until > now {
                shared.mirror.hold_session(sid, keep_until);
            }
            Ok(live == 1)
        })
    }

    fn revoke_user<'a>(&'a self, sub: &'a str, keep_until: i64) -> StoreFuture<'a, usize> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let now = shared.clock.now();
            let keys = vec![shared.keys.user(sub), shared.keys.revoked.clone()];
            let args = vec![
                shared.keys.prefix().to_owned(),
                sub.to_owned(),
                keep_until.to_string(),
                now.to_string(),
                shared.keys.channel.clone(),
                ttl(keep_until.saturating_sub(now)),
            ];
            let reply: Vec<Value> = shared
                .scripts
                .revoke_user
                .run(client, keys, args)
                .await
                .map_err(unavailable)?;

            let mut reply = reply.into_iter();
            let live = reply.next().and_then(|live| live.as_i64());
            let live = live
                .and_then(|live| usize::try_from(live).ok())
                .ok_or(StoreError::Corrupt)?;
            if keep_until > now {
                for sid in reply.filter_map(Value::into_string) {
                    shared.mirror.hold_session(&sid, keep_until);
                }
            }
            Ok(live)
        })
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, expires_at: i64) -> StoreFuture<'a, ()> {
        let shared = self.shared();
        Box::pin(async move {
            let client = shared.client()?;
            let now = shared.clock.now();
            let keys = vec![shared.keys.revoked.clone()];
            let args = vec![
                format!("j:{jti}"),
                expires_at.to_string(),
                now.to_string(),
                shared.keys.channel.clone(),
                ttl(expires_at.saturating_sub(now)),
            ];
            let _: i64 = shared
                .scripts
                .revoke_token
                .run(client, keys, args)
                .await
                .map_err(unavailable)?;

            if expires_at > now {
                shared.mirror.hold_token(jti, expires_at);
            }
            Ok(())
        })
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
