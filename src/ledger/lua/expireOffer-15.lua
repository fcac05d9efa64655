--[[
  Expire an offer whose validUntil has passed (the sweeper finds it in the due index); an offer not yet due is left alone.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, reason?, expectedVersion? }
  Output: JSON { result, offer, superseded: [offerId], now } — "settled" with the offer as it is now (expired once due)
  Every transition that time has made due for this customer is applied first (settle), so the
  answer is the state at the ledger clock; replaying the call changes nothing.
]]
--@include core
--@include customer
--@include ending

return settleAndReport()
