-- (c) POST /v1/auth/signup, a new user per request: the email is unique per run, thread and counter.
-- Usage: wrk ... -s bench/wrk/signup.lua http://HOST:PORT -- RUN_TAG PASSWORD
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local tag, password, counter
function init(args)
  tag = args[1] or tostring(os.time())
  password = args[2] or "bench-password-1"
  counter = 0
  bench.count_statuses()
end

function request()
  counter = counter + 1
  local body = string.format('{"email":"su-%s-t%d-%d@bench.example","password":"%s"}', tag, id or 0, counter, password)
  return wrk.format("POST", "/v1/auth/signup", { ["Content-Type"] = "application/json" }, body)
end
