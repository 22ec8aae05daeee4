-- POST /ngsi-ld/v1/entityOperations/upsert?options=update with 100 entities of fresh ids
-- per request: <run>-<thread>-<counter>-<i>. wrk args: <run id> [<entities per batch>]
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local size = 100
local counter = 0
local template = '{"id":"urn:ngsi-ld:Vehicle:%s-%d","type":"Vehicle",'
  .. '"brandName":{"type":"Property","value":"Mercedes"},'
  .. '"speed":{"type":"Property","value":%d,"unitCode":"KMH"},'
  .. '"isParked":{"type":"Relationship","object":"urn:ngsi-ld:OffStreetParking:Downtown1"},'
  .. '"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}}}'
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
    local n = (counter * size + i) % 14000; parts[i] = string.format(template, "dev", n, counter % 120)
  end
  return wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
end
