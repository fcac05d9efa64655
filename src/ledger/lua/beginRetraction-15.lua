--[[
  Start taking back an ended offer on a channel whose retraction is a message (push: a
  replacement under the collapse key `<customerId>:<slot>`). Decided here, in the same atomic
  order as the claims of newer offers in the slot, because the device shows whichever message
  arrives last:
  - a newer live offer in the slot whose message is sent or being sent has already replaced this
    one on the device: the retraction is done, nothing is sent (`replaced`);
  - otherwise the retraction is marked in flight until `leaseMs` from now, and a newer offer's
    claim on the channel holds until it is confirmed (`go`).
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, leaseMs }
  Output: JSON { answer: "go", offer (deliveries left out), recipient, leaseUntil, now }
        | { answer: "replaced", by, now }
        | { answer: "failed", reason, now }     the customer has no address left for the channel
        | { answer: "not_due", now }            no retraction due (never asked, done or failed)
]]
--@include core
--@include customer
--@include delivery

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local channel = req.channel

local offer = loadOffer(req.offerId)
local d = offer and offer.deliveries[channel]
if not d or d.retraction ~= 'due' or RETRACTION[channel] ~= 'message' then
  return reply({ answer = 'not_due', now = now })
end

local function finish(outcome, reason)
  d.retraction = outcome
  clearRetractionInFlight(offer, channel)
  record(now, { actor = req.actor, action = outcome == 'done' and 'retracted' or 'retraction_failed',
    offer = offer.offerId, channel = channel, state = d.state, version = offer.version, reason = reason })
  saveOffer(offer)
end

for _, id in ipairs(openIds()) do
  if id ~= offer.offerId and openField(id, 'slot') == offer.slot and openField(id, 'state') == 'active' then
    local newer = loadOffer(id).deliveries[channel]
    if newer and (newer.state == 'sent' or newer.state == 'sending') then
      finish('done', 'replaced_by:' .. id)
      return reply({ answer = 'replaced', by = id, now = now })
    end
  end
end

local recipient = recipientFor(channel)
if not recipient then
  finish('failed', 'no_address')
  return reply({ answer = 'failed', reason = 'no_address', now = now })
end

local leaseUntil = now + req.leaseMs
markRetractionInFlight(offer, channel, leaseUntil, req.leaseMs * 2)
return reply({ answer = 'go', offer = termsOnly(offer), recipient = recipient, leaseUntil = leaseUntil, now = now })
