-- release: ARGV kind, param, id, forget (0|1)
-- -> {1, n, hinted} released (with forget, the capacity shrinks by n) | {0, 0, hinted} it held
--    nothing (lost); `hinted`: the grant hints this release published ('' if none)
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
local forget = ARGV[4] == '1'
-- With nobody in line there is no waiter to expire and nothing to grant.
local waiting = redis.call('ZCARD', K_QUEUE) > 0
sweep(st, not waiting)
local n = drop_holder(st, id)
local result = {0, 0}
if n then
  result = {1, n}
  if forget then
    st.cap = math.max(st.cap - n, 0)
    redis.call('HSET', K_META, 'cap', fmt(st.cap))
  end
end
if waiting then
  grant_loop(st)
end
return {result[1], result[2], HINTED}
