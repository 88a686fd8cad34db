-- wrk script shared by every scenario (see bench/loadgen.py).
--
-- Arguments after "--": mode, token, data file, run id, number of wrk threads.
--   mode "get":    GET a random line of the data file (a path with its query string)
--   mode "create": POST to the path on the data file's first line the body template of its second
--                  line, with every __SIREN__ replaced by a unique valid SIREN
--   mode "token":  POST /api/v1/auth/token with the e-mail and password on the data file's first
--                  two lines
-- Every response outside 2xx is counted; done() prints one JSON line that loadgen.py parses.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("index", thread_count - 1)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(lines, line) end
  end
  return lines
end

-- Luhn check digit, as stdnum.luhn.calc_check_digit computes it.
local function luhn_digit(payload)
  local sum = 0
  local double = true
  for i = #payload, 1, -1 do
    local d = tonumber(payload:sub(i, i))
    if double then
      d = d * 2
      if d > 9 then d = d - 9 end
    end
    sum = sum + d
    double = not double
  end
  return tostring((10 - sum % 10) % 10)
end

function init(args)
  mode = args[1]
  token = args[2]
  lines = read_lines(args[3])
  run_id = tonumber(args[4] or "0")
  -- setup() ran in the main Lua state: this thread's state only knows what it was given.
  stride = tonumber(args[5] or "1")
  non2xx = 0
  statuses = {}
  counter = 0
  math.randomseed(run_id * 1000 + index + 1)
  headers = { ["Accept"] = "application/json" }
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  if mode ~= "get" then headers["Content-Type"] = "application/json" end
  if mode == "token" then
    token_body = string.format('{"email": "%s", "password": "%s"}', lines[1], lines[2])
  end
end

function request()
  if mode == "get" then
    return wrk.format("GET", lines[math.random(#lines)], headers)
  elseif mode == "create" then
    -- SIRENs of generated data start with 1-4; created ones with 5-8: 500 + run id (3 digits)
    -- + a 5-digit sequence unique to this thread, so no request of any run repeats a SIREN.
    local sequence = index + counter * stride
    counter = counter + 1
    local payload = string.format("%03d%05d", 500 + run_id, sequence % 100000)
    local siren = payload .. luhn_digit(payload)
    local body = lines[2]:gsub("__SIREN__", siren)
    return wrk.format("POST", lines[1], headers, body)
  else
    return wrk.format("POST", "/api/v1/auth/token", headers, token_body)
  end
end

function response(status, _headers, _body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
