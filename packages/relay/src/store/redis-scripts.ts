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

/** Publishes the chunks `fresh` (first seq `first`) like the append script does; nothing when empty. */
const PUBLISH_CHUNKS = `
local function publishChunks(channel, inlineMax, gen, first, fresh)
  if #fresh == 0 then return end
  local bytes = 0
  for _, chunk in ipairs(fresh) do bytes = bytes + #chunk end
  if bytes <= inlineMax then
    redis.call('PUBLISH', channel, cjson.encode({t = 'c', g = gen, s = first, d = fresh}))
  else
    redis.call('PUBLISH', channel, cjson.encode({t = 'c', g = gen, s = first, n = #fresh}))
  end
end
`;

/**
 * Creates a stream with metadata (fields `m:<name>`), initial chunks and an optional end, when the
 * id is free. ARGV: gen (a fresh lease number), ttlMs, channel, inlineMaxBytes, endReason ('' =
 * open), metadataCount, metadata name/value pairs…, data….
 * Returns `{created (0|1), HGETALL of the meta hash…}`.
 */
export const CREATE_SCRIPT = `${PRELUDE}${PUBLISH_CHUNKS}
local gen, ttl, channel, inlineMax, reason = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local metaCount = tonumber(ARGV[6])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local existing = redis.call('HGETALL', KEYS[1])
  table.insert(existing, 1, 0)
  return existing
end
redis.call('DEL', KEYS[2])
local DATA = 7 + metaCount * 2
local count = #ARGV - DATA + 1
local lastSeq = count - 1
redis.call('HSET', KEYS[1], 'status', 'open', 'lastSeq', lastSeq, 'endReason', '', 'gen', gen, 'lease', 0, 'lastWriteAt', now)
for index = 7, DATA - 1, 2 do redis.call('HSET', KEYS[1], 'm:' .. ARGV[index], ARGV[index + 1]) end
local fresh = {}
for index = DATA, #ARGV do
  redis.call('XADD', KEYS[2], (index - DATA) .. '-1', 'd', ARGV[index])
  fresh[#fresh + 1] = ARGV[index]
end
publishChunks(channel, inlineMax, tonumber(gen), 0, fresh)
if reason ~= '' then
  redis.call('HSET', KEYS[1], 'status', 'ended', 'endReason', reason)
  redis.call('PUBLISH', channel, cjson.encode({t = 'e', g = tonumber(gen), s = lastSeq, r = reason}))
end
redis.call('PEXPIRE', KEYS[1], ttl)
if count > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
local created = redis.call('HGETALL', KEYS[1])
table.insert(created, 1, 1)
return created
`;

/**
 * Appends chunks at the tail after the writer checks (see `StreamStore.appendAtTail`).
 * ARGV: ttlMs, channel, inlineMaxBytes, endReason ('' = none), writerSeq ('' = none), producerId
 * ('' = none), producerEpoch, producerSeq, metadataCount, metadata pairs…, data….
 * Returns `{outcome, lastSeq, status, endReason, gen, number, text, firstSeq}`.
 */
export const TAIL_APPEND_SCRIPT = `${PRELUDE}${PUBLISH_CHUNKS}
local ttl, channel, inlineMax, reason, writerSeq = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local producerId, epochText, pseqText = ARGV[6], ARGV[7], ARGV[8]
local metaCount = tonumber(ARGV[9])
local DATA = 10 + metaCount * 2
local fields = redis.call('HMGET', KEYS[1], 'status', 'lastSeq', 'endReason', 'gen', 'wseq', 'endedBy')
if not fields[1] then return redis.error_reply('SS_NOT_FOUND') end
for index = 10, DATA - 1, 2 do redis.call('HSET', KEYS[1], 'm:' .. ARGV[index], ARGV[index + 1]) end
local status, lastSeq, endReason, gen = fields[1], tonumber(fields[2]), fields[3], tonumber(fields[4])
local tuple = producerId .. ' ' .. epochText .. ' ' .. pseqText
local function answer(outcome, number, text, first)
  return {outcome, lastSeq, status, endReason, gen, number or 0, text or '', first or -1}
end
if status == 'ended' then
  if producerId ~= '' and fields[6] == tuple then return answer('duplicate', tonumber(pseqText)) end
  return answer('ended')
end
local producerField = 'p:' .. producerId
if producerId ~= '' then
  local epoch, pseq = tonumber(epochText), tonumber(pseqText)
  local state = redis.call('HGET', KEYS[1], producerField)
  if not state then
    if pseq ~= 0 then return answer('producer-gap', 0) end
  else
    local space = string.find(state, ' ', 1, true)
    local storedEpoch, storedSeq = tonumber(string.sub(state, 1, space - 1)), tonumber(string.sub(state, space + 1))
    if epoch < storedEpoch then return answer('stale-epoch', storedEpoch) end
    if epoch > storedEpoch then
      if pseq ~= 0 then return answer('epoch-seq') end
    elseif pseq <= storedSeq then return answer('duplicate', storedSeq)
    elseif pseq > storedSeq + 1 then return answer('producer-gap', storedSeq + 1) end
  end
end
-- Byte-wise string order (Lua's own comparison follows the server's locale).
local function notAfter(a, b)
  local length = math.min(#a, #b)
  for index = 1, length do
    local x, y = string.byte(a, index), string.byte(b, index)
    if x ~= y then return x < y end
  end
  return #a <= #b
end
if writerSeq ~= '' and fields[5] and notAfter(writerSeq, fields[5]) then return answer('writer-seq', 0, fields[5]) end
local first = lastSeq + 1
local fresh = {}
for index = DATA, #ARGV do
  lastSeq = lastSeq + 1
  redis.call('XADD', KEYS[2], lastSeq .. '-1', 'd', ARGV[index])
  fresh[#fresh + 1] = ARGV[index]
end
redis.call('HSET', KEYS[1], 'lastSeq', lastSeq, 'lastWriteAt', now, 'lease', 0)
if producerId ~= '' then redis.call('HSET', KEYS[1], producerField, epochText .. ' ' .. pseqText) end
if writerSeq ~= '' then redis.call('HSET', KEYS[1], 'wseq', writerSeq) end
publishChunks(channel, inlineMax, gen, first, fresh)
if reason ~= '' then
  status, endReason = 'ended', reason
  redis.call('HSET', KEYS[1], 'status', 'ended', 'endReason', reason)
  if producerId ~= '' then redis.call('HSET', KEYS[1], 'endedBy', tuple) end
  redis.call('PUBLISH', channel, cjson.encode({t = 'e', g = gen, s = lastSeq, r = reason}))
end
redis.call('PEXPIRE', KEYS[1], ttl)
if lastSeq >= 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return answer('appended', 0, '', first)
`;

/**
 * Sets or removes metadata fields of an existing stream. ARGV: triples name, op ('set' | 'del'), value.
 * Returns 0 (no such stream) or 1.
 */
export const SET_METADATA_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for index = 1, #ARGV, 3 do
  if ARGV[index + 1] == 'set' then redis.call('HSET', KEYS[1], 'm:' .. ARGV[index], ARGV[index + 2])
  else redis.call('HDEL', KEYS[1], 'm:' .. ARGV[index]) end
end
return 1
`;

/** Adds ARGV[2] to metadata field ARGV[1] of an existing stream. Returns `{found (0|1), value}`. */
export const INCREMENT_METADATA_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
return {1, redis.call('HINCRBY', KEYS[1], 'm:' .. ARGV[1], ARGV[2])}
`;

/** The scripts as ioredis custom commands (`defineCommand`), with the number of keys each takes. */
export const SCRIPTS = {
  ssRelayOpen: { lua: OPEN_SCRIPT, numberOfKeys: 2 },
  ssRelayAppend: { lua: APPEND_SCRIPT, numberOfKeys: 2 },
  ssRelayEnd: { lua: END_SCRIPT, numberOfKeys: 2 },
  ssRelaySettle: { lua: SETTLE_SCRIPT, numberOfKeys: 1 },
  ssRelayCreate: { lua: CREATE_SCRIPT, numberOfKeys: 2 },
  ssRelayTailAppend: { lua: TAIL_APPEND_SCRIPT, numberOfKeys: 2 },
  ssRelaySetMetadata: { lua: SET_METADATA_SCRIPT, numberOfKeys: 1 },
  ssRelayIncrementMetadata: { lua: INCREMENT_METADATA_SCRIPT, numberOfKeys: 1 },
} as const;

type Arg = string | number;

/** A client with the scripts defined (what `defineCommand` adds, typed). */
export interface ScriptedClient {
  ssRelayOpen(meta: string, chunks: string, ...args: Arg[]): Promise<[string, number, string, number]>;
  ssRelayAppend(meta: string, chunks: string, ...args: Arg[]): Promise<[number, number, number]>;
  ssRelayEnd(meta: string, chunks: string, ...args: Arg[]): Promise<[string, number?, string?, number?, number?]>;
  ssRelaySettle(openSet: string, ...args: Arg[]): Promise<number>;
  ssRelayCreate(meta: string, chunks: string, ...args: Arg[]): Promise<[number, ...string[]]>;
  ssRelayTailAppend(meta: string, chunks: string, ...args: Arg[]): Promise<[string, number, string, string, number, number, string, number]>;
  ssRelaySetMetadata(meta: string, ...args: Arg[]): Promise<number>;
  ssRelayIncrementMetadata(meta: string, ...args: Arg[]): Promise<[number, number]>;
}
