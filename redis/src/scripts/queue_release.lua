-- queue release: ARGV kind, param, id, mode
-- mode '1' done (task_done), '0' back at the head (retry, a dropped delivery), 'bury' to the
-- dead letters as undecodable.
-- -> {1, 1} settled | {0, 0} the delivery is not held any more (its lease was lost)
local st = open(ARGV[1], ARGV[2])
local id = ARGV[3]
local mode = ARGV[4]
sweep(st)
local item = take_holder(id)
local result = {0, 0}
if item then
  result = {1, 1}
  if redis.call('HEXISTS', K_ITEMS, item) == 1 then
    if mode == '1' then
      forget_item(st, item)
    elseif mode == 'bury' then
      bury(st, item, 'undecodable')
    else
      requeue(st, item, 'retry')
    end
  end
end
grant_loop(st)
return result
