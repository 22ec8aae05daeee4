-- PATCH /ngsi-ld/v1/entities/{id}/attrs over a pre-created set of entities, round robin.
-- wrk args: <id prefix> <number of entities>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local prefix = "urn:ngsi-ld:Vehicle:patch-"
local n = 1
local counter = 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  prefix = args[1] or prefix
  n = tonumber(args[2] or "1")
  counter = (tid or 1) * 7919
end

function request()
  counter = counter + 1
  local path = "/ngsi-ld/v1/entities/" .. prefix .. (counter % n) .. "/attrs"
  local body = '{"speed":{"type":"Property","value":' .. counter .. ',"unitCode":"KMH"}}'
  return wrk.format("PATCH", path, headers, body)
end
