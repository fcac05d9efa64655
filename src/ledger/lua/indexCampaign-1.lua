--[[
  Lists a created campaign in the deployment's index of campaigns (newest first by creation).
  The index lives under its own hash tag, apart from each campaign's keys, so it is written by
  this script right after updateCampaign's `create`; writing it again only moves the score.
  Input:  KEYS[1] sorted set: campaign ids by creation time (ledger clock)
          ARGV[1] JSON { campaignId, at }
  Output: JSON { result: "changed" | "unchanged" }
]]
local req = cjson.decode(ARGV[1])
local added = redis.call('ZADD', KEYS[1], req.at, req.campaignId)
return cjson.encode({ result = added == 1 and 'changed' or 'unchanged' })
