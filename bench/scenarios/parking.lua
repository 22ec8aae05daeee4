-- Smart Data Models ParkingSpot writes with the Parking subject @context in a Link header:
-- wrk args: <run id> <mode: post|batch> [<entities per batch>]
--   post:  POST /ngsi-ld/v1/entities, one entity with a fresh id per request
--   batch: POST /ngsi-ld/v1/entityOperations/upsert?options=update, <size> fresh entities
-- Ids: urn:ngsi-ld:ParkingSpot:<run>-<thread>-<counter>[-<i>]. Every entity fits the model.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local mode = "post"
local size = 100
local counter = 0
local template = '{"id":"urn:ngsi-ld:ParkingSpot:%s","type":"ParkingSpot",'
  .. '"name":{"type":"Property","value":"A-13"},'
  .. '"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.80356,43.46296]}},'
  .. '"status":{"type":"Property","value":"free","observedAt":"2026-11-30T08:01:12Z"},'
  .. '"category":{"type":"Property","value":["onStreet"]},'
  .. '"width":{"type":"Property","value":2.2,"unitCode":"MTR"},'
  .. '"length":{"type":"Property","value":5.0,"unitCode":"MTR"},'
  .. '"refParkingSite":{"type":"Relationship","object":"urn:ngsi-ld:OnStreetParking:santander"}}'
local headers = {
  ["Content-Type"] = "application/json",
  ["Link"] = '<https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/'
    .. 'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"',
}

function init(args)
  run = args[1] or run
  mode = args[2] or mode
  size = tonumber(args[3] or "100")
end

function request()
  counter = counter + 1
  if mode == "post" then
    local id = string.format("%s-%d-%d", run, tid, counter)
    return wrk.format("POST", "/ngsi-ld/v1/entities", headers, string.format(template, id))
  end
  local parts = {}
  for i = 1, size do
    parts[i] = string.format(template, string.format("%s-%d-%d-%d", run, tid, counter, i))
  end
  return wrk.format("POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", headers,
    "[" .. table.concat(parts, ",") .. "]")
end
