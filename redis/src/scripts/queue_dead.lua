-- queue dead letters: ARGV kind, param, start, count ; -> entries "reason|attempts|" .. payload
local st = open(ARGV[1], ARGV[2])
local start = count_arg(ARGV[3], 'start')
local count = count_arg(ARGV[4], 'count')
if count == 0 then
  return {}
end
if redis.call('EXISTS', K_DEAD) == 1 and redis.call('TYPE', K_DEAD)['ok'] ~= 'list' then
  fail('TORO_FOREIGN', 'dead letters are not a list')
end
return redis.call('LRANGE', K_DEAD, start, start + count - 1)
