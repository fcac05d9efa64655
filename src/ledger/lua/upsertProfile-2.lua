--[[
  Create or update a customer's profile. Only fields whose value changes are written, and consent
  keeps the time and source of the last change, so replaying the call writes nothing.
  History records which fields changed, never their values.
  Input:  KEYS[1] profile hash  KEYS[2] history stream
          ARGV[1] JSON { skew, actor, set: { field: string }, consent: { channel: { granted, source } } }
  Output: JSON { result: "updated" | "unchanged", changed: [field], now }
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req.skew)
local changed = {}
local consentChanges = {}

local fields = {}
for field in pairs(req.set or {}) do fields[#fields + 1] = field end
table.sort(fields)
for _, field in ipairs(fields) do
  local value = req.set[field]
  if redis.call('HGET', KEYS[1], field) ~= value then
    redis.call('HSET', KEYS[1], field, value)
    changed[#changed + 1] = field
  end
end

local channels = {}
for channel in pairs(req.consent or {}) do channels[#channels + 1] = channel end
table.sort(channels)
for _, channel in ipairs(channels) do
  local wanted = req.consent[channel]
  local current = decodeOrNil(redis.call('HGET', KEYS[1], 'consent.' .. channel))
  if current == nil or current.granted ~= wanted.granted then
    redis.call('HSET', KEYS[1], 'consent.' .. channel,
      cjson.encode({ granted = wanted.granted, at = now, source = wanted.source }))
    consentChanges[#consentChanges + 1] = { channel = channel, granted = wanted.granted, source = wanted.source }
  end
end

if #changed == 0 and #consentChanges == 0 then
  return reply({ result = 'unchanged', changed = changed, now = now })
end
if redis.call('HEXISTS', KEYS[1], 'createdAt') == 0 then redis.call('HSET', KEYS[1], 'createdAt', now) end
redis.call('HSET', KEYS[1], 'updatedAt', now)
if #changed > 0 then
  redis.call('XADD', KEYS[2], '*', 'at', now, 'actor', req.actor, 'action', 'profile_updated',
    'detail', cjson.encode({ fields = changed }))
end
for _, change in ipairs(consentChanges) do
  redis.call('XADD', KEYS[2], '*', 'at', now, 'actor', req.actor,
    'action', change.granted and 'consent_granted' or 'consent_revoked', 'channel', change.channel,
    'reason', change.source)
end
return reply({ result = 'updated', changed = changed, now = now })
