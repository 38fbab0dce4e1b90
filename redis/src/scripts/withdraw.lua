-- withdraw: ARGV kind, param, id, mode ('keep' | 'release'), lease_ms
-- -> {0, 0} was waiting, now withdrawn | {1, token} granted and kept (mode keep)
--  | {2, 0} granted and released (mode release) | {-2, 0} unknown: tombstoned
-- Idempotent: a second withdraw of the same id finds it unknown.
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
local keep = ARGV[4] == 'keep'
local lease = count_arg(ARGV[5], 'lease')
sweep(st)
local result
if drop_ticket(id) then
  result = {0, 0}
else
  local state, token = state_of(id)
  if state == 1 and keep then
    result = {1, token}
  elseif state == 1 then
    drop_holder(st, id)
    result = {2, 0}
  else
    tomb(id, math.max(lease, 1))
    result = {-2, 0}
  end
end
grant_loop(st)
return result
