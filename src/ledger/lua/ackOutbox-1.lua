--[[
  Acknowledges effects the relay handled and removes them from the outbox, in one step.
  Input:  KEYS[1] stream: the partition's outbox
          ARGV[1] JSON { group, ids: [entry id, ...] }
  Output: JSON { result: "changed" | "unchanged" (none of the ids was pending) }
]]
local req = cjson.decode(ARGV[1])
local acked = 0
-- In slices: unpack passes every id on Lua's C stack, which holds a few thousand at most.
for first = 1, #req.ids, 1000 do
  local slice = { unpack(req.ids, first, math.min(first + 999, #req.ids)) }
  acked = acked + redis.call('XACK', KEYS[1], req.group, unpack(slice))
  redis.call('XDEL', KEYS[1], unpack(slice))
end
return cjson.encode({ result = acked > 0 and 'changed' or 'unchanged' })
