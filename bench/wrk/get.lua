-- (0) hello_beast GET /  and  (0b) Tessera GET /healthz: the ceilings.
-- The request is pre-formatted once and returned from request() so that the client does the same
-- per-request Lua work as in the /v1/me scenario: the ratios compare servers, not wrk code paths.
-- Usage: wrk ... -s bench/wrk/get.lua URL            (the path comes from the URL)
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local req
function init(args)
  req = wrk.format("GET", wrk.path)
end

function request()
  return req
end
