-- queue close: ARGV kind, param ; puts fail from now on (waiting putters leave the line, their
-- items come back to them); gets drain what is left, then fail.
-- -> {1}
local st = open(ARGV[1], ARGV[2])
sweep(st)
redis.call('HSET', K_META, 'closed', '1')
st.closed = true
local ps = redis.call('ZRANGE', K_PUTQ, 0, -1)
for _, id in ipairs(ps) do
  drop_ticket(id)
end
grant_loop(st)
return {1}
