-- queue acquire: ARGV kind, param, id, class, lease_ms, try (0|1), channel [, payload_hex, priority]
-- class 0 get, 1 put (with payload and priority), 2 join.
-- -> {1, attempt, payload} delivered now (get) | {1, attempt} delivered before (a retried get:
--    the client fetches the payload) | {1, 0} in the queue (put) or nothing unfinished (join)
--  | {0, wake_hint_ms} queued | {-1, 0} not now (try) | {-2, 0} refused (withdrawn id)
-- Errors TORO_CLOSED: a put on a closed queue, or a get on a closed queue with nothing left.
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
local class = count_arg(ARGV[4], 'class')
local lease = count_arg(ARGV[5], 'lease')
local try = ARGV[6] == '1'
local channel = ARGV[7]
if lease < 1 or channel == nil or channel == '' or class > 2 then
  fail('TORO_PROTOCOL', 'bad lease, class or channel')
end
sweep(st)
local state, token = state_of(id)
if state == 1 then
  return {1, token}
end
if state == 0 then
  touch_ticket(id)
  grant_loop(st)
  local again, tok = state_of(id)
  if again == 1 then
    return {1, tok}
  end
  return {0, wake_hint()}
end
if redis.call('ZSCORE', K_TOMB, id) then
  return {-2, 0}
end
grant_loop(st)

local function wait_in(line, value)
  local seq = redis.call('HINCRBY', K_META, 'seq', 1)
  redis.call('ZADD', line, seq, id)
  redis.call('HSET', K_TICKETS, id, value .. '|' .. channel)
  redis.call('ZADD', K_LIVE, NOW_MS + lease, id)
  return {0, wake_hint()}
end

if class == 0 then
  if redis.call('ZCARD', K_QUEUE) == 0 then
    local r = redis.call('ZRANGE', K_READY, 0, 0)
    if #r > 0 then
      local attempt = deliver(st, id, r[1], lease)
      local payload = redis.call('HGET', K_ITEMS, r[1])
      if not payload then
        fail('TORO_FOREIGN', 'delivered item without payload')
      end
      return {1, attempt, payload}
    end
  end
  if st.closed and redis.call('ZCARD', K_HOLDERS) == 0 and redis.call('ZCARD', K_BACK) == 0 then
    fail('TORO_CLOSED', 'queue closed and drained')
  end
  if try then
    return {-1, 0}
  end
  return wait_in(K_QUEUE, '0|' .. fmt(lease) .. '|-|0')
elseif class == 1 then
  if st.closed then
    fail('TORO_CLOSED', 'queue closed')
  end
  local payload = unhex(ARGV[8] or '')
  local prio = tonumber(ARGV[9] or '')
  if not prio or prio ~= math.floor(prio) or math.abs(prio) >= 9007199254740992 then
    fail('TORO_PROTOCOL', 'bad priority')
  end
  if redis.call('ZCARD', K_PUTQ) == 0 and has_room(st) then
    local item = next_item(st)
    redis.call('HSET', K_ITEMS, item, payload)
    if st.kind == 'priority-queue' then
      redis.call('HSET', K_PRIO, item, fmt(prio))
    end
    enter(st, item, st.seq, prio)
    complete(id, lease)
    grant_loop(st)
    return {1, 0}
  end
  if try then
    return {-1, 0}
  end
  local item = next_item(st)
  redis.call('HSET', K_ITEMS, item, payload)
  if st.kind == 'priority-queue' then
    redis.call('HSET', K_PRIO, item, fmt(prio))
  end
  return wait_in(K_PUTQ, '1|' .. fmt(lease) .. '|' .. item .. '|' .. fmt(score_of(st, st.seq, prio)))
else
  if st.unfinished == 0 then
    return {1, 0}
  end
  if try then
    return {-1, 0}
  end
  return wait_in(K_JOINQ, '2|' .. fmt(lease) .. '|-|0')
end
