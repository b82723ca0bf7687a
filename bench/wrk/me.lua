-- (a) GET /v1/me with valid session tokens, rotating among them (Authorization: Bearer).
-- Usage: wrk ... -s bench/wrk/me.lua http://HOST:PORT -- TOKENS_FILE     (one token a line)
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local reqs, n, i
function init(args)
  local tokens = bench.read_lines(args[1])
  reqs = {}
  for k, token in ipairs(tokens) do
    reqs[k] = wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. token })
  end
  n = #reqs
  -- Threads start at different offsets so they don't walk the same tokens in lock step.
  i = (id or 0) * 7919 % n
end

function request()
  i = i % n + 1
  return reqs[i]
end
