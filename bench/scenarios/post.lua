-- POST /ngsi-ld/v1/entities with a fresh id per request: <run>-<thread>-<counter>.
-- wrk args: <run id>
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local counter = 0
local template = '{"id":"urn:ngsi-ld:Vehicle:%s-%d-%d","type":"Vehicle",'
  .. '"brandName":{"type":"Property","value":"Mercedes"},'
  .. '"speed":{"type":"Property","value":80,"unitCode":"KMH"},'
  .. '"isParked":{"type":"Relationship","object":"urn:ngsi-ld:OffStreetParking:Downtown1"},'
  .. '"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}}}'
local headers = {["Content-Type"] = "application/json"}

function init(args)
  run = args[1] or run
end

function request()
  counter = counter + 1
  local body = string.format(template, run, tid, counter)
  return wrk.format("POST", "/ngsi-ld/v1/entities", headers, body)
end
