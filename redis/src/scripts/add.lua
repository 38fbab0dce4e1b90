-- add: ARGV kind, param, k ; adds k permits outright (no guard), bounded by param for 'bsem'
-- -> {cap, used}
local st = open(ARGV[1], ARGV[2])
local k = count_arg(ARGV[3], 'k')
sweep(st)
local cap = st.cap + k
if ARGV[1] == 'bsem' and cap > tonumber(ARGV[2]) then
  fail('TORO_BOUND', ARGV[2])
end
if cap > MAX_COUNT then
  fail('TORO_PROTOCOL', 'too many permits')
end
st.cap = cap
redis.call('HSET', K_META, 'cap', fmt(cap))
grant_loop(st)
return {st.cap, st.used}
