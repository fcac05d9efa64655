--[[
  The guardrails (docs/API.md, "Guardrails"): what an offer must pass when it is issued and again
  at each claim. Every request carries the deployment's `rules`, resolved to milliseconds and
  minutes (src/config/guardrails.ts); an offer carries the rules its campaign changed
  (`guardrails`), each of which replaces the deployment's.
  What the rules count is kept in the customer's marks (C.marks, a sorted set by time):
    s|<channel>|<offerId>  a send, from its claim's GO (a failed or given-back send is removed)
    p|<sku>, r|<sku>       the latest purchase and return of a SKU (the event's own time)
    first|purchase         there was a purchase (score 0: never pruned; lifecycle `returning`)
  Facts from outside the partition come with the request, read just before it: the SKU's latest
  stock event (`stock`: { sku, latest: { inStock, at } | null }) and the customer's time zone with
  its UTC offsets around now (`zone`: { timezone | null, offsets: [[fromMs, minutes], …] }).
]]

local DAY_MS = 86400000
-- The longest window a rule may look back over (LONGEST_GUARDRAIL_WINDOW_MS).
local MARK_HORIZON_MS = 400 * DAY_MS
local FIRST_PURCHASE = 'first|purchase'

-- JSON null arrives as cjson.null; a rule or fact given as null is off or unknown.
local function given(value)
  return value ~= nil and value ~= cjson.null
end

-- The offer's rules: the deployment's, with the offer's own (its campaign's) in their place.
local function rulesFor(offer, rules)
  local own = offer.guardrails
  if not given(own) then return rules end
  local merged = {}
  for name, value in pairs(rules) do merged[name] = value end
  for name, value in pairs(own) do merged[name] = value end
  return merged
end

local function listHas(list, value)
  for _, item in ipairs(list or {}) do
    if item == value then return true end
  end
  return false
end

local function markTime(name)
  local score = redis.call('ZSCORE', C.marks, name)
  return score and tonumber(score) or nil
end

-- Keeps the marks to the longest window; the first purchase (score 0) stays.
local function pruneMarks(now)
  redis.call('ZREMRANGEBYSCORE', C.marks, '(0', now - MARK_HORIZON_MS)
end

local function sendMark(channel, offerId)
  return 's|' .. channel .. '|' .. offerId
end

-- A purchase or a return of a SKU at `at` (an older event never moves a mark back).
local function markSkuEvent(kind, sku, at, now)
  local name = (kind == 'purchase' and 'p|' or 'r|') .. sku
  local known = markTime(name)
  if not known or at > known then redis.call('ZADD', C.marks, at, name) end
  if kind == 'purchase' then redis.call('ZADD', C.marks, 'NX', 0, FIRST_PURCHASE) end
  pruneMarks(now)
end

local function optedIn(category)
  local raw = redis.call('HGET', C.profile, 'sensitiveOptIns')
  return raw and listHas(cjson.decode(raw), category) or false
end

--[[
  The first rule the offer breaks for its customer now, whatever the channel, with the detail the
  history shows; nil when it breaks none. The same at issue and at every claim.
]]
local function offerRefusal(offer, rules, now)
  if offer.category and listHas(rules.sensitiveCategories, offer.category) and not optedIn(offer.category) then
    return 'sensitive_category', { category = offer.category }
  end
  if given(offer.lifecycle) then
    local returning = markTime(FIRST_PURCHASE) ~= nil
    if (offer.lifecycle == 'returning') ~= returning then
      return 'lifecycle_mismatch', { lifecycle = offer.lifecycle }
    end
  end
  if offer.sku then
    local returned = markTime('r|' .. offer.sku)
    if returned and rules.returnBlockMs > 0 and returned > now - rules.returnBlockMs then
      return 'recently_returned', { sku = offer.sku, at = returned }
    end
    local bought = markTime('p|' .. offer.sku)
    if bought and rules.purchaseBlockMs > 0 and bought > now - rules.purchaseBlockMs then
      return 'recently_purchased', { sku = offer.sku, at = bought }
    end
  end
  return nil
end

-- The SKU's latest stock event, or nil when it has none (or the offer has no SKU).
local function latestStock(offer, stock)
  if not offer.sku or not given(stock) or not given(stock.latest) then return nil end
  return stock.latest
end

-- The stock fact was read for another SKU (or not at all) while the offer has one.
local function stockFactMissing(offer, stock)
  return offer.sku ~= nil and (not given(stock) or stock.sku ~= offer.sku)
end

-- The index of the offset step in force at `t` (the first one for an instant before them all).
local function stepAt(offsets, t)
  local index = 1
  while offsets[index + 1] and offsets[index + 1][1] <= t do index = index + 1 end
  return index
end

--[[
  When the quiet-hours window the customer's local time is in ends (epoch ms), or nil when it is
  not inside one. The window is local minutes [startMin, endMin), crossing midnight when start >
  end. Its end is the first instant from now on at which the local clock reads endMin on the day
  the window ends: across a DST change during the night, with the offset then in force; an end the
  clocks skip (spring forward) ends it at the jump. quietWindowEnd in src/ledger/zones.ts is the
  same computation, which the tests hold equal.
]]
local function quietUntil(rule, offsets, now)
  local index = stepAt(offsets, now)
  local localNow = now + offsets[index][2] * 60000
  local sinceMidnight = localNow % DAY_MS
  local minute = math.floor(sinceMidnight / 60000)
  local s, e = rule.startMin, rule.endMin
  local crosses = s > e
  local inside
  if crosses then inside = minute >= s or minute < e else inside = minute >= s and minute < e end
  if not inside then return nil end
  local endLocal = localNow - sinceMidnight + e * 60000
  if crosses and minute >= s then endLocal = endLocal + DAY_MS end
  while true do
    local step = offsets[index]
    local candidate = math.max(step[1], now, endLocal - step[2] * 60000)
    local following = offsets[index + 1]
    if not following or candidate < following[1] then return candidate end
    index = index + 1
  end
end

--[[
  The cap a send on `channel` would exceed now, or nil. Every earlier send of the customer within
  a cap's window counts, but this delivery's own (a claim again after a lost lease).
]]
local function capReached(rules, channel, offerId, now)
  local longest = 0
  local caps = {}
  for _, cap in ipairs(rules.caps or {}) do
    if cap.scope == channel or cap.scope == 'any' then
      caps[#caps + 1] = cap
      if cap.windowMs > longest then longest = cap.windowMs end
    end
  end
  if #caps == 0 then return nil end
  local own = sendMark(channel, offerId)
  local marks = redis.call('ZRANGEBYSCORE', C.marks, '(' .. (now - longest), '+inf', 'WITHSCORES')
  for _, cap in ipairs(caps) do
    local since = now - cap.windowMs
    local count = 0
    for i = 1, #marks, 2 do
      local name, at = marks[i], tonumber(marks[i + 1])
      if at > since and name ~= own then
        local sent = string.match(name, '^s|(%a+)|')
        if sent and (cap.scope == 'any' or sent == cap.scope) then count = count + 1 end
      end
    end
    if count >= cap.count then return cap end
  end
  return nil
end

-- A claimed send that did not go (failed, to be retried, given back) counts for no cap.
local function unmarkSend(channel, offerId)
  redis.call('ZREM', C.marks, sendMark(channel, offerId))
end
