--[[
  Record the outcome of a send. Only the holder of the current lease token may confirm.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, channel, token, outcome: "sent" | "failed" | "retry" | "unknown",
                  reason?, retryAt?, providerRef? }
  Output: JSON { result: "confirmed", delivery, retract, now }   retract: the offer ended while the send was
                                                                 in flight, so a retraction is due
        | { result: "unchanged", delivery, now }                 the same confirm again (a replay)
        | { result: "stale", delivery, now }                     the token is not the current lease
        | { result: "error", code, message }
  A late "sent" or "failed" with the right token also settles a delivery whose lease ran out
  (`unknown`): the outcome is known after all.
]]
--@include core
--@include customer
--@include delivery
--@include guardrails

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local OUTCOME_STATE = { sent = 'sent', failed = 'failed', unknown = 'unknown', retry = 'scheduled' }

local offer, d, failure = settledDelivery(req, now)
if failure then return failure end

if d.token ~= req.token then
  return reply({ result = 'stale', delivery = deliveryReplyState(d), now = now })
end
local resolvesUnknown = d.state == 'unknown' and (req.outcome == 'sent' or req.outcome == 'failed')
if d.state ~= 'sending' and not resolvesUnknown then
  local sameOutcome = d.state == OUTCOME_STATE[req.outcome]
    or (req.outcome == 'retry' and d.state == 'cancelled')
  return reply({ result = sameOutcome and 'unchanged' or 'stale', delivery = deliveryReplyState(d), now = now })
end

local detail = req.providerRef and { providerRef = req.providerRef } or nil
local retract = false
if req.outcome == 'sent' then
  setDelivery(offer, req.channel, now, req.actor, 'sent', nil, nil, detail)
  d.sentAt = now
  if OFFER_ENDED[offer.state] and RETRACTION[req.channel] == 'message' and d.retraction == nil then
    -- The offer ended while this send was in flight: take it back.
    retract = true
    d.retraction = 'due'
    emit('retract', offer, req.channel, now)
    record(now, { actor = 'ledger', action = 'retraction_due', offer = offer.offerId, channel = req.channel,
      state = 'sent', version = offer.version, reason = 'offer_' .. offer.state })
  end
elseif req.outcome == 'failed' then
  setDelivery(offer, req.channel, now, req.actor, 'failed', req.reason or 'provider_refused', nil, detail)
elseif req.outcome == 'unknown' then
  setDelivery(offer, req.channel, now, req.actor, 'unknown', req.reason or 'outcome_unknown', nil, detail)
elseif OFFER_ENDED[offer.state] then
  setDelivery(offer, req.channel, now, req.actor, 'cancelled', 'offer_' .. offer.state)
  retractIfMaybeShown(offer, req.channel, now, req.actor)
else
  setDelivery(offer, req.channel, now, req.actor, 'scheduled', 'retry:' .. (req.reason or 'transient'), 'delivery_retry',
    { retryAt = req.retryAt })
  d.retryAt = req.retryAt
end
if req.outcome == 'failed' or req.outcome == 'retry' then unmarkSend(req.channel, offer.offerId) end
saveOffer(offer)
return reply({ result = 'confirmed', delivery = deliveryReplyState(d), retract = retract, now = now })
