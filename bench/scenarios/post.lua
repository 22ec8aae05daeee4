-- POST /ngsi-ld/v1/entities with a fresh id per request: <run>-<thread>-<counter>.
-- wrk args: <run id>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local counter = 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  run = args[1] or run
end

function request()
  counter = counter + 1
  local id = string.format("urn:ngsi-ld:Vehicle:%s-%d-%d", run, tid, counter)
  local body = common.vehicle(id, 80)
  return wrk.format("POST", "/ngsi-ld/v1/entities", headers, body)
end
