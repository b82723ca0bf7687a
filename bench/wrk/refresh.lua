-- (f) POST /v1/token grant_type=refresh_token, every request with a refresh token never used before.
-- Rotation makes a refresh token single-use, so the requests chain: response() takes the new
-- refresh_token out of each answer and queues it for this thread's next request. Each thread starts
-- with its share of TOKENS_FILE (line k goes to thread (k - 1) % WRK_THREADS); it needs at least one
-- token per connection of the thread (the queue never shrinks while every refresh succeeds: one in,
-- one out), plus a few spares: wrk calls request() once on thread 0 before the run to check it, and a
-- failed request (or a socket error) loses its chain. With the queue empty, a request carries an
-- invalid token and is counted as a 400.
-- Usage: wrk ... -s bench/wrk/refresh.lua http://HOST:PORT -- TOKENS_FILE WRK_THREADS
dofile(debug.getinfo(1, "S").source:sub(2):match("^(.*/)") .. "report.lua")

local queue, head, tail

local function push(token)
  tail = tail + 1
  queue[tail] = token
end

local function pop()
  if head > tail then return nil end
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  return token
end

function init(args)
  local tokens = bench.read_lines(args[1])
  local threads = tonumber(args[2]) or 1
  local me = id or 0
  queue, head, tail = {}, 1, 0
  for k, token in ipairs(tokens) do
    if (k - 1) % threads == me then push(token) end
  end
  assert(tail > 0, "no refresh token for thread " .. me)
  bench.count_statuses()
  local count = response
  response = function(status, headers, body)
    count(status, headers, body)
    if status == 200 then
      local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
      if token then push(token) end
    end
  end
end

function request()
  local token = pop() or "tsr_exhausted"
  return wrk.format("POST", "/v1/token", { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=refresh_token&refresh_token=" .. token)
end
