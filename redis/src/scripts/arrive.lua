-- arrive: the acquire of the completion kinds (an event's or a result's wait, a barrier's
-- arrival). ARGV kind, param, id, n, lease_ms, try (0|1), channel
-- -> {1, token} completed | {0, wake_hint_ms} queued | {-1, 0} not now (try)
--  | {-2, 0} refused (withdrawn or swept id)
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
count_arg(ARGV[4], 'n')
local lease = count_arg(ARGV[5], 'lease')
local try = ARGV[6] == '1'
local channel = ARGV[7]
if lease < 1 or channel == nil or channel == '' then
  fail('TORO_PROTOCOL', 'bad lease or channel')
end
if not COMPLETION[st.kind] then
  fail('TORO_PROTOCOL', 'not a completion kind')
end
if st.kind == 'barrier' and st.param < 1 then
  fail('TORO_PROTOCOL', 'a barrier needs at least 1 party')
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
if st.kind == 'event' and redis.call('HGET', K_META, 'flag') == '1' then
  return {1, 1}
end
if st.kind == 'result' and redis.call('HEXISTS', K_META, 'value') == 1 then
  return {1, 1}
end
if try and (st.kind ~= 'barrier' or redis.call('ZCARD', K_QUEUE) + 1 < st.param) then
  return {-1, 0}
end
local seq = redis.call('HINCRBY', K_META, 'seq', 1)
redis.call('ZADD', K_QUEUE, seq, id)
redis.call('HSET', K_TICKETS, id, '1|' .. fmt(lease) .. '|' .. channel)
redis.call('ZADD', K_LIVE, NOW_MS + lease, id)
grant_loop(st)
local now_state, now_token = state_of(id)
if now_state == 1 then
  -- Completed by this very script (a barrier's tripping arrival): the waiter has the answer,
  -- no record needed.
  redis.call('HDEL', K_HDATA, id)
  redis.call('ZREM', K_HOLDERS, id)
  return {1, now_token}
end
return {0, wake_hint()}
