-- renew: ARGV kind, param, id... ; extends each live holder's lease by its own lease time
-- -> {1|0 per id} (0: it holds nothing any more, its lease is lost)
local st = open(ARGV[1], ARGV[2])
sweep(st)
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local v = redis.call('HGET', K_HDATA, id)
  local score = redis.call('ZSCORE', K_HOLDERS, id)
  if v and score and tonumber(score) > NOW_MS then
    local _, _, lease = parse_holder(v)
    redis.call('ZADD', K_HOLDERS, NOW_MS + lease, id)
    out[#out + 1] = 1
  else
    if v then
      drop_holder(st, id)
    end
    out[#out + 1] = 0
  end
end
grant_loop(st)
return out
