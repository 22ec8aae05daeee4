-- Shared by the scenarios: count response statuses per thread and print them when done,
-- one "status <code> <count>" line each, for bench/run.py to report.
local M = {}
local all_threads = {}

-- The Vehicle every write scenario sends (the baseline's ENTITY), with its id and speed.
local vehicle = '{"id":"%s","type":"Vehicle",'
  .. '"brandName":{"type":"Property","value":"Mercedes"},'
  .. '"speed":{"type":"Property","value":%d,"unitCode":"KMH"},'
  .. '"isParked":{"type":"Relationship","object":"urn:ngsi-ld:OffStreetParking:Downtown1"},'
  .. '"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}}}'

function M.vehicle(id, speed)
  return string.format(vehicle, id, speed)
end

function M.setup(thread)
  table.insert(all_threads, thread)
  thread:set("tid", #all_threads)
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(all_threads) do
    local counts = thread:get("statuses")
    for code, n in pairs(counts) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d %d\n", code, n))
  end
end

return M
