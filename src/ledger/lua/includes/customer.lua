--[[
  The customer-scoped ledger: key names, offer documents, history, outbox and the rules that
  decide which offer is live (contradictions, policies, activation, expiry).
  Every transition script takes the same 15 KEYS, in the order of TRANSITION_KEYS in
  src/ledger/keys.ts (the one place that order is written): the loader replaces the
  transitionKeys directive below with the table C naming each of them.
]]
--@include codec

--@transitionKeys C

local POLICIES = { replace = true, reject = true, queue = true }
local OFFER_ENDED = { redeemed = true, expired = true, cancelled = true, superseded = true }
local DELIVERY_ENDED = { sent = true, skipped = true, cancelled = true, failed = true, unknown = true }
-- How each channel takes back a sent offer: push sends a replacement under the same collapse
-- key (an outbox effect), the web banner stops at once because it reads the ledger, and an
-- email cannot be unsent (its link asks the ledger).
local RETRACTION = { push = 'message', web = 'instant', email = 'none' }

local HISTORY_FIELDS = { 'actor', 'action', 'offer', 'slot', 'channel', 'state', 'version', 'attempt', 'reason', 'detail' }

local function record(now, entry)
  local fields = { 'at', tostring(now) }
  for _, field in ipairs(HISTORY_FIELDS) do
    local value = entry[field]
    if value ~= nil then
      fields[#fields + 1] = field
      fields[#fields + 1] = type(value) == 'table' and cjson.encode(value) or tostring(value)
    end
  end
  appendHistory(C.history, now, fields)
end

-- `attempt` tells effects for the same delivery apart (a resend after a lost lease or a support
-- decision is a new effect, while the same effect written twice is the same job).
-- A delivery names the offer's SKU too, so the claim can read its stock first (not personal).
local function emit(kind, offer, channel, at)
  local attempt = channel and offer.deliveries[channel] and offer.deliveries[channel].attempts or 0
  local fields = { 'XADD', C.outbox, '*', 'kind', kind, 'offer', offer.offerId, 'customer', offer.customerId,
    'channel', channel or '', 'version', tostring(offer.version), 'attempt', tostring(attempt), 'at', tostring(at) }
  if kind == 'deliver' and offer.sku then
    fields[#fields + 1] = 'sku'
    fields[#fields + 1] = offer.sku
  end
  redis.call(unpack(fields))
end

--[[
  Where offers are kept: the customer's open offers (active or pending) together in one string,
  KEYS[2], read by every decision and by the banner in one GET; an offer that has ended moves
  to the offers hash, KEYS[1], which only support's reads and late confirms touch.
  A script reads the open offers once, works on them in LIVE, and writes them back once, when
  it replies (`reply` and `fail` call FLUSH).
]]
local LIVE = nil -- offerId → packed offer
local LIVE_CHANGED = false
local SAVES = 0 -- offers saved by this call so far

local function liveOffers()
  if LIVE == nil then
    LIVE = {}
    for _, packed in ipairs(readLive(redis.call('GET', C.live))) do LIVE[packed[OFFER_NUMBER.offerId]] = packed end
  end
  return LIVE
end

local function openIds()
  local ids = {}
  for id in pairs(liveOffers()) do ids[#ids + 1] = id end
  table.sort(ids) -- decisions must not depend on table order
  return ids
end

FLUSH = function()
  if not LIVE_CHANGED then return end
  LIVE_CHANGED = false
  local list = {}
  for _, id in ipairs(openIds()) do list[#list + 1] = LIVE[id] end
  if #list == 0 then
    redis.call('DEL', C.live)
  else
    redis.call('SET', C.live, writeLive(list))
  end
end

-- A field of an open offer, read without decoding the whole offer (nil when it is not open).
local function openField(offerId, name)
  local packed = liveOffers()[offerId]
  return packed and packed[OFFER_NUMBER[name]]
end

-- A fresh table on every call: changes reach the ledger only through saveOffer.
local function loadOffer(offerId)
  local packed = liveOffers()[offerId]
  if packed then return unpackOffer(packed) end
  return decodeOffer(redis.call('HGET', C.offers, offerId))
end

local function saveOffer(offer)
  SAVES = SAVES + 1
  local live = liveOffers()
  if OFFER_ENDED[offer.state] then
    if live[offer.offerId] then
      live[offer.offerId] = nil
      LIVE_CHANGED = true
    end
    redis.call('HSET', C.offers, offer.offerId, encodeOffer(offer))
  else
    live[offer.offerId] = packOffer(offer)
    LIVE_CHANGED = true
  end
end

local function member(...)
  return table.concat({ ... }, '|')
end

local function indexEntries(offer)
  local entries = {}
  if offer.sku then entries[#entries + 1] = { C.bySku, member(offer.sku, offer.offerId) } end
  if offer.category then
    entries[#entries + 1] = { C.byCategory, member(offer.category, offer.offerId) }
  end
  if offer.campaignId then
    entries[#entries + 1] = { C.byCampaign, member(offer.campaignId, offer.offerId) }
  end
  return entries
end

local function openOffers()
  local offers = {}
  for _, id in ipairs(openIds()) do offers[#offers + 1] = loadOffer(id) end
  return offers
end

local function termsOf(offer)
  local d = offer.discount
  return d.kind .. ':' .. tostring(d.value or '') .. ':' .. tostring(d.currency or '')
end

local function overlaps(a, b)
  return a.validFrom < b.validUntil and b.validFrom < a.validUntil
end

-- Two offers contradict when they could be live at the same time in the same slot, or when they
-- price the same SKU or category differently in different slots.
local function contradicts(a, b)
  if a.offerId == b.offerId or not overlaps(a, b) then return false end
  if a.slot == b.slot then return true end
  if termsOf(a) == termsOf(b) then return false end
  if a.sku and a.sku == b.sku then return true end
  if a.category and a.category == b.category then return true end
  return false
end

-- Higher priority wins; a tie goes to the newer offer.
local function outranks(a, b)
  if a.priority ~= b.priority then return a.priority > b.priority end
  if a.createdAt ~= b.createdAt then return a.createdAt > b.createdAt end
  return a.offerId > b.offerId
end

local function liveContradictions(offer)
  local found = {}
  for _, other in ipairs(openOffers()) do
    if other.state == 'active' and contradicts(offer, other) then found[#found + 1] = other end
  end
  return found
end

local function consentGranted(channel)
  local raw = redis.call('HGET', C.profile, 'consent.' .. channel)
  local consent = decodeOrNil(raw)
  return consent ~= nil and consent.granted == true
end

-- Offers superseded by the current call, reported to the caller.
local SUPERSEDED = {}

--[[
  Asks for a push retraction when the offer has ended and its push may be on the device: it was
  sent, its outcome is unknown, or an earlier attempt was handed to the provider (a lost lease,
  a timeout) before the delivery went back to scheduled. A replacement under the same collapse
  key is harmless if the first never arrived.
]]
local function retractIfMaybeShown(offer, channel, now, actor)
  local d = offer.deliveries[channel]
  if RETRACTION[channel] ~= 'message' or d.retraction ~= nil then return end
  if not (d.state == 'sent' or d.state == 'unknown' or d.attempts > 0) then return end
  d.retraction = 'due'
  emit('retract', offer, channel, now)
  record(now, { actor = actor, action = 'retraction_due', offer = offer.offerId, channel = channel,
    state = d.state, version = offer.version, reason = 'offer_' .. offer.state })
end

--[[
  Ends an open offer: its scheduled and held deliveries are cancelled, a push already sent gets a
  retraction effect, the web banner stops at once. Deliveries in flight are left to their
  confirm, which sees the ended offer and asks for the retraction.
]]
local function endOffer(offer, state, reason, now, actor, detail)
  offer.state = state
  offer.version = offer.version + 1
  offer.endedAt = now
  offer.updatedAt = now
  offer.endReason = reason
  offer.queued = nil
  record(now, { actor = actor, action = state, offer = offer.offerId, slot = offer.slot, state = state,
    version = offer.version, reason = reason, detail = detail })
  for _, channel in ipairs(offer.channels) do
    local d = offer.deliveries[channel]
    if d.state == 'scheduled' or d.state == 'held' then
      d.state = 'cancelled'
      d.reason = 'offer_' .. state
      d.retryAt = nil
      record(now, { actor = actor, action = 'delivery_cancelled', offer = offer.offerId, channel = channel,
        state = 'cancelled', version = offer.version, reason = d.reason })
      retractIfMaybeShown(offer, channel, now, actor)
    elseif d.state == 'sent' or d.state == 'unknown' then
      retractIfMaybeShown(offer, channel, now, actor)
      if d.state == 'sent' and RETRACTION[channel] == 'instant' then
        d.retraction = 'done'
        record(now, { actor = actor, action = 'withdrawn', offer = offer.offerId, channel = channel,
          state = 'sent', version = offer.version, reason = 'offer_' .. state })
      end
    end
  end
  saveOffer(offer)
  redis.call('ZREM', C.due, member('activate', offer.offerId),
    member('expire', offer.offerId))
  for _, entry in ipairs(indexEntries(offer)) do redis.call('ZREM', entry[1], entry[2]) end
  if state == 'superseded' then SUPERSEDED[#SUPERSEDED + 1] = offer.offerId end
end

local function activate(offer, now, actor)
  offer.state = 'active'
  offer.version = offer.version + 1
  offer.activatedAt = now
  offer.updatedAt = now
  offer.queued = nil
  redis.call('ZREM', C.due, member('activate', offer.offerId))
  record(now, { actor = actor, action = 'activated', offer = offer.offerId, slot = offer.slot, state = 'active',
    version = offer.version })
  for _, channel in ipairs(offer.channels) do
    local d = offer.deliveries[channel]
    if RETRACTION[channel] == 'instant' then
      if d.state == 'scheduled' then
        -- The banner has no queue: it is published by activation, if the customer consented.
        if consentGranted(channel) then
          d.state = 'sent'
          d.sentAt = now
          d.reason = 'published'
        else
          d.state = 'skipped'
          d.reason = 'no_consent'
        end
        record(now, { actor = actor, action = 'delivery_' .. d.state, offer = offer.offerId, channel = channel,
          state = d.state, version = offer.version, reason = d.reason })
      end
    elseif d.state == 'scheduled' or d.state == 'held' then
      emit('deliver', offer, channel, now)
    end
  end
  saveOffer(offer)
end

--[[
  Makes a pending offer live if the slot allows it now. Returns the offer's state afterwards.
  `replace`: it wins against every contradicting live offer it outranks, or is superseded by the
  strongest one; `queue`: it waits; `reject`: a live contradicting offer keeps the slot.
]]
local function tryActivate(offer, now, actor)
  local rivals = liveContradictions(offer)
  if #rivals == 0 then
    activate(offer, now, actor)
    return 'active'
  end
  if offer.policy == 'queue' then
    if not offer.queued then
      offer.queued = true
      saveOffer(offer)
      -- It now waits for the slot, not for a time: ending the live offer activates it.
      redis.call('ZREM', C.due, member('activate', offer.offerId))
      record(now, { actor = actor, action = 'queued', offer = offer.offerId, slot = offer.slot, state = 'pending',
        version = offer.version, reason = 'slot_taken', detail = { behind = rivals[1].offerId } })
    end
    return 'pending'
  end
  if offer.policy == 'reject' then
    endOffer(offer, 'superseded', 'slot_taken', now, actor, { by = rivals[1].offerId })
    return 'superseded'
  end
  local strongest = nil
  for _, rival in ipairs(rivals) do
    if outranks(rival, offer) and (strongest == nil or outranks(rival, strongest)) then strongest = rival end
  end
  if strongest then
    offer.supersededBy = strongest.offerId
    endOffer(offer, 'superseded', 'outranked', now, actor,
      { by = strongest.offerId, priority = offer.priority, winnerPriority = strongest.priority })
    return 'superseded'
  end
  for _, rival in ipairs(rivals) do
    rival.supersededBy = offer.offerId
    endOffer(rival, 'superseded', 'outranked', now, actor,
      { by = offer.offerId, priority = rival.priority, winnerPriority = offer.priority })
  end
  activate(offer, now, actor)
  return 'active'
end

local function byRank(a, b)
  if a.priority ~= b.priority then return a.priority > b.priority end
  if a.createdAt ~= b.createdAt then return a.createdAt < b.createdAt end
  return a.offerId < b.offerId
end

--[[
  Brings the customer's open offers up to the ledger clock: offers past validUntil expire,
  pending offers whose validFrom has come are activated when their slot allows it (highest
  priority first, then the one waiting longest). Idempotent at a given clock.
]]
local function settle(now)
  for _, id in ipairs(openIds()) do
    local validUntil = openField(id, 'validUntil')
    if validUntil and validUntil <= now then endOffer(loadOffer(id), 'expired', 'validity_ended', now, 'ledger') end
  end
  local changed = true
  local rounds = 0
  -- Each round activates or ends at least one offer, so the open count bounds the rounds.
  local limit = #openIds() + 1
  while changed and rounds < limit do
    changed = false
    rounds = rounds + 1
    local waiting = {}
    for _, id in ipairs(openIds()) do
      if openField(id, 'state') == 'pending' and openField(id, 'validFrom') <= now then
        waiting[#waiting + 1] = loadOffer(id)
      end
    end
    table.sort(waiting, byRank)
    for _, offer in ipairs(waiting) do
      local state = tryActivate(offer, now, 'ledger')
      if state ~= 'pending' then
        changed = true
        break
      end
    end
  end
end

--[[
  settle, then the offer as it is afterwards: `loaded` itself when settling wrote nothing, so
  the common case decodes the offer once.
]]
local function settleWith(now, loaded)
  local saves = SAVES
  settle(now)
  if SAVES == saves then return loaded end
  return loadOffer(loaded.offerId)
end
