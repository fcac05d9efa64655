--[[
  Erase a customer: every record the ledger keeps of them goes, so nothing personal is left and
  nothing left names them. Their offers (open and ended, with codes and provider answers), the
  history, the profile with its consent, the signals, the guardrails' marks (purchases, returns, sends) and the
  retractions in flight are deleted;
  the partition's owner, idempotency, due, lease, unknown-outcome and index entries of their
  offers are removed, and so are their effects still waiting in the outbox (the relay never
  turns them into jobs). No tombstone stays behind: one under the customer's key would keep the
  id, which may be an email address in data from earlier versions.
  A push that may be on the device can no longer be taken back (its endpoint goes with the
  profile): such pushes are counted in the reply as `unretracted`.
  Erasing again finds nothing and answers "unchanged".
  Input:  KEYS[1..15] the customer-scope keys (see includes/customer.lua)
          KEYS[16] the customer's signals stream
          ARGV[1] JSON { skew, customerId }
  Output: JSON { result: "erased" | "unchanged", offers: [{ offerId, version, attempts: { channel: n } }],
                 unretracted, now }
]]
--@include core
--@include customer

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local customerId = req.customerId
local SIGNALS = KEYS[16]

local existed = redis.call('EXISTS', C.offers, C.live, C.history, C.profile, SIGNALS, C.retracting, C.marks) > 0
if not existed then return reply({ result = 'unchanged', offers = {}, unretracted = 0, now = now }) end

local offers = openOffers()
for _, raw in ipairs(redis.call('HVALS', C.offers)) do offers[#offers + 1] = decodeOffer(raw) end

local erased = {}
local unretracted = 0
-- An open offer can also have an earlier copy in the hash: both copies' entries are removed, the
-- offer is counted once (the live copy, first in the list).
local counted = {}
for _, offer in ipairs(offers) do
  local id = offer.offerId
  local first = not counted[id]
  counted[id] = true
  redis.call('HDEL', C.owners, id)
  redis.call('ZREM', C.due, member('activate', id), member('expire', id))
  for _, entry in ipairs(indexEntries(offer)) do redis.call('ZREM', entry[1], entry[2]) end
  local attempts = {}
  for _, channel in ipairs(offer.channels) do
    local d = offer.deliveries[channel]
    redis.call('ZREM', C.leases, member(customerId, id, channel))
    redis.call('ZREM', C.unknown, member(customerId, id, channel))
    if RETRACTION[channel] ~= 'instant' then attempts[channel] = d.attempts end
    if first and RETRACTION[channel] == 'message' and d.retraction ~= 'done'
        and (d.state == 'sent' or d.state == 'unknown' or d.attempts > 0) then
      unretracted = unretracted + 1
    end
  end
  if first then erased[#erased + 1] = { offerId = id, version = offer.version, attempts = attempts } end
end

-- Idempotency fields are "<customerId>|<key>": found by pattern (glob characters escaped).
local pattern = string.gsub(customerId, '[%*%?%[%]\\]', '\\%0') .. '|*'
local cursor = '0'
repeat
  local page = redis.call('HSCAN', C.idem, cursor, 'MATCH', pattern, 'COUNT', 1000)
  cursor = page[1]
  for i = 1, #page[2], 2 do redis.call('HDEL', C.idem, page[2][i]) end
until cursor == '0'

-- Effects not yet relayed; the relay drops the ids of entries deleted under it.
local from = '-'
repeat
  local entries = redis.call('XRANGE', C.outbox, from, '+', 'COUNT', 1000)
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'customer' then
        if fields[i + 1] == customerId then redis.call('XDEL', C.outbox, entry[1]) end
        break
      end
    end
    from = '(' .. entry[1]
  end
until #entries < 1000

redis.call('DEL', C.offers, C.live, C.history, C.profile, C.retracting, C.marks, SIGNALS)
return reply({ result = 'erased', offers = erased, unretracted = unretracted, now = now })
