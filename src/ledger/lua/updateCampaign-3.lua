--[[
  Every change of a campaign: its state machine, its run cursor and its progress counters, so
  that two processes (an API call and a worker, or two workers) can never move it inconsistently.
  Input:  KEYS[1] hash: the campaign (definition, state, schedule, run, cursor, counters "p.*")
          KEYS[2] stream: the campaign's audit trail (one entry per accepted change; XRANGE reads it)
          KEYS[3] hash "<run>|<customerId>" → outcome (what the last run did for each customer)
          ARGV[1] JSON { skew, action, actor, ... } with action one of
            create   { campaignId, definition, scheduleKind? }          draft
            approve  { note? }                                          draft → approved (not by the author)
            schedule { schedule, scheduleKind }                         approved | scheduled → scheduled
            fire     { fireId, scheduleVersion }                        scheduled → running (a new run);
                                                                        running: joins the run going on
            page     { run, cursor, next, outcomes: list of (customerId, outcome) } one page of a run
            finish   { run }                                            running → completed | scheduled
            pause    { reason? }                                        scheduled | running → paused
            resume   {}                                                 paused → what it was; running: the run
                                                                        again (for a new job)
            cancel   { reason? }                                        any but cancelled → cancelled
            ended    { count }                                          counts offers the cancel ended
  Output: JSON { result: "ok" | "unchanged" | "ignored" | "stale", reason?, run?, cursor?,
                 fields: [field, value, ...] (the campaign after the change, without
                 its definition), now }
          | { result: "error", code, message }
]]
--@include core

local req = cjson.decode(ARGV[1])
local now = ledgerNow(req)
local campaignKey, logKey, outcomesKey = KEYS[1], KEYS[2], KEYS[3]

local function field(name)
  return redis.call('HGET', campaignKey, name)
end

local function answer(result, extra)
  local out = extra or {}
  out.result = result
  out.now = now
  -- Everything but the definition, which can be large (an audience of many ids) and never changes.
  local fields = {}
  local all = redis.call('HGETALL', campaignKey)
  for i = 1, #all, 2 do
    if all[i] ~= 'definition' then
      fields[#fields + 1] = all[i]
      fields[#fields + 1] = all[i + 1]
    end
  end
  out.fields = fields
  return reply(out)
end

local function log(action, from, to, reason)
  redis.call('XADD', logKey, '*', 'at', now, 'actor', req.actor or 'system', 'action', action,
    'from', from or '', 'to', to or '', 'reason', reason or '')
end

local function move(to, extra)
  local from = field('state')
  local version = tonumber(field('version') or '0') + 1
  redis.call('HSET', campaignKey, 'state', to, 'version', version, 'updatedAt', now)
  if extra then
    for name, value in pairs(extra) do redis.call('HSET', campaignKey, name, value) end
  end
  return from
end

-- The state a finished run leaves: a one-off schedule is done, a recurring one waits for its next fire.
local function afterRun()
  if field('scheduleKind') == 'cron' then return 'scheduled' end
  return 'completed'
end

local function startRun()
  local run = tonumber(field('run') or '0') + 1
  -- Outcomes are kept for the last run only (support reads them; a daily cron must not pile up
  -- one field per customer per day): a new run starts with none.
  redis.call('DEL', outcomesKey)
  move('running', { run = run, runActive = 1, cursor = 0, pendingRun = 0, runStartedAt = now })
  return run
end

local function oneOf(value, list)
  for _, item in ipairs(list) do
    if item == value then return true end
  end
  return false
end

local action = req.action

if action == 'create' then
  if redis.call('EXISTS', campaignKey) == 1 then
    return fail('conflict', 'campaign ' .. req.campaignId .. ' already exists')
  end
  redis.call('HSET', campaignKey, 'id', req.campaignId, 'definition', cjson.encode(req.definition),
    'state', 'draft', 'author', req.actor, 'createdAt', now, 'updatedAt', now, 'version', 1,
    'run', 0, 'runActive', 0, 'cursor', 0, 'scheduleVersion', 0)
  log('create', '', 'draft')
  return answer('ok')
end

local state = field('state')
if not state then
  return fail('not_found', 'no campaign ' .. tostring(req.campaignId))
end

if action == 'approve' then
  if state ~= 'draft' then
    return fail('conflict', 'only a draft can be approved; the campaign is ' .. state)
  end
  if field('author') == req.actor then
    return fail('forbidden', 'a campaign must be approved by someone other than its author')
  end
  move('approved', { approvedBy = req.actor, approvedAt = now, approvalNote = req.note or '' })
  log('approve', state, 'approved', req.note)
  return answer('ok')
end

if action == 'schedule' then
  if not oneOf(state, { 'approved', 'scheduled' }) then
    local why = state == 'draft' and 'it must be approved first' or ('it is ' .. state)
    return fail('conflict', 'the campaign cannot be scheduled: ' .. why)
  end
  local version = tonumber(field('scheduleVersion') or '0') + 1
  move('scheduled', { schedule = cjson.encode(req.schedule), scheduleKind = req.scheduleKind,
    scheduleVersion = version })
  log('schedule', state, 'scheduled')
  return answer('ok')
end

if action == 'fire' then
  if tostring(req.scheduleVersion) ~= field('scheduleVersion') then
    return answer('ignored', { reason = 'rescheduled' })
  end
  local active = field('runActive') == '1'
  if field('lastFireId') == req.fireId then
    -- The same fire again (its job ran again after a crash): go on with the run it started.
    if active and state == 'running' then
      return answer('ok', { run = tonumber(field('run')), cursor = tonumber(field('cursor')) })
    end
    return answer('ignored', { reason = 'already_fired' })
  end
  if state == 'paused' then
    redis.call('HSET', campaignKey, 'lastFireId', req.fireId)
    if not active then redis.call('HSET', campaignKey, 'pendingRun', 1) end
    log('fire', state, state, 'paused')
    return answer('ignored', { reason = 'paused' })
  end
  if state == 'running' and active then
    -- A fire while a run is still going: the fire works that run too. Two workers on one run are
    -- safe (the cursor fences each page), and a run whose own job died is picked up again.
    redis.call('HSET', campaignKey, 'lastFireId', req.fireId)
    log('fire', state, state, 'joins run ' .. field('run'))
    return answer('ok', { run = tonumber(field('run')), cursor = tonumber(field('cursor')) })
  end
  if state ~= 'scheduled' then
    return answer('ignored', { reason = state })
  end
  redis.call('HSET', campaignKey, 'lastFireId', req.fireId)
  local run = startRun()
  log('run', state, 'running', 'run ' .. run)
  return answer('ok', { run = run, cursor = 0 })
end

if action == 'page' then
  -- A page issued while the campaign was being cancelled is still recorded (its offers exist, and
  -- the run ends them): counts then say what was issued and what the cancel ended.
  if tostring(req.run) ~= field('run') or tostring(req.cursor) ~= field('cursor')
      or (field('runActive') ~= '1' and state ~= 'cancelled') then
    return answer('stale')
  end
  local counts = {}
  for _, pair in ipairs(req.outcomes) do
    local customerId, outcome = pair[1], pair[2]
    -- A page recorded again after a crash counts each customer once.
    if redis.call('HSETNX', outcomesKey, req.run .. '|' .. customerId, outcome) == 1 then
      local kind, reason = string.match(outcome, '^(%a+):?(.*)$')
      counts['p.processed'] = (counts['p.processed'] or 0) + 1
      counts['p.' .. kind] = (counts['p.' .. kind] or 0) + 1
      if kind == 'skipped' and reason ~= '' then
        counts['p.skipped.' .. reason] = (counts['p.skipped.' .. reason] or 0) + 1
      end
    end
  end
  for name, count in pairs(counts) do redis.call('HINCRBY', campaignKey, name, count) end
  redis.call('HSET', campaignKey, 'cursor', req.next, 'updatedAt', now)
  return answer('ok')
end

if action == 'finish' then
  if tostring(req.run) ~= field('run') or field('runActive') ~= '1' then
    return answer('stale')
  end
  redis.call('HSET', campaignKey, 'runActive', 0, 'runEndedAt', now)
  if state == 'running' then
    local to = afterRun()
    move(to)
    log('finish', state, to, 'run ' .. req.run)
  else
    log('finish', state, state, 'run ' .. req.run)
  end
  return answer('ok')
end

if action == 'pause' then
  if state == 'paused' then return answer('unchanged') end
  if not oneOf(state, { 'scheduled', 'running' }) then
    return fail('conflict', 'only a scheduled or running campaign can be paused; the campaign is ' .. state)
  end
  move('paused', { pausedFrom = state })
  log('pause', state, 'paused', req.reason)
  return answer('ok')
end

if action == 'resume' then
  if state ~= 'paused' then
    if state == 'running' and field('runActive') == '1' then
      -- Resuming a running campaign hands its run to a new job: the way to restart a run whose
      -- job was lost (a second runner on the same run is harmless).
      return answer('unchanged', { run = tonumber(field('run')), cursor = tonumber(field('cursor')) })
    end
    if state == 'scheduled' then return answer('unchanged') end
    return fail('conflict', 'only a paused campaign can be resumed; the campaign is ' .. state)
  end
  local active = field('runActive') == '1'
  local to = field('pausedFrom') or 'scheduled'
  if to == 'running' and not active then to = afterRun() end
  if active then to = 'running' end
  if to == 'scheduled' and field('pendingRun') == '1' then
    -- A fire came while paused: the run it would have started starts now.
    local run = startRun()
    log('resume', state, 'running', 'run ' .. run .. ' (fired while paused)')
    return answer('ok', { run = run, cursor = 0 })
  end
  move(to, { pausedFrom = '' })
  log('resume', state, to, req.reason)
  if to == 'running' then
    return answer('ok', { run = tonumber(field('run')), cursor = tonumber(field('cursor')) })
  end
  return answer('ok')
end

if action == 'cancel' then
  if state == 'cancelled' then return answer('unchanged') end
  move('cancelled', { runActive = 0, pendingRun = 0, endReason = req.reason or '', cancelledAt = now })
  log('cancel', state, 'cancelled', req.reason)
  return answer('ok')
end

if action == 'ended' then
  if tonumber(req.count) > 0 then redis.call('HINCRBY', campaignKey, 'p.cancelled', req.count) end
  return answer('ok')
end

return fail('invalid_input', 'unknown campaign action ' .. tostring(action))
