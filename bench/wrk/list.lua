-- (h) GET /v1/users?<filter> with an API key's access token (users:read).
-- Usage: wrk ... -s bench/wrk/list.lua http://HOST:PORT -- ACCESS_TOKEN QUERY [N]
-- QUERY is sent as given (after '?'). When it contains {n}, each request replaces it with a random
-- whole number from 1 to N (1,000 requests pre-formatted per thread), e.g. email=user{n}@example.com
-- looks up a different one of N generated users each time.
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local reqs, n, i
function init(args)
  local headers = { ["Authorization"] = "Bearer " .. args[1] }
  local query = args[2]
  local count = tonumber(args[3]) or 1
  reqs = {}
  if query:find("{n}", 1, true) then
    math.randomseed(7919 * ((id or 0) + 1))
    for k = 1, 1000 do
      local q = query:gsub("{n}", tostring(math.random(1, count)))
      reqs[k] = wrk.format("GET", "/v1/users?" .. q, headers)
    end
  else
    reqs[1] = wrk.format("GET", "/v1/users?" .. query, headers)
  end
  n = #reqs
  i = (id or 0) * 7919 % n
end

function request()
  i = i % n + 1
  return reqs[i]
end
