-- result: ARGV kind ('result'), param, op ('set' value | 'get')
-- set -> 1 stored (and every waiting get completed) | 0 already set (nothing changes)
-- get -> the stored value, or nil
local st = open(ARGV[1], ARGV[2])
local op = ARGV[3]
if st.kind ~= 'result' then
  fail('TORO_PROTOCOL', 'not a result')
end
sweep(st)
if op == 'get' then
  grant_loop(st)
  local v = redis.call('HGET', K_META, 'value')
  if not v then
    return false
  end
  return v
end
if op ~= 'set' or ARGV[4] == nil then
  fail('TORO_PROTOCOL', 'bad result op')
end
if redis.call('HEXISTS', K_META, 'value') == 1 then
  grant_loop(st)
  return 0
end
redis.call('HSET', K_META, 'value', ARGV[4])
grant_loop(st)
return 1
