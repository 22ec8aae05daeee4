-- POST /ngsi-ld/v1/entityOperations/upsert?options=update: 100 entities per request, taken in
-- turn from a pre-created set (what an IoT Agent sends for a province's sensors: the same
-- entities again and again, a new speed each time). wrk args: <id prefix> <set size> [<per batch>]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local prefix = "urn:ngsi-ld:Vehicle:update-"
local n = 14000
local size = 100
local counter = 0
local headers = {["Content-Type"] = "application/json"}
local path = "/ngsi-ld/v1/entityOperations/upsert?options=update"

function init(args)
  prefix = args[1] or prefix
  n = tonumber(args[2] or "14000")
  size = tonumber(args[3] or "100")
  counter = (tid or 1) * 7919
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, size do
    parts[i] = common.vehicle(prefix .. ((counter * size + i) % n), counter % 200)
  end
  return wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
end
