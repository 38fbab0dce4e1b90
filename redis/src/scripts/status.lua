-- status: ARGV kind, param, id... ; refreshes the liveness of every waiting id
-- -> {state_1, token_1, state_2, token_2, ..., wake_hint_ms}
-- (state 1 holder with token, 0 waiting, -2 unknown or withdrawn)
local st = open(ARGV[1], ARGV[2])
sweep(st)
grant_loop(st)
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local state, token = state_of(id)
  if state == 0 then
    touch_ticket(id)
  end
  out[#out + 1] = state
  out[#out + 1] = token
end
out[#out + 1] = wake_hint()
return out
