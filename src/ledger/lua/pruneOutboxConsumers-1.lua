--[[
  Removes the consumers of a group that hold no pending entries and were idle at least
  `idleMs`: relays that stopped or died and whose entries were taken over.
  Input:  KEYS[1] stream: the partition's outbox
          ARGV[1] JSON { group, idleMs }
  Output: JSON { removed: count }
]]
local req = cjson.decode(ARGV[1])
local removed = 0
for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], req.group)) do
  local info = {}
  for i = 1, #fields, 2 do info[fields[i]] = fields[i + 1] end
  if tonumber(info.pending) == 0 and tonumber(info.idle) >= req.idleMs then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], req.group, info.name)
    removed = removed + 1
  end
end
return cjson.encode({ removed = removed })
