--[[
  Helpers every ledger script shares: the ledger clock and replies.
  The ledger clock is Redis TIME in milliseconds plus the request's `skew` (0 in production,
  a shifted clock only for simulations), so every decision uses one clock.
]]
local NOW = nil
-- Set by includes that keep writes until the script answers; called before every answer.
local FLUSH = nil

local function ledgerNow(skew)
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + (tonumber(skew) or 0)
  return NOW
end

local function reply(value)
  if FLUSH then FLUSH() end
  return cjson.encode(value)
end

local function fail(code, message, details)
  if FLUSH then FLUSH() end
  return cjson.encode({ result = 'error', code = code, message = message, details = details, now = NOW })
end

local function decodeOrNil(raw)
  if not raw then return nil end
  return cjson.decode(raw)
end

