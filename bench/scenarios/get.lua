-- GET one entity by id (the same id every time).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
setup = common.setup
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
