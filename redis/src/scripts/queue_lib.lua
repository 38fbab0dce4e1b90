-- Queue helpers, prepended (instead of lib.lua) to every script a queue runs. They keep the
-- names and signatures of the ticket engine's helpers, so the engine's status, withdraw and
-- renew scripts run unchanged over a queue; acquire, release and stats are queue_*.lua.
--
-- KEYS (all of one queue, under one hash tag):
--   1 :m  HASH  meta: v, kind, param, seq, unfinished, closed
--   2 :q  ZSET  waiting getters by arrival sequence
--   3 :t  HASH  waiting ticket -> "class|lease_ms|item|score|channel" (class 0 get, 1 put, 2 join)
--   4 :w  ZSET  waiting ticket (any class) -> liveness expiry (server ms)
--   5 :h  ZSET  delivery (getter id) -> lease expiry (server ms)
--   6 :hd HASH  delivery -> "item|attempt|lease_ms"
--   7 :x  ZSET  tombstone (withdrawn or released id) -> expiry (server ms)
--   8 :r  ZSET  ready items: item -> score (FIFO seq, LIFO -seq, priority p); lowest first
--   9 :i  HASH  item -> payload (codec bytes), for ready, delivered, returning and putters' items
--  10 :a  HASH  item -> deliveries so far
--  11 :p  HASH  item -> priority (priority queues)
--  12 :pq ZSET  waiting putters by arrival sequence
--  13 :jq ZSET  waiting joiners by arrival sequence
--  14 :c  ZSET  completed put / join tickets -> expiry (answers a retried or re-checked ticket)
--  15 :b  ZSET  returned items waiting for room in a full queue -> order
--  16 :d  LIST  dead letters: "reason|attempts|" .. payload
-- ARGV[1] = kind, ARGV[2] = param = bound + max_attempts * 2^32; the rest is per script.
-- An item id is its sequence number as 16 hex digits, so members of equal score (equal
-- priority) sort in put order.

local K_META, K_QUEUE, K_TICKETS, K_LIVE = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_HOLDERS, K_HDATA, K_TOMB = KEYS[5], KEYS[6], KEYS[7]
local K_READY, K_ITEMS, K_ATT, K_PRIO = KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local K_PUTQ, K_JOINQ, K_DONE, K_BACK, K_DEAD = KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16]
-- The queue's hint channel, `<prefix>{name}:hint`, in the slot of its keys (see lib.lua).
local K_HINT = string.sub(K_META, 1, -2) .. 'hint'
local SCHEMA = '1'
local BUDGET = 256
local MAX_COUNT = 9007199254740991
local TWO32 = 4294967296

local function fmt(x)
  return string.format('%.0f', x)
end

local function fail(code, detail)
  error({err = code .. ' ' .. detail})
end

local NOW_MS
do
  local t = redis.call('TIME')
  NOW_MS = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function count_arg(v, what)
  local n = tonumber(v)
  if not n or n < 0 or n > MAX_COUNT or n ~= math.floor(n) then
    fail('TORO_PROTOCOL', 'bad ' .. what)
  end
  return n
end

local function meta_number(v)
  local n = tonumber(v)
  if not n or n < 0 or n > MAX_COUNT or n ~= math.floor(n) then
    fail('TORO_FOREIGN', 'malformed meta field')
  end
  return n
end

-- Validates (or creates) the queue's meta; returns its state table. Writes nothing unless the
-- queue is new, so a mismatch or a foreign value leaves everything as it was.
local function open(kind, param)
  local p = count_arg(param, 'param')
  if kind ~= 'queue' and kind ~= 'lifo-queue' and kind ~= 'priority-queue' then
    fail('TORO_PROTOCOL', 'not a queue kind')
  end
  local st = {kind = kind, bound = p % TWO32, attempts = math.floor(p / TWO32)}
  -- One HMGET when the queue exists (a key of another type is a WRONGTYPE error, caught).
  local m = redis.pcall('HMGET', K_META, 'v', 'kind', 'param', 'seq', 'unfinished', 'closed')
  if m.err then
    fail('TORO_FOREIGN', 'meta key is not a hash')
  end
  if m[1] ~= SCHEMA then
    if m[1] == false and redis.call('EXISTS', K_META) == 0 then
      redis.call('HSET', K_META, 'v', SCHEMA, 'kind', kind, 'param', param, 'seq', '0',
        'unfinished', '0', 'closed', '0')
      st.seq, st.unfinished, st.closed = 0, 0, false
      return st
    end
    fail('TORO_FOREIGN', 'unknown schema')
  end
  if m[2] ~= kind or m[3] ~= param then
    fail('TORO_MISMATCH', tostring(m[2]) .. ' ' .. tostring(m[3]))
  end
  st.seq = meta_number(m[4])
  st.unfinished = meta_number(m[5])
  st.closed = m[6] == '1'
  return st
end

local function parse_ticket(v)
  local class, lease, item, score, ch =
    string.match(v or '', '^([012])|(%d+)|([%x-]+)|(-?%d+)|(.+)$')
  if not class then
    fail('TORO_FOREIGN', 'malformed ticket')
  end
  return tonumber(class), tonumber(lease), item, tonumber(score), ch
end

local function parse_holder(v)
  local item, attempt, lease = string.match(v or '', '^(%x+)|(%d+)|(%d+)$')
  if not item then
    fail('TORO_FOREIGN', 'malformed delivery')
  end
  return item, tonumber(attempt), tonumber(lease)
end

local function tomb(id, lease)
  redis.call('ZADD', K_TOMB, NOW_MS + 2 * lease, id)
end

local function set_unfinished(st, u)
  if u < 0 then u = 0 end
  st.unfinished = u
  redis.call('HSET', K_META, 'unfinished', fmt(u))
end

local function next_item(st)
  st.seq = redis.call('HINCRBY', K_META, 'seq', 1)
  return string.format('%016x', st.seq)
end

local function score_of(st, seq, prio)
  if st.kind == 'priority-queue' then
    return prio
  elseif st.kind == 'lifo-queue' then
    return -seq
  end
  return seq
end

-- The item leaves for good (done or dead): its data goes, and it counts as done for join.
local function forget_item(st, item)
  redis.call('HDEL', K_ITEMS, item)
  redis.call('HDEL', K_ATT, item)
  redis.call('HDEL', K_PRIO, item)
  set_unfinished(st, st.unfinished - 1)
end

local function bury(st, item, reason)
  local payload = redis.call('HGET', K_ITEMS, item) or ''
  local att = tonumber(redis.call('HGET', K_ATT, item) or '0') or 0
  redis.call('RPUSH', K_DEAD, reason .. '|' .. fmt(att) .. '|' .. payload)
  forget_item(st, item)
end

-- Puts `item` in front of every ready item (a priority item in front of those of its
-- priority put after it).
local function to_head(st, item)
  local score
  if st.kind == 'priority-queue' then
    score = tonumber(redis.call('HGET', K_PRIO, item) or '0') or 0
  else
    local h = redis.call('ZRANGE', K_READY, 0, 0, 'WITHSCORES')
    score = -1
    if #h == 2 then score = tonumber(h[2]) - 1 end
  end
  redis.call('ZADD', K_READY, score, item)
end

local function has_room(st)
  return st.bound == 0 or redis.call('ZCARD', K_READY) < st.bound
end

-- A delivered item comes back: `how` is 'retry' (retry, drop, expiry: one more attempt
-- used) or 'withdraw' (the getter never saw it: the attempt is given back). After
-- max_attempts deliveries it goes to the dead letters instead. In a full queue it waits in
-- :b and moves in first when room frees.
local function requeue(st, item, how)
  if redis.call('HEXISTS', K_ITEMS, item) == 0 then
    return
  end
  local att = tonumber(redis.call('HGET', K_ATT, item) or '0') or 0
  if how == 'withdraw' then
    att = math.max(att - 1, 0)
    redis.call('HSET', K_ATT, item, fmt(att))
  elseif st.attempts > 0 and att >= st.attempts then
    bury(st, item, 'attempts')
    return
  end
  if has_room(st) then
    to_head(st, item)
  else
    redis.call('ZADD', K_BACK, NOW_MS, item)
  end
end

-- Removes a delivery; returns its item, or nil if it holds nothing.
local function take_holder(id)
  local v = redis.call('HGET', K_HDATA, id)
  if not v then
    return nil
  end
  local item, _, lease = parse_holder(v)
  redis.call('HDEL', K_HDATA, id)
  redis.call('ZREM', K_HOLDERS, id)
  tomb(id, lease)
  return item
end

-- The engine's release of a holder (a withdrawn get whose item was granted): the item goes
-- back to the head with its attempt given back. Returns 1, or nil if it held nothing.
local function drop_holder(st, id)
  local item = take_holder(id)
  if not item then
    return nil
  end
  requeue(st, item, 'withdraw')
  return 1
end

-- Removes a waiting ticket (a putter's staged item goes too); true if it was waiting.
local function drop_ticket(id)
  local v = redis.call('HGET', K_TICKETS, id)
  redis.call('ZREM', K_QUEUE, id)
  redis.call('ZREM', K_PUTQ, id)
  redis.call('ZREM', K_JOINQ, id)
  redis.call('ZREM', K_LIVE, id)
  if not v then
    return false
  end
  redis.call('HDEL', K_TICKETS, id)
  local class, lease, item = parse_ticket(v)
  if class == 1 then
    redis.call('HDEL', K_ITEMS, item)
    redis.call('HDEL', K_PRIO, item)
  end
  tomb(id, lease)
  return true
end

-- Expired deliveries come back (or die), dead waiters leave, old records go (bounded work).
local function sweep(st)
  redis.call('ZREMRANGEBYSCORE', K_TOMB, '-inf', NOW_MS)
  redis.call('ZREMRANGEBYSCORE', K_DONE, '-inf', NOW_MS)
  local expired = redis.call('ZRANGEBYSCORE', K_HOLDERS, '-inf', NOW_MS, 'LIMIT', 0, BUDGET)
  for _, id in ipairs(expired) do
    local item = take_holder(id)
    if item then
      requeue(st, item, 'retry')
    else
      redis.call('ZREM', K_HOLDERS, id)
    end
  end
  local dead = redis.call('ZRANGEBYSCORE', K_LIVE, '-inf', NOW_MS, 'LIMIT', 0, BUDGET)
  for _, id in ipairs(dead) do
    drop_ticket(id)
  end
end

-- Records a ticket whose wait completed without a delivery (a put moved in, a join).
local function complete(id, lease)
  redis.call('ZADD', K_DONE, NOW_MS + 2 * lease, id)
end

-- Makes getter `id` the holder of `item` under a lease; returns the attempt.
local function deliver(st, id, item, lease)
  redis.call('ZREM', K_READY, item)
  local att = redis.call('HINCRBY', K_ATT, item, 1)
  redis.call('ZADD', K_HOLDERS, NOW_MS + lease, id)
  redis.call('HSET', K_HDATA, id, item .. '|' .. fmt(att) .. '|' .. fmt(lease))
  return att
end

-- Adds a new item (its payload already under :i) to the ready set.
local function enter(st, item, seq, prio)
  redis.call('ZADD', K_READY, score_of(st, seq, prio), item)
  set_unfinished(st, st.unfinished + 1)
end

local function pop_ticket(line, id)
  local v = redis.call('HGET', K_TICKETS, id)
  redis.call('ZREM', line, id)
  if not v then
    redis.call('ZREM', K_LIVE, id)
    return nil
  end
  redis.call('ZREM', K_LIVE, id)
  redis.call('HDEL', K_TICKETS, id)
  return v
end

-- Serves the lines: the oldest getter takes the head item; room goes first to returned
-- items, then to the oldest putter; joiners complete when nothing is unfinished; getters of a
-- closed queue with nothing left to come leave the line (they then fail with Closed). Every
-- grant is recorded here; the hints go out as one message on the queue's hint channel.
local function grant_loop(st)
  local hints = {}
  local function hint(ch, id, token)
    hints[ch] = (hints[ch] or '') .. id .. ' ' .. fmt(token) .. '\n'
  end
  for _ = 1, BUDGET do
    local moved = false
    local g = redis.call('ZRANGE', K_QUEUE, 0, 0)
    if #g > 0 then
      local r = redis.call('ZRANGE', K_READY, 0, 0)
      if #r > 0 then
        local v = pop_ticket(K_QUEUE, g[1])
        if v then
          local _, lease, _, _, ch = parse_ticket(v)
          hint(ch, g[1], deliver(st, g[1], r[1], lease))
        end
        moved = true
      end
    end
    if has_room(st) then
      local b = redis.call('ZRANGE', K_BACK, 0, 0)
      if #b > 0 then
        redis.call('ZREM', K_BACK, b[1])
        if redis.call('HEXISTS', K_ITEMS, b[1]) == 1 then
          to_head(st, b[1])
        end
        moved = true
      else
        local p = redis.call('ZRANGE', K_PUTQ, 0, 0)
        if #p > 0 then
          local v = pop_ticket(K_PUTQ, p[1])
          if v then
            local _, lease, item, score, ch = parse_ticket(v)
            redis.call('ZADD', K_READY, score, item)
            set_unfinished(st, st.unfinished + 1)
            complete(p[1], lease)
            hint(ch, p[1], 0)
          end
          moved = true
        end
      end
    end
    if not moved then
      break
    end
  end
  if st.unfinished == 0 then
    local js = redis.call('ZRANGE', K_JOINQ, 0, BUDGET - 1)
    for _, id in ipairs(js) do
      local v = pop_ticket(K_JOINQ, id)
      if v then
        local _, lease, _, _, ch = parse_ticket(v)
        complete(id, lease)
        hint(ch, id, 0)
      end
    end
  end
  if st.closed and redis.call('ZCARD', K_READY) == 0 and redis.call('ZCARD', K_HOLDERS) == 0
    and redis.call('ZCARD', K_BACK) == 0 then
    local gs = redis.call('ZRANGE', K_QUEUE, 0, BUDGET - 1)
    for _, id in ipairs(gs) do
      drop_ticket(id)
    end
  end
  local body = {}
  for _, b in pairs(hints) do
    body[#body + 1] = b
  end
  if #body > 0 then
    redis.call('SPUBLISH', K_HINT, table.concat(body))
  end
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

-- State of one id: {1, attempt} delivery, {1, 0} completed put or join, {0, 0} waiting,
-- {-2, 0} unknown or withdrawn.
local function state_of(id)
  local hv = redis.call('HGET', K_HDATA, id)
  if hv then
    local _, attempt = parse_holder(hv)
    return 1, attempt
  end
  if redis.call('HEXISTS', K_TICKETS, id) == 1 then
    return 0, 0
  end
  if redis.call('ZSCORE', K_DONE, id) then
    return 1, 0
  end
  return -2, 0
end

local function touch_ticket(id)
  local v = redis.call('HGET', K_TICKETS, id)
  if v then
    local _, lease = parse_ticket(v)
    redis.call('ZADD', K_LIVE, NOW_MS + lease, id)
  end
end

-- Payloads arrive as lowercase hex (script arguments are text on the client side).
local function unhex(s)
  if #s % 2 ~= 0 or string.find(s, '[^0-9a-f]') then
    fail('TORO_PROTOCOL', 'bad payload')
  end
  local pairs_to_byte = {}
  for i = 0, 255 do
    pairs_to_byte[string.format('%02x', i)] = string.char(i)
  end
  return (string.gsub(s, '..', pairs_to_byte))
end
