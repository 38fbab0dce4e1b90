-- stats: ARGV kind, param ; opens (creates or validates) the primitive, settles expiries
-- -> {cap, used, waiting tickets, holders}
local st = open(ARGV[1], ARGV[2])
sweep(st)
grant_loop(st)
return {st.cap, st.used, redis.call('ZCARD', K_QUEUE), redis.call('HLEN', K_HDATA)}
