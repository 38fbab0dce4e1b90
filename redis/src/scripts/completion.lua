-- Completion kinds (Event, AsyncResult, Barrier): prepended to every script after lib.lua.
--
-- Their waiting tickets sit in the same line (:q, :t, :w) as a capacity kind's, but a grant
-- makes no holder: it *completes* the ticket, recorded as an entry "0|token|lease" in :hd
-- (n = 0, so it uses nothing) that expires from :h after twice the lease, so that `status` and
-- `withdraw keep` answer "granted" until the waiter has seen it, and a release of it changes
-- nothing. Extra meta fields (in :m):
--   event:   flag (0|1), setseq (the line's seq at the last set: tickets up to it complete)
--   result:  value (the encoded value, set once)
--   barrier: gen (trips so far); param = the number of parties
-- This file wraps `open` (to remember the kind) and `grant_loop` (the per-kind "head fits"
-- hook); capacity kinds go to lib.lua's versions unchanged.

local COMPLETION = {event = true, result = true, barrier = true}
local capacity_open = open
local capacity_grant_loop = grant_loop

local function open(kind, param)
  local st = capacity_open(kind, param)
  st.kind = kind
  st.param = tonumber(param)
  return st
end

-- Completes waiting ticket `id` (ticket value `v`) with `token`; adds its hint to `hints`.
local function complete(id, v, token, hints)
  local _, lease, ch = parse_ticket(v)
  redis.call('ZREM', K_QUEUE, id)
  redis.call('ZREM', K_LIVE, id)
  redis.call('HDEL', K_TICKETS, id)
  redis.call('HSET', K_HDATA, id, '0|' .. fmt(token) .. '|' .. fmt(lease))
  redis.call('ZADD', K_HOLDERS, NOW_MS + 2 * lease, id)
  hints[ch] = (hints[ch] or '') .. id .. ' ' .. fmt(token) .. '\n'
end

local function publish(hints)
  publish_hints(hints)
end

-- Event and result: the head completes while the event is set (the result is there), or
-- while its sequence is covered by the last set (so `set(); clear()` still releases it).
local function complete_line(st, hints)
  local open_now
  local upto = 0
  if st.kind == 'event' then
    local m = redis.call('HMGET', K_META, 'flag', 'setseq')
    open_now = m[1] == '1'
    upto = tonumber(m[2] or '0') or 0
  else
    open_now = redis.call('HEXISTS', K_META, 'value') == 1
  end
  for _ = 1, BUDGET do
    local head = redis.call('ZRANGE', K_QUEUE, 0, 0, 'WITHSCORES')
    if #head == 0 then
      break
    end
    local id, seq = head[1], tonumber(head[2])
    local v = redis.call('HGET', K_TICKETS, id)
    if not v then
      redis.call('ZREM', K_QUEUE, id)
      redis.call('ZREM', K_LIVE, id)
    elseif open_now or seq <= upto then
      complete(id, v, 1, hints)
    else
      break
    end
  end
end

-- Barrier: once `param` live arrivals are in line, the first `param` trip together with the
-- next generation; the last of them (the tripping arrival) is the leader. Token = gen*2 +
-- leader.
local function trip(st, hints)
  local n = st.param
  if n < 1 or redis.call('ZCARD', K_QUEUE) < n then
    return
  end
  local ids = redis.call('ZRANGE', K_QUEUE, 0, n - 1)
  local gen = redis.call('HINCRBY', K_META, 'gen', 1)
  for i, id in ipairs(ids) do
    local v = redis.call('HGET', K_TICKETS, id)
    if v then
      complete(id, v, gen * 2 + ((i == #ids) and 1 or 0), hints)
    else
      redis.call('ZREM', K_QUEUE, id)
      redis.call('ZREM', K_LIVE, id)
    end
  end
end

local function grant_loop(st)
  if not COMPLETION[st.kind] then
    return capacity_grant_loop(st)
  end
  local hints = {}
  if st.kind == 'barrier' then
    trip(st, hints)
  else
    complete_line(st, hints)
  end
  publish(hints)
end
