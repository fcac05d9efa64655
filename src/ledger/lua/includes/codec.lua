--[[
  How offer documents are stored: MessagePack maps keyed by a field's number in the lists below
  instead of its name. A live offer with three deliveries takes ~260 bytes this way against ~700
  as JSON, and Redis's memory per live offer is mostly this document.
  The lists are append-only: a field's number never changes once documents carry it, so a new
  field goes at the end and an old document simply lacks it.
  The scripts read the stored form and answer TypeScript in JSON, except for the banner's live
  document, which src/ledger/live-document.ts decodes with the same numbers.
]]
local OFFER_FIELDS = {
  'offerId', 'customerId', 'slot', 'title', 'body', 'code', 'discount', 'sku', 'category', 'channels',
  'validFrom', 'validUntil', 'priority', 'campaignId', 'policy', 'holdDeadline', 'state', 'version',
  'createdAt', 'updatedAt', 'activatedAt', 'endedAt', 'endReason', 'supersededBy', 'queued', 'deliveries',
  'guardrails', 'lifecycle',
}
local DELIVERY_FIELDS = {
  'state', 'reason', 'attempts', 'token', 'claimId', 'leaseUntil', 'retryAt', 'sentAt', 'retraction',
}

-- The same numbers by name, written out rather than built from the lists: every script call runs
-- this file again, and growing two tables key by key cost ~3 µs of Redis time per call. A unit
-- test (test/unit/live-document.test.ts) holds the lists and these tables equal.
local OFFER_NUMBER = {
  offerId = 1, customerId = 2, slot = 3, title = 4, body = 5, code = 6, discount = 7, sku = 8,
  category = 9, channels = 10, validFrom = 11, validUntil = 12, priority = 13, campaignId = 14,
  policy = 15, holdDeadline = 16, state = 17, version = 18, createdAt = 19, updatedAt = 20,
  activatedAt = 21, endedAt = 22, endReason = 23, supersededBy = 24, queued = 25, deliveries = 26,
  guardrails = 27, lifecycle = 28,
}
local DELIVERY_NUMBER = {
  state = 1, reason = 2, attempts = 3, token = 4, claimId = 5, leaseUntil = 6, retryAt = 7,
  sentAt = 8, retraction = 9,
}

local function copyList(list)
  local copy = {}
  for i, value in ipairs(list) do copy[i] = value end
  return copy
end

local function copyMap(map)
  local copy = {}
  for key, value in pairs(map) do copy[key] = value end
  return copy
end

-- A field the lists do not name would be dropped without a trace; refusing it keeps the
-- stored document and the lists in step.
local function packFields(record, numbers, what)
  local packed = {}
  for name, value in pairs(record) do
    local number = numbers[name]
    if not number then error('ledger codec: ' .. what .. ' field ' .. tostring(name) .. ' has no number') end
    packed[number] = value
  end
  return packed
end

local function unpackFields(packed, fields)
  local record = {}
  for number, value in pairs(packed) do record[fields[number]] = value end
  return record
end

-- Packed and unpacked forms share no tables, so changing a loaded offer never changes what is stored.
local function packOffer(offer)
  local packed = packFields(offer, OFFER_NUMBER, 'offer')
  packed[OFFER_NUMBER.discount] = copyMap(offer.discount)
  packed[OFFER_NUMBER.channels] = copyList(offer.channels)
  local deliveries = {}
  for channel, d in pairs(offer.deliveries) do deliveries[channel] = packFields(d, DELIVERY_NUMBER, 'delivery') end
  packed[OFFER_NUMBER.deliveries] = deliveries
  return packed
end

local function unpackOffer(packed)
  local offer = unpackFields(packed, OFFER_FIELDS)
  offer.discount = copyMap(offer.discount)
  offer.channels = copyList(offer.channels)
  local deliveries = {}
  for channel, d in pairs(offer.deliveries or {}) do deliveries[channel] = unpackFields(d, DELIVERY_FIELDS) end
  offer.deliveries = deliveries
  return offer
end

local function encodeOffer(offer)
  return cmsgpack.pack(packOffer(offer))
end

--[[
  A customer's live document: the packed open offers in one MessagePack list, in offer id order.
  `readLive` answers the packed offers (fields by number, see OFFER_NUMBER), so a reader can test
  a field without decoding the whole offer.
]]
local function readLive(raw)
  if not raw then return {} end
  return cmsgpack.unpack(raw)
end

local function writeLive(packedOffers)
  return cmsgpack.pack(packedOffers)
end

-- An offer's terms for a reply whose reader renders or shows the offer (a claim, the banner):
-- the deliveries are most of the document and the reader has no use for them. It changes the
-- table it is given, which must be a decoded copy the script no longer needs.
local function termsOnly(offer)
  offer.deliveries = {}
  return offer
end

-- A document that starts with `{` is JSON, as builds before this codec stored offers (a
-- MessagePack map never starts with that byte); it is read as it is and stored packed when saved.
local function decodeOffer(raw)
  if not raw then return nil end
  if string.byte(raw, 1) == 123 then return cjson.decode(raw) end
  return unpackOffer(cmsgpack.unpack(raw))
end
