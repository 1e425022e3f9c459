//! The Lua scripts that make each write one atomic step in Redis.
//!
//! Times arrive as integer strings and are compared with `tonumber`; key
//! lifetimes (`ttl` arguments) are computed and clamped by the caller, since
//! Lua numbers cannot carry every `i64`. A session or user key is built
//! inside a script from the prefix where the script finds its id in Redis
//! (the reason this store does not support Redis Cluster).

use fred::clients::Client;
use fred::error::Error;
use fred::interfaces::LuaInterface;
use fred::types::{FromValue, MultipleKeys, Value};

/// Helpers shared by the scripts that revoke.
const PRELUDE: &str = r#"
local function revoke(zset, member, untl, now, ttl, channel)
  if tonumber(untl) <= tonumber(now) then return end
  redis.call('ZADD', zset, 'GT', untl, member)
  if redis.call('TTL', zset) < tonumber(ttl) then
    redis.call('EXPIRE', zset, ttl)
  end
  redis.call('PUBLISH', channel, untl .. ' ' .. member)
end

local function end_session(skey, akey, now)
  local exp = tonumber(redis.call('HGET', skey, 'exp'))
  redis.call('DEL', skey, akey)
  return exp ~= nil and exp > tonumber(now)
end
"#;

/// KEYS: session, answer, user. ARGV: sub, claims, jti, exp, ttl, sid.
const CREATE: &str = r#"
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'claims', ARGV[2], 'cur', ARGV[3], 'exp', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
if redis.call('TTL', KEYS[3]) < tonumber(ARGV[5]) then
  redis.call('EXPIRE', KEYS[3], ARGV[5])
end
return 1
"#;

/// KEYS: session, answer, revocations. ARGV: presented, next, exp, now,
/// grace, answer, revoke_until, ttl, answer_ttl, member, channel,
/// revoke_ttl, prefix. Returns `{0}` unknown, `{1}` rotated,
/// `{2, answer}` replayed, `{3}` reused (and revoked).
const ROTATE: &str = r#"
local now = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'cur', 'prev', 'prev_at', 'exp', 'sub')
local exp = tonumber(s[4])
if not s[1] or exp == nil or exp <= now then return {0} end

if s[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'prev', s[1], 'prev_at', ARGV[4])
  if tonumber(ARGV[3]) > exp then redis.call('HSET', KEYS[1], 'exp', ARGV[3]) end
  local ttl = tonumber(ARGV[8])
  if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
  if s[5] then
    local ukey = ARGV[13] .. 'u:' .. s[5]
    if redis.call('TTL', ukey) < ttl then redis.call('EXPIRE', ukey, ttl) end
  end
  if grace > 0 then
    redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[9])
  else
    redis.call('DEL', KEYS[2])
  end
  return {1}
end

if s[2] == ARGV[1] and grace > 0 and now - tonumber(s[3] or '0') <= grace then
  local answer = redis.call('GET', KEYS[2])
  if answer then return {2, answer} end
end
end_session(KEYS[1], KEYS[2], now)
revoke(KEYS[3], ARGV[10], ARGV[7], now, ARGV[12], ARGV[11])
return {3}
"#;

/// KEYS: session, answer, revocations. ARGV: member, until, now, channel,
/// ttl. Returns 1 when the session was live.
const REVOKE_SESSION: &str = r#"
local live = end_session(KEYS[1], KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[3])
revoke(KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[4])
if live then return 1 end
return 0
"#;

/// KEYS: user, revocations. ARGV: prefix, sub, until, now, channel, ttl.
/// Returns `{live, sid...}` with every session id revoked.
const REVOKE_USER: &str = r#"
local out = {0}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local skey = ARGV[1] .. 's:' .. sid
  if redis.call('HGET', skey, 'sub') == ARGV[2] then
    if end_session(skey, ARGV[1] .. 'a:' .. sid, ARGV[4]) then out[1] = out[1] + 1 end
    revoke(KEYS[2], 's:' .. sid, ARGV[3], ARGV[4], ARGV[6], ARGV[5])
    out[#out + 1] = sid
  end
end
redis.call('DEL', KEYS[1])
return out
"#;

/// KEYS: revocations. ARGV: member, until, now, channel, ttl.
const REVOKE_TOKEN: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
revoke(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[4])
return 1
"#;

/// KEYS: revocations. ARGV: now. Returns `{member, until, ...}` in force.
const SNAPSHOT: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
"#;

/// KEYS: revocations. ARGV: channel, ttl, then member, until pairs.
/// Publishes and counts the pairs Redis lacked or held for less long.
const RESEED: &str = r#"
local added = 0
for i = 3, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[i + 1], ARGV[i]) == 1 then
    redis.call('PUBLISH', ARGV[1], ARGV[i + 1] .. ' ' .. ARGV[i])
    added = added + 1
  end
end
if added > 0 and redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return added
"#;

/// One script: its text, and the SHA-1 Redis gave it when it was loaded.
pub(super) struct Script {
    lua: String,
    sha: String,
}

impl Script {
    async fn load(client: &Client, body: &str, prelude: bool) -> Result<Self, Error> {
        let lua = if prelude {
            format!("{PRELUDE}{body}")
        } else {
            body.to_owned()
        };
        let sha: String = client.script_load(lua.as_str()).await?;
        Ok(Self { lua, sha })
    }

    /// Runs the script by its hash, and by its text when Redis has
    /// forgotten it (after a restart or `SCRIPT FLUSH`), which also loads
    /// it again.
    pub(super) async fn run<R: FromValue>(
        &self,
        client: &Client,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<R, Error> {
        // Converted once, so that a retry clones reference counts only.
        let keys = MultipleKeys::from(keys);
        let args = Value::Array(args.into_iter().map(Value::from).collect());
        let reply: Result<Value, Error> = client
            .evalsha(self.sha.as_str(), keys.clone(), args.clone())
            .await;
        match reply {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                client.eval(self.lua.as_str(), keys, args).await
            }
            reply => reply?.convert(),
        }
    }
}

/// Every script, loaded once when the store connects.
pub(super) struct Scripts {
    pub(super) create: Script,
    pub(super) rotate: Script,
    pub(super) revoke_session: Script,
    pub(super) revoke_user: Script,
    pub(super) revoke_token: Script,
    pub(super) snapshot: Script,
    pub(super) reseed: Script,
}

impl Scripts {
    pub(super) async fn load(client: &Client) -> Result<Self, Error> {
        Ok(Self {
            create: Script::load(client, CREATE, false).await?,
            rotate: Script::load(client, ROTATE, true).await?,
            revoke_session: Script::load(client, REVOKE_SESSION, true).await?,
            revoke_user: Script::load(client, REVOKE_USER, true).await?,
            revoke_token: Script::load(client, REVOKE_TOKEN, true).await?,
            snapshot: Script::load(client, SNAPSHOT, false).await?,
            reseed: Script::load(client, RESEED, false).await?,
        })
    }
}
