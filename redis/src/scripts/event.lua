-- event: ARGV kind ('event'), param, op ('set' | 'clear' | 'is_set')
-- -> {flag before, flag after}
-- `set` records the line's sequence, so every ticket queued before it completes (in this
-- script, budget permitting, else in the next one), even if `clear` follows at once.
local st = open(ARGV[1], ARGV[2])
local op = ARGV[3]
if st.kind ~= 'event' then
  fail('TORO_PROTOCOL', 'not an event')
end
sweep(st)
local before = redis.call('HGET', K_META, 'flag') == '1' and 1 or 0
local after = before
if op == 'set' then
  local seq = redis.call('HGET', K_META, 'seq') or '0'
  redis.call('HSET', K_META, 'flag', '1', 'setseq', seq)
  after = 1
elseif op == 'clear' then
  redis.call('HSET', K_META, 'flag', '0')
  after = 0
elseif op ~= 'is_set' then
  fail('TORO_PROTOCOL', 'bad event op')
end
grant_loop(st)
return {before, after}
