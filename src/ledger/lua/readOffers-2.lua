--[[
  Read a customer's offers as JSON, for support and the API.
  Input:  KEYS[1] offers hash  KEYS[2] live offers (see includes/customer.lua)
          ARGV[1] JSON { offerId? } | { open: true, offerIds?: [offerId] } | {}
            offerId             that one offer
            open, offerIds      the open offers, and those of `offerIds` that ended (bounded reads:
                                the live string and one HMGET, never the whole hash)
            {}                  every offer of the customer, open or ended
  Output: JSON { offers: [offer] }    in no particular order
]]
--@include core
--@include codec

local req = cjson.decode(ARGV[1])
local offers = {}
local open = {}
for _, packed in ipairs(readLive(redis.call('GET', KEYS[2]))) do
  local offer = unpackOffer(packed)
  open[offer.offerId] = true
  if req.offerId == nil or offer.offerId == req.offerId then offers[#offers + 1] = offer end
end
if req.offerId ~= nil then
  if #offers == 0 then
    local stored = redis.call('HGET', KEYS[1], req.offerId)
    if stored then offers[1] = decodeOffer(stored) end
  end
elseif req.open then
  local wanted = {}
  for _, id in ipairs(req.offerIds or {}) do
    if not open[id] then wanted[#wanted + 1] = id end
  end
  -- In slices: unpack has a limit on how many values it can spread (a CLI reading a whole history).
  for first = 1, #wanted, 500 do
    local slice = redis.call('HMGET', KEYS[1], unpack(wanted, first, math.min(first + 499, #wanted)))
    for _, stored in ipairs(slice) do
      if stored then offers[#offers + 1] = decodeOffer(stored) end
    end
  end
else
  for _, stored in ipairs(redis.call('HVALS', KEYS[1])) do
    local offer = decodeOffer(stored)
    -- An open offer's copy in the hash is an earlier build's, older than the live one.
    if not open[offer.offerId] then offers[#offers + 1] = offer end
  end
end
return reply({ offers = offers })
