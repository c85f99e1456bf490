-- One kind of flood for wrk (random HTTP methods, which wrk will not send, are bench/abuse.py's
-- own), from one client address (X-Forwarded-For through the trusted
-- proxy on 127.0.0.1). FLOOD picks the kind; FLOOD_IP the address; FLOOD_AUTH an attacker's
-- own valid `tma …` credentials; FLOOD_IMAGES image paths separated by spaces.
local mode = os.getenv("FLOOD") or "search"
local ip = os.getenv("FLOOD_IP") or "198.51.100.1"
local auth = os.getenv("FLOOD_AUTH") or ""
local images = {}
for path in string.gmatch(os.getenv("FLOOD_IMAGES") or "", "%S+") do
  images[#images + 1] = path
end
-- Percent-encoded: куртка, кроссовки, рюкзак, шапка, платье, jacket, курткп (a typo), ботинки.
local words = { "%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%B0", "%D0%BA%D1%80%D0%BE%D1%81%D1%81%D0%BE%D0%B2%D0%BA%D0%B8",
  "%D1%80%D1%8E%D0%BA%D0%B7%D0%B0%D0%BA", "%D1%88%D0%B0%D0%BF%D0%BA%D0%B0", "%D0%BF%D0%BB%D0%B0%D1%82%D1%8C%D0%B5",
  "jacket", "%D0%BA%D1%83%D1%80%D1%82%D0%BA%D0%BF", "%D0%B1%D0%BE%D1%82%D0%B8%D0%BD%D0%BA%D0%B8" }
local sizes = { "160x160.jpg", "320x320.jpg", "640x640.webp", "1080x1080.jpg" }
local n = 0
local order = '{"contact":{"name":"Флуд","phone":"+79990000000"},"delivery":{"method":"pickup",'
  .. '"pickup_point":"Москва, ул. Примерная, 1 (10:00–21:00)"},"payment_method":"on_receipt"}'

request = function()
  n = n + 1
  local h = { ["X-Forwarded-For"] = ip }
  if mode == "sign_in" then
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/v1/auth", h, '{"init_data":"' .. auth:sub(5) .. '"}')
  elseif mode == "forged_sign_in" then
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/v1/auth", h,
      '{"init_data":"user=%7B%22id%22%3A' .. n .. '%7D&auth_date=1&hash=' .. string.rep("0", 64) .. '"}')
  elseif mode == "search" then
    return wrk.format("GET", "/api/v1/products?q=" .. words[n % #words + 1] .. (n % 97) .. "&limit=20", h)
  elseif mode == "checkout" then
    h["Authorization"] = auth
    h["Content-Type"] = "application/json"
    h["Idempotency-Key"] = "flood-" .. ip .. "-" .. n .. "-" .. math.random(1000000000)
    return wrk.format("POST", "/api/v1/orders", h, order)
  elseif mode == "images" then
    local path = images[n % #images + 1]:gsub("%d+x%d+%.%a+$", sizes[n % #sizes + 1])
    return wrk.format("GET", path, h)
  elseif mode == "checkauth" then
    -- 1c:guess, a wrong password every time.
    h["Authorization"] = "Basic MWM6Z3Vlc3M="
    return wrk.format("GET", "/1c/exchange?type=catalog&mode=checkauth", h)
  end
end

ok, limited, refused, other, failed = 0, 0, 0, 0, 0
response = function(status)
  if status < 300 then ok = ok + 1
  elseif status == 429 then limited = limited + 1
  elseif status >= 500 then failed = failed + 1
  elseif status == 401 or status == 409 or status == 404 or status == 405 then refused = refused + 1
  else other = other + 1 end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary)
  local t = { ok = 0, limited = 0, refused = 0, other = 0, failed = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  io.write(string.format(
    '{"flood":"%s","requests":%d,"seconds":%.1f,"ok":%d,"limited":%d,"refused":%d,"other":%d,"server_errors":%d,"socket_errors":%d}\n',
    mode, summary.requests, summary.duration / 1e6, t.ok, t.limited, t.refused, t.other, t.failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
