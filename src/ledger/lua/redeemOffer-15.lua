--[[
  Mark an active offer redeemed; it ends on every channel.
  Input:  KEYS   the 15 customer-scope keys (see includes/customer.lua)
          ARGV[1] JSON { skew, actor, offerId, reason?, expectedVersion? }
  Output: JSON { result, offer, superseded: [offerId], now } — "ended", "unchanged" (already redeemed: a replay), or an error: unknown offer, not active, ended otherwise, version mismatch
  Every transition that time has made due for this customer is applied first (settle), so the
  answer is the state at the ledger clock; replaying the call changes nothing.
]]
--@include core
--@include customer
--@include ending

return endOnRequest('redeemed')
