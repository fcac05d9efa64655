--[[
  Consent for one channel, kept in the profile hash as `consent.<channel>` →
  JSON { granted, at, source, recordedAt, byCustomer? }: `at` is when the decision was made (an
  event's own time, or the ledger clock for a direct change), `recordedAt` when the ledger wrote
  it, `byCustomer` marks the customer's own one-click unsubscribe.
  Who changes it (`change.by`):
    customer  the customer, now (one-click unsubscribe): always applied
    event     a feed's consent event, dated by the feed: never applied over a newer decision, and
              re-grants what the customer unsubscribed only when the feed says the customer
              made that choice (`attested`, the event's `byCustomer`)
    operator  a profile write (API, CLI): never re-grants what the customer unsubscribed
  Requires core.
]]

-- Earlier versions stored { granted, at, source } (a direct change, `at` its time) and
-- { granted, at, source, eventAt } (an event: `at` written, `eventAt` decided). The one-click
-- unsubscribe always wrote source `one-click-unsubscribe`.
local function readConsent(profileKey, channel)
  local consent = decodeOrNil(redis.call('HGET', profileKey, 'consent.' .. channel))
  if consent == nil or consent.recordedAt ~= nil then return consent end
  return {
    granted = consent.granted,
    at = consent.eventAt or consent.at,
    source = consent.source,
    recordedAt = consent.at,
    byCustomer = (consent.granted == false and consent.source == 'one-click-unsubscribe') or nil,
  }
end

--[[
  Decides one consent change: 'apply', 'unchanged', or the reason it is not applied
  ('older_than_last_change', 'customer_unsubscribed').
]]
local function consentDecision(current, change)
  if current == nil then return 'apply' end
  if change.by == 'customer' then
    -- The customer's own unsubscribe is final: mark it so even when consent was already off.
    if current.granted == change.granted and current.byCustomer then return 'unchanged' end
    return 'apply'
  end
  if current.granted == change.granted then return 'unchanged' end
  if change.at < current.at then return 'older_than_last_change' end
  if change.granted and current.byCustomer and not change.attested then return 'customer_unsubscribed' end
  return 'apply'
end

local function writeConsent(profileKey, channel, change, now)
  redis.call('HSET', profileKey, 'consent.' .. channel, cjson.encode({
    granted = change.granted, at = change.at, source = change.source, recordedAt = now,
    byCustomer = (change.by == 'customer' and not change.granted) or nil,
  }))
end
