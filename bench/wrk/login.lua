-- (b) POST /v1/auth/login with the right password, rotating among the seeded users.
-- Usage: wrk ... -s bench/wrk/login.lua http://HOST:PORT -- USERS_FILE PASSWORD   (one email a line)
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local reqs, n, i
function init(args)
  local emails = bench.read_lines(args[1])
  local password = args[2]
  reqs = {}
  for k, email in ipairs(emails) do
    local body = string.format('{"email":"%s","password":"%s"}', email, password)
    reqs[k] = wrk.format("POST", "/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
  n = #reqs
  i = (id or 0) * 7919 % n
  bench.count_statuses()
end

function request()
  i = i % n + 1
  return reqs[i]
end
