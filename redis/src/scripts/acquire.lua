-- acquire: ARGV kind, param, id, n, lease_ms, try (0|1), channel
-- -> {1, token} granted | {0, wake_hint_ms} queued | {-1, 0} not now (try) | {-2, 0} refused
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
local n = count_arg(ARGV[4], 'n')
local lease = count_arg(ARGV[5], 'lease')
local try = ARGV[6] == '1'
local channel = ARGV[7]
if lease < 1 or channel == nil or channel == '' then
  fail('TORO_PROTOCOL', 'bad lease or channel')
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
if redis.call('ZCARD', K_QUEUE) == 0 and st.used + n <= st.cap then
  return {1, make_holder(st, id, n, lease)}
end
if try then
  return {-1, 0}
end
local seq = redis.call('HINCRBY', K_META, 'seq', 1)
redis.call('ZADD', K_QUEUE, seq, id)
redis.call('HSET', K_TICKETS, id, fmt(n) .. '|' .. fmt(lease) .. '|' .. channel)
redis.call('ZADD', K_LIVE, NOW_MS + lease, id)
return {0, wake_hint()}
