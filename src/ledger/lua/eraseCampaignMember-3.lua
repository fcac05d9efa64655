--[[
  Take an erased customer out of one campaign: its stored definition is replaced by one whose
  audience holds a tombstone in the customer's place (only if the definition is still the one the
  caller read and rewrote, so a concurrent erasure of another customer is never lost), and the
  outcomes recorded for the customer ("<run>|<customerId>") are deleted. Counts `audienceErasures`
  on the campaign, which a run in progress watches to read the audience again.
  Input:  KEYS[1] campaign hash  KEYS[2] campaign log stream  KEYS[3] outcomes hash
          ARGV[1] JSON { skew, actor, customerId, expected?, definition? }
                  expected: SHA-1 of the definition read; definition: its replacement
  Output: JSON { result: "ok" | "changed" | "not_found", replaced, outcomes, now }
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local campaignKey, logKey, outcomesKey = KEYS[1], KEYS[2], KEYS[3]

local current = redis.call('HGET', campaignKey, 'definition')
if not current then return reply({ result = 'not_found', replaced = false, outcomes = 0, now = now }) end
local replaced = false
if req.definition then
  if redis.sha1hex(current) ~= req.expected then
    return reply({ result = 'changed', replaced = false, outcomes = 0, now = now })
  end
  redis.call('HSET', campaignKey, 'definition', req.definition)
  redis.call('HINCRBY', campaignKey, 'audienceErasures', 1)
  redis.call('XADD', logKey, '*', 'at', now, 'actor', req.actor, 'action', 'erase_member',
    'from', '', 'to', '', 'reason', 'erasure_request')
  replaced = true
end

local suffix = '|' .. req.customerId
local pattern = '*' .. string.gsub(suffix, '[%*%?%[%]\\]', '\\%0')
local outcomes = 0
local cursor = '0'
repeat
  local page = redis.call('HSCAN', outcomesKey, cursor, 'MATCH', pattern, 'COUNT', 1000)
  cursor = page[1]
  for i = 1, #page[2], 2 do
    local field = page[2][i]
    -- The run number before the bar has no bar of its own, so the rest must be the id exactly.
    if string.sub(field, (string.find(field, '|', 1, true))) == suffix then
      outcomes = outcomes + redis.call('HDEL', outcomesKey, field)
    end
  end
until cursor == '0'
return reply({ result = 'ok', replaced = replaced, outcomes = outcomes, now = now })
