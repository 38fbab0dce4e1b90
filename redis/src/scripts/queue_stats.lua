-- queue stats: ARGV kind, param ; opens (creates or validates) the queue, settles expiries
-- -> {ready, in flight (delivered or returning), unfinished, getters, putters, closed, dead}
local st = open(ARGV[1], ARGV[2])
sweep(st)
grant_loop(st)
return {redis.call('ZCARD', K_READY),
  redis.call('ZCARD', K_HOLDERS) + redis.call('ZCARD', K_BACK), st.unfinished,
  redis.call('ZCARD', K_QUEUE), redis.call('ZCARD', K_PUTQ), st.closed and 1 or 0,
  redis.call('LLEN', K_DEAD)}
