-- wrk script: POST TikTok Events API 2.0 batches to /open_api/v1.3/event/track/.
--   wrk ... -s bench/events_api.lua URL -- PIXEL_ID ACCESS_TOKEN [EVENTS_PER_BATCH=50]
-- Each event is a CompletePayment with a ttp cookie, a sha256 email, value/currency/contents and
-- a page URL; no event_id or order_id, so nothing is de-duplicated and every event is stored.
-- event_time is "now": the body is rebuilt when the second changes (not per request, so that
-- wrk itself stays cheap: it shares the CPUs with the server).

local pixel_id, token, batch
local path = "/open_api/v1.3/event/track/"
local cached_sec, cached_req
local emails = {}

function init(args)
  pixel_id = assert(args[1], "usage: -- PIXEL_ID ACCESS_TOKEN [EVENTS_PER_BATCH]")
  token = assert(args[2], "usage: -- PIXEL_ID ACCESS_TOKEN [EVENTS_PER_BATCH]")
  batch = tonumber(args[3] or "50")
  path = wrk.path
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  for i = 1, batch do
    local hex = {}
    for j = 1, 64 do
      local d = math.random(0, 15)
      hex[j] = string.sub("0123456789abcdef", d + 1, d + 1)
    end
    emails[i] = table.concat(hex)
  end
end

local function body(now)
  local parts = {}
  for i = 1, batch do
    parts[i] = string.format(
      '{"event":"CompletePayment","event_time":%d,' ..
      '"user":{"ttp":"c%d.%d","email":"%s"},' ..
      '"properties":{"value":12.5,"currency":"USD",' ..
      '"contents":[{"content_id":"sku%d","price":12.5,"quantity":1}]},' ..
      '"page":{"url":"https://shop.example/checkout"}}',
      now, now, i, emails[i], i)
  end
  return '{"event_source":"web","event_source_id":"' .. pixel_id .. '","data":[' ..
         table.concat(parts, ",") .. ']}'
end

function request()
  local now = os.time()
  if now ~= cached_sec then
    cached_sec = now
    cached_req = wrk.format("POST", path, {
      ["Content-Type"] = "application/json",
      ["Access-Token"] = token,
      ["User-Agent"] = "touchpoint-http-bench",
    }, body(now))
  end
  return cached_req
end

dofile((os.getenv("TP_BENCH_LUA_DIR") or "bench") .. "/wrk_report.lua")
