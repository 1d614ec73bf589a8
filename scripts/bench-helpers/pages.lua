-- wrk script of scripts/bench: cycles through the page paths in $BENCH_PAGES (one per line),
-- each request with the bearer token in $BENCH_TOKEN. Each thread starts at another page.
local paths = {}
for line in io.lines(os.getenv("BENCH_PAGES")) do paths[#paths + 1] = line end
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"), ["Accept"] = "application/json" }
local i = 0
local started = 0

setup = function(thread)
  thread:set("first", started)
  started = started + 1
end

init = function(args)
  i = (first or 0) * 7
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
