--[[
  Create or update a customer's profile. Only fields whose value changes are written, and consent
  keeps when and from where it was decided (includes/consent.lua), so replaying the call writes
  nothing. A consent change that is not applied (an operator re-granting what the customer
  unsubscribed) is answered in `kept` and noted in history.
  History records which fields changed, never their values.
  Input:  KEYS[1] profile hash  KEYS[2] history stream
          ARGV[1] JSON { skew, historyMs, actor, set: { field: string },
                  consent: { channel: { granted, source, by: "customer" | "operator" } } }
  Output: JSON { result: "updated" | "unchanged", changed: [field], kept: [{ channel, reason }], now }
]]
--@include core
--@include consent

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local changed = {}
local consentChanges = {}
local kept = {}

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
  local change = { granted = wanted.granted, at = now, source = wanted.source, by = wanted.by }
  local decision = consentDecision(readConsent(KEYS[1], channel), change)
  if decision == 'apply' then
    writeConsent(KEYS[1], channel, change, now)
    consentChanges[#consentChanges + 1] = { channel = channel, granted = wanted.granted, source = wanted.source }
  elseif decision ~= 'unchanged' then
    kept[#kept + 1] = { channel = channel, reason = decision }
  end
end

if #changed == 0 and #consentChanges == 0 and #kept == 0 then
  return reply({ result = 'unchanged', changed = changed, kept = kept, now = now })
end
if #changed > 0 or #consentChanges > 0 then
  if redis.call('HEXISTS', KEYS[1], 'createdAt') == 0 then redis.call('HSET', KEYS[1], 'createdAt', now) end
  redis.call('HSET', KEYS[1], 'updatedAt', now)
end
if #changed > 0 then
  appendHistory(KEYS[2], now, { 'at', tostring(now), 'actor', req.actor, 'action', 'profile_updated',
    'detail', cjson.encode({ fields = changed }) })
end
for _, change in ipairs(consentChanges) do
  appendHistory(KEYS[2], now, { 'at', tostring(now), 'actor', req.actor,
    'action', change.granted and 'consent_granted' or 'consent_revoked', 'channel', change.channel,
    'reason', change.source })
end
for _, refused in ipairs(kept) do
  appendHistory(KEYS[2], now, { 'at', tostring(now), 'actor', req.actor, 'action', 'consent_not_applied',
    'channel', refused.channel, 'reason', refused.reason })
end
return reply({ result = #changed + #consentChanges > 0 and 'updated' or 'unchanged', changed = changed,
  kept = kept, now = now })
