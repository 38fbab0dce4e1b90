-- Shared helpers, prepended to every script of the ticket engine.
--
-- KEYS (all of one primitive, under one hash tag):
--   1 :m  HASH  meta: v (schema), kind, param, cap, used, seq, fence
--   2 :q  ZSET  waiting tickets by arrival sequence
--   3 :t  HASH  waiting ticket -> "n|lease_ms|channel"
--   4 :w  ZSET  waiting ticket -> liveness expiry (server ms)
--   5 :h  ZSET  holder -> lease expiry (server ms)
--   6 :hd HASH  holder -> "n|token|lease_ms"
--   7 :x  ZSET  tombstone (withdrawn or released id) -> expiry (server ms)
-- ARGV[1] = kind, ARGV[2] = param; the rest is per script.
-- All time comes from the server's TIME; clients never send timestamps.

local K_META, K_QUEUE, K_TICKETS, K_LIVE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_HOLDERS, K_HDATA, K_TOMB = KEYS[5], KEYS[6], KEYS[7]
-- The primitive's hint channel, `<prefix>{name}:hint`: in the slot of its keys, as a
-- script's SPUBLISH must be on a cluster.
local K_HINT = string.sub(K_META, 1, -2) .. 'hint'
local SCHEMA = '1'
local BUDGET = 256
local MAX_COUNT = 9007199254740991

local function fmt(x)
  return string.format('%.0f', x)
end

local function fail(code, detail)
  error({err = code .. ' ' .. detail})
end

local NOW_MS, NOW_US
do
  local t = redis.call('TIME')
  local s, us = tonumber(t[1]), tonumber(t[2])
  NOW_MS = s * 1000 + math.floor(us / 1000)
  NOW_US = s * 1000000 + us
end

-- A non-negative integer argument, or a protocol error before anything is written.
local function count_arg(v, what)
  local n = tonumber(v)
  if not n or n < 0 or n > MAX_COUNT or n ~= math.floor(n) then
    fail('TORO_PROTOCOL', 'bad ' .. what)
  end
  return n
end

local function meta_number(v)
  local n = tonumber(v)
  if not n or n < 0 or n > MAX_COUNT then
    fail('TORO_FOREIGN', 'malformed meta field')
  end
  return n
end

-- Validates (or creates) the primitive's meta; returns its state table. Writes nothing unless
-- the primitive is new, so a mismatch or a foreign value leaves everything as it was. One
-- HMGET when it exists (a key of another type is a WRONGTYPE error, caught).
local function open(kind, param)
  count_arg(param, 'param')
  local m = redis.pcall('HMGET', K_META, 'v', 'kind', 'param', 'cap', 'used', 'fence')
  if m.err then
    fail('TORO_FOREIGN', 'meta key is not a hash')
  end
  if m[1] ~= SCHEMA then
    if m[1] == false and redis.call('EXISTS', K_META) == 0 then
      redis.call('HSET', K_META, 'v', SCHEMA, 'kind', kind, 'param', param, 'cap', param,
        'used', '0', 'seq', '0', 'fence', '0')
      return {cap = tonumber(param), used = 0, fence = 0}
    end
    fail('TORO_FOREIGN', 'unknown schema')
  end
  if m[2] ~= kind or m[3] ~= param then
    fail('TORO_MISMATCH', tostring(m[2]) .. ' ' .. tostring(m[3]))
  end
  return {cap = meta_number(m[4]), used = meta_number(m[5]), fence = meta_number(m[6])}
end

local function parse_ticket(v)
  local n, lease, ch = string.match(v or '', '^(%d+)|(%d+)|(.+)$')
  if not n then
    fail('TORO_FOREIGN', 'malformed ticket')
  end
  return tonumber(n), tonumber(lease), ch
end

local function parse_holder(v)
  local n, token, lease = string.match(v or '', '^(%d+)|(%d+)|(%d+)$')
  if not n then
    fail('TORO_FOREIGN', 'malformed holder')
  end
  return tonumber(n), tonumber(token), tonumber(lease)
end

-- Publishes the grant hints gathered in `hints` (one body per client, lines `<id> <token>`)
-- as one sharded message on the primitive's hint channel: each subscriber picks the lines of
-- its own tickets and ignores the rest. `HINTED` keeps what this run published, for a script
-- that returns it too (a release: the releasing client wakes its own granted waiters at once).
local HINTED = ''
local function publish_hints(hints)
  local body = {}
  for _, b in pairs(hints) do
    body[#body + 1] = b
  end
  if #body > 0 then
    HINTED = HINTED .. table.concat(body)
    redis.call('SPUBLISH', K_HINT, table.concat(body))
  end
end

local function tomb(id, lease)
  redis.call('ZADD', K_TOMB, NOW_MS + 2 * lease, id)
end

local function set_used(st, used)
  if used < 0 then used = 0 end
  st.used = used
  redis.call('HSET', K_META, 'used', fmt(used))
end

-- Removes a holder; returns its n, or nil if it holds nothing.
local function drop_holder(st, id)
  local v = redis.call('HGET', K_HDATA, id)
  if not v then
    return nil
  end
  local n, _, lease = parse_holder(v)
  redis.call('HDEL', K_HDATA, id)
  redis.call('ZREM', K_HOLDERS, id)
  set_used(st, st.used - n)
  tomb(id, lease)
  return n
end

-- Removes a waiting ticket; true if it was waiting.
local function drop_ticket(id)
  local v = redis.call('HGET', K_TICKETS, id)
  redis.call('ZREM', K_QUEUE, id)
  redis.call('ZREM', K_LIVE, id)
  if not v then
    return false
  end
  redis.call('HDEL', K_TICKETS, id)
  local _, lease = parse_ticket(v)
  tomb(id, lease)
  return true
end

-- Expired leases release, dead waiters leave the line, old tombstones go (bounded work).
-- `line_empty`: the caller saw the line empty, so there is no waiter to expire.
local function sweep(st, line_empty)
  redis.call('ZREMRANGEBYSCORE', K_TOMB, '-inf', NOW_MS)
  local expired = redis.call('ZRANGEBYSCORE', K_HOLDERS, '-inf', NOW_MS, 'LIMIT', 0, BUDGET)
  for _, id in ipairs(expired) do
    if not drop_holder(st, id) then
      redis.call('ZREM', K_HOLDERS, id)
    end
  end
  if line_empty then
    return
  end
  local dead = redis.call('ZRANGEBYSCORE', K_LIVE, '-inf', NOW_MS, 'LIMIT', 0, BUDGET)
  for _, id in ipairs(dead) do
    drop_ticket(id)
  end
end

-- Makes `id` a holder of `n` with a fresh fencing token: max(last + 1, server time in us).
local function make_holder(st, id, n, lease)
  local token = math.max(st.fence + 1, NOW_US)
  st.fence = token
  st.used = st.used + n
  redis.call('HSET', K_META, 'fence', fmt(token), 'used', fmt(st.used))
  redis.call('ZADD', K_HOLDERS, NOW_MS + lease, id)
  redis.call('HSET', K_HDATA, id, fmt(n) .. '|' .. fmt(token) .. '|' .. fmt(lease))
  return token
end

-- Serves the line from its head while the head fits (a big head request blocks later small
-- ones), records every grant here, then publishes the hints on the primitive's hint channel.
local function grant_loop(st)
  local hints = {}
  for _ = 1, BUDGET do
    local head = redis.call('ZRANGE', K_QUEUE, 0, 0)
    if #head == 0 then
      break
    end
    local id = head[1]
    local v = redis.call('HGET', K_TICKETS, id)
    if not v then
      redis.call('ZREM', K_QUEUE, id)
      redis.call('ZREM', K_LIVE, id)
    else
      local n, lease, ch = parse_ticket(v)
      if st.used + n > st.cap then
        break
      end
      redis.call('ZREM', K_QUEUE, id)
      redis.call('ZREM', K_LIVE, id)
      redis.call('HDEL', K_TICKETS, id)
      local token = make_holder(st, id, n, lease)
      hints[ch] = (hints[ch] or '') .. id .. ' ' .. fmt(token) .. '\n'
    end
  end
  publish_hints(hints)
end

-- Milliseconds until something may change without a script running here: the earliest lease
-- or waiter liveness expiry; -1 if none.
local function wake_hint()
  local best = nil
  local h = redis.call('ZRANGE', K_HOLDERS, 0, 0, 'WITHSCORES')
  if #h == 2 then best = tonumber(h[2]) end
  local w = redis.call('ZRANGE', K_LIVE, 0, 0, 'WITHSCORES')
  if #w == 2 and (not best or tonumber(w[2]) < best) then best = tonumber(w[2]) end
  if not best then
    return -1
  end
  return math.max(best - NOW_MS, 1)
end

-- State of one id: {1, token} holder, {0, 0} waiting, {-2, 0} unknown or withdrawn.
local function state_of(id)
  local hv = redis.call('HGET', K_HDATA, id)
  if hv then
    local _, token = parse_holder(hv)
    return 1, token
  end
  if redis.call('HEXISTS', K_TICKETS, id) == 1 then
    return 0, 0
  end
  return -2, 0
end

-- Refreshes a waiting ticket's liveness with its own lease.
local function touch_ticket(id)
  local v = redis.call('HGET', K_TICKETS, id)
  if v then
    local _, lease = parse_ticket(v)
    redis.call('ZADD', K_LIVE, NOW_MS + lease, id)
  end
end
