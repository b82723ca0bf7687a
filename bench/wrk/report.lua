-- Shared by every scenario script (loaded with dofile): the parseable summary line and per-thread
-- status counting. wrk runs one Lua state per thread plus one for setup()/done().
--
-- done() prints one line:
--   BENCH rps=... requests=... duration_s=... p50_us=... p90_us=... p99_us=... max_us=...
--         connect_errors=... read_errors=... write_errors=... timeouts=... non2xx=... [statuses=200:n,503:n]
-- `non2xx` is wrk's own count of responses with status > 399; `statuses` is only present for scripts
-- that call count_statuses() (they define response(), which costs client CPU, so the cheap routes don't).

bench = bench or {}
local threads = {}
local thread_counter = 0

function bench.setup(thread)
  thread:set("id", thread_counter)
  thread_counter = thread_counter + 1
  table.insert(threads, thread)
end

-- Enables per-status counting in this thread's state.
function bench.count_statuses()
  statuses = {}
  response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

-- Reads a file into a list of non-empty lines.
function bench.read_lines(path)
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  local lines = {}
  for line in f:lines() do
    if #line > 0 then table.insert(lines, line) end
  end
  f:close()
  assert(#lines > 0, path .. " is empty")
  return lines
end

function bench.done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local line = string.format(
    "BENCH rps=%.1f requests=%d duration_s=%.2f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non2xx=%d",
    summary.requests / seconds, summary.requests, seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if type(counts) == "table" then
      for status, n in pairs(counts) do merged[status] = (merged[status] or 0) + n end
    end
  end
  local keys = {}
  for status in pairs(merged) do table.insert(keys, status) end
  if #keys > 0 then
    table.sort(keys)
    local parts = {}
    for _, status in ipairs(keys) do table.insert(parts, status .. ":" .. merged[status]) end
    line = line .. " statuses=" .. table.concat(parts, ",")
  end
  io.write(line .. "\n")
end

setup = bench.setup
done = bench.done
