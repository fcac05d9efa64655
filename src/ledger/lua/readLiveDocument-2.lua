--[[
  Read, at one instant, what the banner's answer is decided from: the ledger clock, the
  customer's live document and their web consent. The decision is made by the caller
  (live-document.ts), so the hottest read costs Redis three plain reads.
  Input:  KEYS[1] live offers (see includes/codec.lua)  KEYS[2] profile hash
  Output: { seconds, microseconds, live document or nil, web consent JSON or nil }
]]
local t = redis.call('TIME')
return { t[1], t[2], redis.call('GET', KEYS[1]), redis.call('HGET', KEYS[2], 'consent.web') }
