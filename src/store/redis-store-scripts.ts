/**
 * The Lua scripts of the Redis event store. Each runs atomically on the server: no other
 * command (from this relay or another instance) interleaves with it.
 *
 * Key arguments follow `StoreKeys` (redis-keys.ts). Replies use RESP2 arrays; Lua `false`
 * becomes null.
 */
import { LuaScript } from "./redis-script.ts";

/**
 * The stream's own record of the newest id ever added (`last-generated-id`): it survives
 * trimming and counts entries added by anyone, so ids computed from it are always accepted.
 */
const LAST_ID = `
local function lastId(stream)
  if redis.call('EXISTS', stream) == 0 then return false end
  local info = redis.call('XINFO', 'STREAM', stream)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return false
end
`;

/**
 * The store's epoch (event-ids.ts), created from the caller's candidate when the key is missing:
 * on a new Redis, and after the store's keys were deleted (FLUSHALL), so that a history starting
 * over never reuses the identity of the one that was lost.
 */
const EPOCH = `
local function epochOf(key, candidate)
  redis.call('SET', key, candidate, 'NX')
  return redis.call('GET', key)
end
`;

/**
 * Reads what a commit decides on: the newest event id, the server clock (so ids do not depend
 * on the relay's clock), the epoch and the current JSON of each requested record.
 *
 * KEYS: records, events, epoch. ARGV: candidate epoch, then record keys.
 * Reply: [last id or null, seconds, microseconds, epoch, json-or-null per key].
 */
export const READ_FOR_COMMIT = new LuaScript(`${LAST_ID}${EPOCH}
local reply = { lastId(KEYS[2]) }
local now = redis.call('TIME')
reply[2] = now[1]
reply[3] = now[2]
reply[4] = epochOf(KEYS[3], ARGV[1])
for i = 2, #ARGV do
  reply[i + 3] = redis.call('HGET', KEYS[1], ARGV[i])
end
return reply
`);

/**
 * Compare-and-append. Applies the batch only if no event was appended since the read (the
 * newest id is unchanged); otherwise answers 'conflict' and writes nothing, so the caller
 * re-reads and decides again. The epoch must be the one the ids were made with: keys deleted
 * in between (FLUSHALL) make a conflict too. Checking the newest id covers the records too: every record
 * write goes through this script together with an event. The ids are computed by the caller
 * (it needs them for the outbox entries) from that newest id, so they are always accepted.
 *
 * KEYS: records, events, prunedThrough, outboxDue, outbox pending set, epoch, events per
 * minute, then one outbox item hash per outbox entry.
 * ARGV: expected last id ('' when none), approximate max length ('' for none), now (ms),
 * epoch, event count, then per event: id, record key, record JSON ('' to remove), event JSON; then per
 * outbox entry: key, destination, payload JSON.
 * Reply: 'ok' or 'conflict'.
 */
export const COMMIT = new LuaScript(`${LAST_ID}
local records, events, prunedThrough = KEYS[1], KEYS[2], KEYS[3]
if (lastId(events) or '') ~= ARGV[1] then return 'conflict' end
local maxLen, now, epoch, count = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('GET', KEYS[6]) ~= epoch then return 'conflict' end
local i = 6
for _ = 1, count do
  local id, key, record, event = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  redis.call('XADD', events, id, 'event', event, 'epoch', epoch)
  -- Counted per minute of the id's time, so "events in the last hour" never walks the stream.
  local ms = tonumber(string.match(id, '^(%d+)'))
  redis.call('HINCRBY', KEYS[7], string.format('%d', math.floor(ms / 60000)), 1)
  if record == '' then
    redis.call('HDEL', records, key)
  else
    redis.call('HSET', records, key, record)
  end
end
if maxLen ~= '' and count > 0 and redis.call('XTRIM', events, 'MAXLEN', '~', maxLen) > 0 then
  -- Approximate trimming does not say which entry went last. Mark the id just before the new
  -- first entry: a reader exactly at the last removed id gets a needless reset, never a gap.
  local first = redis.call('XRANGE', events, '-', '+', 'COUNT', 1)[1][1]
  local ms, seq = string.match(first, '^(%d+)%-(%d+)$')
  if seq ~= '0' then
    redis.call('SET', prunedThrough, ms .. '-' .. string.format('%d', tonumber(seq) - 1))
  else
    redis.call('SET', prunedThrough, string.format('%d', tonumber(ms) - 1) .. '-18446744073709551615')
  end
end
local item = 8
while i <= #ARGV do
  local key, destination, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  -- The first entry for a key wins: a redelivered batch must not alert twice.
  if redis.call('EXISTS', KEYS[item]) == 0 then
    redis.call('HSET', KEYS[item], 'destination', destination, 'payload', payload,
      'status', 'pending', 'attempts', 0, 'nextAttemptAt', now, 'createdAt', now, 'updatedAt', now)
    redis.call('ZADD', KEYS[4], now, key)
    redis.call('ZADD', KEYS[5], now, key)
  end
  item = item + 1
end
return 'ok'
`);

/**
 * Events after an id, with what the caller needs to tell whether it missed some.
 *
 * KEYS: events, prunedThrough, epoch. ARGV: entry id (already validated), count, candidate epoch.
 * Reply: [last id or null, prunedThrough or null, first retained id or null, entries, epoch].
 */
export const READ_AFTER = new LuaScript(`${LAST_ID}${EPOCH}
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
-- pcall: an exclusive start at the largest possible id is an error, and means "nothing after".
local entries = redis.pcall('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
if entries.err then entries = {} end
return { lastId(KEYS[1]), redis.call('GET', KEYS[2]), first and first[1] or false, entries,
  epochOf(KEYS[3], ARGV[3]) }
`);

/**
 * Current states and the id they are consistent with, read together.
 *
 * KEYS: records, events, epoch. ARGV: candidate epoch.
 * Reply: [last id or null, [key, json, key, json, ...], epoch].
 */
export const SNAPSHOT = new LuaScript(`${LAST_ID}${EPOCH}
return { lastId(KEYS[2]), redis.call('HGETALL', KEYS[1]), epochOf(KEYS[3], ARGV[1]) }
`);

/**
 * The newest entries, newest first, with the epoch of entries that carry none.
 *
 * KEYS: events, epoch. ARGV: end ('+' or '(<entry id>'), count, candidate epoch.
 * Reply: [epoch, entries].
 */
export const READ_LATEST = new LuaScript(`${EPOCH}
local entries = redis.call('XREVRANGE', KEYS[1], ARGV[1], '-', 'COUNT', ARGV[2])
return { epochOf(KEYS[2], ARGV[3]), entries }
`);

/**
 * Counts the events committed at or after a time: the entries of its own minute read from the
 * stream (at most a minute of events), every later minute from the counters COMMIT keeps. The
 * work is bounded by one minute and the number of counters, never by the backlog, so an admin
 * polling /api/status cannot stall Redis for every instance.
 *
 * KEYS: events, events per minute. ARGV: time (ms). Reply: the count.
 */
export const COUNT_SINCE = new LuaScript(`
local since = tonumber(ARGV[1])
local minute = math.floor(since / 60000)
local count = #redis.call('XRANGE', KEYS[1], string.format('%d', since) .. '-0',
  '(' .. string.format('%d', (minute + 1) * 60000) .. '-0')
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do
  if tonumber(flat[i]) > minute then count = count + tonumber(flat[i + 1]) end
end
return count
`);

/** KEYS: events, epoch. ARGV: candidate epoch. Reply: [newest id ever added or null, epoch]. */
export const LAST_EVENT_ID = new LuaScript(`${LAST_ID}${EPOCH}
return { lastId(KEYS[1]), epochOf(KEYS[2], ARGV[1]) }
`);

/**
 * Drops history by age then by count and records the newest id removed.
 *
 * KEYS: events, prunedThrough, events per minute. ARGV: age boundary "<ms>-0" ('' for none),
 * max events.
 * Reply: number of entries removed.
 */
export const PRUNE = new LuaScript(`
local events = KEYS[1]
local removed, lastRemoved = 0, false
if ARGV[1] ~= '' then
  local older = redis.call('XREVRANGE', events, '(' .. ARGV[1], '-', 'COUNT', 1)
  if #older > 0 then
    lastRemoved = older[1][1]
    removed = removed + redis.call('XTRIM', events, 'MINID', ARGV[1])
  end
end
local excess = redis.call('XLEN', events) - tonumber(ARGV[2])
if excess > 0 then
  -- Find the newest entry that goes, page by page so memory stays bounded on a large backlog.
  local cursor = '-'
  while excess > 0 do
    local page = redis.call('XRANGE', events, cursor, '+', 'COUNT', math.min(excess, 1000))
    lastRemoved = page[#page][1]
    excess = excess - #page
    cursor = '(' .. lastRemoved
  end
  removed = removed + redis.call('XTRIM', events, 'MAXLEN', ARGV[2])
end
if lastRemoved then redis.call('SET', KEYS[2], lastRemoved) end
if ARGV[1] ~= '' then
  -- Minute counters live as long as the history they count: bounded by the age policy.
  local oldest = math.floor(tonumber(string.match(ARGV[1], '^(%d+)')) / 60000)
  local stale = {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
    if tonumber(field) < oldest then stale[#stale + 1] = field end
  end
  for start = 1, #stale, 1000 do
    redis.call('HDEL', KEYS[3], unpack(stale, start, math.min(start + 999, #stale)))
  end
end
return removed
`);
