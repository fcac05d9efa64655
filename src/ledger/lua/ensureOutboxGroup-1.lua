--[[
  Creates the relay's consumer group on a partition's outbox, and the outbox with it.
  Input:  KEYS[1] stream: the partition's outbox
          ARGV[1] JSON { group }
  Output: JSON { result: "changed" (created) | "unchanged" (it existed) }
]]
local req = cjson.decode(ARGV[1])
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], req.group, '0', 'MKSTREAM')
if type(created) == 'table' and created.err then
  if string.find(created.err, 'BUSYGROUP', 1, true) then
    return cjson.encode({ result = 'unchanged' })
  end
  return redis.error_reply(created.err)
end
return cjson.encode({ result = 'changed' })
