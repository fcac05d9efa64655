--[[
  Helpers every ledger script shares: the ledger clock, replies and writing history.
  The ledger clock is Redis TIME in milliseconds plus the request's `skew` (0 in production,
  a shifted clock only for simulations), so every decision uses one clock.
  Every request also carries `historyMs`, how long history entries are kept.
]]
local NOW = nil
-- Set by includes that keep writes until the script answers; called before every answer.
local FLUSH = nil
local HISTORY_MS = nil

local function ledgerNow(req)
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + (tonumber(req.skew) or 0)
  HISTORY_MS = tonumber(req.historyMs)
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

-- The millisecond part of the newest id of each history stream written by this call.
local HISTORY_TOP = {}

--[[
  Appends one entry (`fields`: a flat list of names and values) to a history stream. Entry ids
  follow the ledger clock (`<now>-<n>`, never behind the stream's newest id), so an id says when
  the entry was written and the stream is trimmed by ledger time: entries older than
  `historyMs` go (`MINID ~`: whole blocks at a time, so the cost per write stays small).
]]
local function appendHistory(key, now, fields)
  local top = HISTORY_TOP[key]
  if top == nil then
    local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
    top = newest and tonumber(string.match(newest[1], '^(%d+)')) or 0
  end
  local ms = math.max(now, top)
  HISTORY_TOP[key] = ms
  local args = { 'XADD', key }
  if HISTORY_MS then
    args[#args + 1] = 'MINID'
    args[#args + 1] = '~'
    args[#args + 1] = string.format('%d', now - HISTORY_MS)
  end
  args[#args + 1] = string.format('%d-*', ms)
  for _, value in ipairs(fields) do args[#args + 1] = value end
  redis.call(unpack(args))
end
