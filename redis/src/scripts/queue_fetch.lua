-- queue fetch: ARGV kind, param, id ; the item of delivery `id`
-- -> {attempt, payload} | {0, ''} the delivery is not held any more
local st = open(ARGV[1], ARGV[2])
sweep(st)
local v = redis.call('HGET', K_HDATA, ARGV[3])
if not v then
  return {0, ''}
end
local item, attempt = parse_holder(v)
local payload = redis.call('HGET', K_ITEMS, item)
if not payload then
  fail('TORO_FOREIGN', 'delivered item without payload')
end
return {attempt, payload}
