-- POST /ngsi-ld/v1/entityOperations/upsert?options=update with 100 entities of fresh ids
-- per request: <run>-<thread>-<counter>-<i>. wrk args: <run id> [<entities per batch>] [random]
-- With "random" the ids are 16 random hex digits instead, as devices named by serial
-- number or UUID give them: each lands somewhere else in the (tenant, id) indexes.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup

local run = "run"
local size = 100
local random_ids = false
local counter = 0
local headers = {["Content-Type"] = "application/json"}
local path = "/ngsi-ld/v1/entityOperations/upsert?options=update"

function init(args)
  run = args[1] or run
  size = tonumber(args[2] or "100")
  random_ids = args[3] == "random"
  -- Every thread of every run draws its own ids: unseeded, each thread's generator starts
  -- alike, so the threads (and the runs) would send the same ids again, as updates.
  local seed = tid or 0
  for c in run:gmatch(".") do seed = (seed * 31 + c:byte()) % 2147483647 end
  math.randomseed(seed * 7919 + (tid or 0))
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, size do
    local id
    if random_ids then
      id = string.format("urn:ngsi-ld:Vehicle:%08x%08x",
        math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    else
      id = string.format("urn:ngsi-ld:Vehicle:%s-%d-%d-%d", run, tid, counter, i)
    end
    parts[i] = common.vehicle(id, 80)
  end
  return wrk.format("POST", path, headers, "[" .. table.concat(parts, ",") .. "]")
end
