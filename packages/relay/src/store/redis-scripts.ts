// The Lua scripts of the Redis store. Each one touches only the keys of one stream (`KEYS[1]` =
// `<prefix>{<id>}:meta`, `KEYS[2]` = `<prefix>{<id>}:chunks`, one hash slot thanks to the hash
// tag), so they run atomically on a single node and work on Redis Cluster. Timestamps come from
// Redis's own clock (`TIME`), so several relays never disagree about how old a write is.
//
// Chunk `seq` is stored under the stream entry ID `<seq>-1`: the first part of the ID *is* the seq
// (`-1` because `0-0` is not a valid ID), so `XRANGE key <from> <to>` reads seqs from..to directly.
//
// Failures are error replies `SS_<CODE> <argument>`; `redis-errors.ts` turns them into
// `StreamstraightError`s. Notifications are published on `<prefix>{<id>}:events` as JSON:
// `{t:'c', g, s, d:[...]}` (chunks with their data), `{t:'c', g, s, n}` (chunks too large to inline:
// read them with XRANGE) and `{t:'e', g, s, r}` (end; `s` is the last seq). `g` is the stream's
// generation: it grows when an id is reused (overwrite, or a new stream after expiry), so a
// listener never mixes two streams that shared an id.

/** Checks that the stream's keys hold what this store writes there (a foreign key type is refused, not crashed on). */
const PRELUDE = `
local function wrongType(key, expected)
  local found = redis.call('TYPE', key)['ok']
  if found ~= 'none' and found ~= expected then return 'SS_WRONGTYPE ' .. key .. ' ' .. found .. ' ' .. expected end
  return nil
end
local bad = wrongType(KEYS[1], 'hash') or wrongType(KEYS[2], 'stream')
if bad then return redis.error_reply(bad) end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * Opens a stream and takes the lease.
 * ARGV: mode (create | resume | attach | overwrite), lease, ttlMs, openId ('' for none).
 * Returns `{status, lastSeq, endReason, gen}`.
 */
export const OPEN_SCRIPT = `${PRELUDE}
local mode, lease, ttl, openId = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fields = redis.call('HMGET', KEYS[1], 'status', 'lastSeq', 'endReason', 'gen', 'openId')
local status, lastSeq, endReason, gen = fields[1], fields[2], fields[3], fields[4]
if status then
  if mode == 'create' then return redis.error_reply('SS_EXISTS') end
  if mode == 'resume' and openId ~= '' and fields[5] ~= openId then return redis.error_reply('SS_EXISTS') end
  if mode == 'attach' and status == 'ended' then return redis.error_reply('SS_ENDED ' .. endReason) end
end
if (not status) or mode == 'overwrite' then
  local nextGen = tonumber(lease)
  if gen and tonumber(gen) >= nextGen then nextGen = tonumber(gen) + 1 end
  redis.call('DEL', KEYS[1], KEYS[2])
  status, lastSeq, endReason, gen = 'open', '-1', '', tostring(nextGen)
  redis.call('HSET', KEYS[1], 'status', status, 'lastSeq', lastSeq, 'endReason', endReason, 'gen', gen)
  if openId ~= '' then redis.call('HSET', KEYS[1], 'openId', openId) end
end
redis.call('HSET', KEYS[1], 'lease', lease, 'lastWriteAt', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {status, tonumber(lastSeq), endReason, tonumber(gen)}
`;

/**
 * Appends chunks `seq, seq+1, …` (ARGV[6..]): drops the already-stored prefix, refuses a gap.
 * ARGV: lease, seq, ttlMs, channel, inlineMaxBytes, data….
 * Returns `{lastSeq, firstNewSeq (-1 when nothing was new), gen}`.
 */
export const APPEND_SCRIPT = `${PRELUDE}
local lease, seq, ttl, channel, inlineMax = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local DATA = 6
local count = #ARGV - DATA + 1
local fields = redis.call('HMGET', KEYS[1], 'status', 'lease', 'lastSeq', 'endReason', 'gen')
if not fields[1] then return redis.error_reply('SS_NOT_FOUND') end
if fields[2] ~= lease then return redis.error_reply('SS_LEASE_LOST') end
local lastSeq, gen = tonumber(fields[3]), tonumber(fields[5])
if fields[1] == 'ended' then
  if seq + count - 1 <= lastSeq then return {lastSeq, -1, gen} end
  return redis.error_reply('SS_ENDED ' .. fields[4])
end
if seq > lastSeq + 1 then return redis.error_reply('SS_SEQ_GAP ' .. lastSeq) end
local first = lastSeq + 1
if seq + count - 1 < first then return {lastSeq, -1, gen} end
local fresh, bytes = {}, 0
for index = DATA + first - seq, #ARGV do
  local chunk = ARGV[index]
  redis.call('XADD', KEYS[2], (seq + index - DATA) .. '-1', 'd', chunk)
  fresh[#fresh + 1] = chunk
  bytes = bytes + #chunk
end
lastSeq = seq + count - 1
redis.call('HSET', KEYS[1], 'lastSeq', lastSeq, 'lastWriteAt', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if bytes <= inlineMax then
  redis.call('PUBLISH', channel, cjson.encode({t = 'c', g = gen, s = first, d = fresh}))
else
  redis.call('PUBLISH', channel, cjson.encode({t = 'c', g = gen, s = first, n = #fresh}))
end
return {lastSeq, first, gen}
`;

/**
 * Ends a stream.
 * ARGV: lease ('' = the relay ends it), reason, expectedLastSeq ('' = any), ttlMs, channel,
 * inactivityMs ('' = unconditional; else a sweep: end only when idle that long, never fail).
 * Returns `{state, lastSeq, endReason, gen, changed}`; a sweep may also return `{'missing'}`,
 * `{'active', lastWriteAt}` or `{'ended', …}` for a stream that ended earlier.
 */
export const END_SCRIPT = `${PRELUDE}
local lease, reason, expected, ttl, channel, idle = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local sweep = idle ~= ''
local fields = redis.call('HMGET', KEYS[1], 'status', 'lease', 'lastSeq', 'endReason', 'gen', 'lastWriteAt')
if not fields[1] then
  if sweep then return {'missing'} end
  return redis.error_reply('SS_NOT_FOUND')
end
if lease ~= '' and fields[2] ~= lease then return redis.error_reply('SS_LEASE_LOST') end
local lastSeq, gen = tonumber(fields[3]), tonumber(fields[5])
if fields[1] == 'ended' then
  if sweep or fields[4] == reason then return {'ended', lastSeq, fields[4], gen, 0} end
  return redis.error_reply('SS_ENDED ' .. fields[4])
end
if sweep and now - tonumber(fields[6]) < tonumber(idle) then return {'active', tonumber(fields[6])} end
if expected ~= '' and tonumber(expected) ~= lastSeq then return redis.error_reply('SS_END_MISMATCH ' .. lastSeq) end
redis.call('HSET', KEYS[1], 'status', 'ended', 'endReason', reason, 'lastWriteAt', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', channel, cjson.encode({t = 'e', g = gen, s = lastSeq, r = reason}))
return {'ended', lastSeq, reason, gen, 1}
`;

/**
 * Settles a swept member of the open-streams sorted set (`KEYS[1]`), without racing an `open`
 * that re-added it meanwhile: `remove` only if the score is still the one the sweep saw,
 * `rescore` only upwards. ARGV: member, action (remove | rescore), score.
 */
export const SETTLE_SCRIPT = `
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not current then return 0 end
if ARGV[2] == 'remove' then
  if tonumber(current) <= tonumber(ARGV[3]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
elseif tonumber(current) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`;

/** The scripts as ioredis custom commands (`defineCommand`), with the number of keys each takes. */
export const SCRIPTS = {
  ssRelayOpen: { lua: OPEN_SCRIPT, numberOfKeys: 2 },
  ssRelayAppend: { lua: APPEND_SCRIPT, numberOfKeys: 2 },
  ssRelayEnd: { lua: END_SCRIPT, numberOfKeys: 2 },
  ssRelaySettle: { lua: SETTLE_SCRIPT, numberOfKeys: 1 },
} as const;

type Arg = string | number;

/** A client with the scripts defined (what `defineCommand` adds, typed). */
export interface ScriptedClient {
  ssRelayOpen(meta: string, chunks: string, ...args: Arg[]): Promise<[string, number, string, number]>;
  ssRelayAppend(meta: string, chunks: string, ...args: Arg[]): Promise<[number, number, number]>;
  ssRelayEnd(meta: string, chunks: string, ...args: Arg[]): Promise<[string, number?, string?, number?, number?]>;
  ssRelaySettle(openSet: string, ...args: Arg[]): Promise<number>;
}
