--[[
  Erase a customer's personal data: the profile goes, open offers end (`cancelled`, reason
  `customer_erased`) so nothing more is sent or shown. History keeps ids, states and reasons
  (it never held personal values), so counts and audits still hold.
  Input:  KEYS   the 14 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor }
  Output: JSON { result: "erased" | "unchanged", cancelled: [offerId], now }
]]
--@include core
--@include customer

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local hadProfile = redis.call('EXISTS', C.profile) == 1
local open = openOffers()
if not hadProfile and #open == 0 then return reply({ result = 'unchanged', cancelled = {}, now = now }) end
local cancelled = {}
for _, offer in ipairs(open) do
  endOffer(offer, 'cancelled', 'customer_erased', now, req.actor)
  cancelled[#cancelled + 1] = offer.offerId
end
redis.call('DEL', C.profile)
record(now, { actor = req.actor, action = 'erased', reason = 'erasure_request' })
return reply({ result = 'erased', cancelled = cancelled, now = now })
