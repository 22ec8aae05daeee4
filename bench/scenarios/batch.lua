-- POST /ngsi-ld/v1/entityOperations/upsert?options=update with 100 entities of fresh ids
-- per request: <run>-<thread>-<counter>-<i>. wrk args: <run id> [<entities per batch>]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local size = 100
local counter = 0
local headers = {["Content-Type"] = "application/json"}
local path = "/ngsi-ld/v1/entityOperations/upsert?options=update"

function init(args)
  run = args[1] or run
  size = tonumber(args[2] or "100")
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, size do
    local id = string.format("urn:ngsi-ld:Vehicle:%s-%d-%d-%d", run, tid, counter, i)
    parts[i] = common.vehicle(id, 80)
  end
  return wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
end
