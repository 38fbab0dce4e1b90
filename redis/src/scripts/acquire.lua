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
-- Fast path: nothing held and nobody in line. Then `id` is no holder (a holder adds its
-- n >= 1 to `used`, expired or not until swept) and no waiting ticket (every waiting ticket
-- is in the line), so only a live tombstone can refuse it (withdrawn, or granted and
-- released already: a late duplicate of this request). Nothing to sweep either: no lease
-- and no waiter to expire (old tombstones go with the next release).
if st.used == 0 and n >= 1 and n <= st.cap and redis.call('ZCARD', K_QUEUE) == 0 then
  local t = redis.call('ZSCORE', K_TOMB, id)
  if t and tonumber(t) > NOW_MS then
    return {-2, 0}
  end
  return {1, make_holder(st, id, n, lease)}
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
