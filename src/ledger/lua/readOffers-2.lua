--[[
  Read a customer's offers as JSON, for support and the API: the open ones and those that ended.
  Input:  KEYS[1] offers hash  KEYS[2] live offers (see includes/customer.lua)
          ARGV[1] JSON { offerId? }   one offer, or every offer of the customer
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
if req.offerId == nil then
  for _, stored in ipairs(redis.call('HVALS', KEYS[1])) do
    local offer = decodeOffer(stored)
    -- An open offer's copy in the hash is an earlier build's, older than the live one.
    if not open[offer.offerId] then offers[#offers + 1] = offer end
  end
elseif #offers == 0 then
  local stored = redis.call('HGET', KEYS[1], req.offerId)
  if stored then offers[1] = decodeOffer(stored) end
end
return reply({ offers = offers })
