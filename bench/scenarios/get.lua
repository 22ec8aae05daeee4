-- GET one entity by id (the same id every time).
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
