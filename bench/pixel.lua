-- wrk script for the pixel GET load (the URL, with its query, is given on wrk's command line).
-- Used unchanged against Touchpoint's /api/v1/pixel.gif and nginx's empty_gif, so that both see
-- byte-identical requests.
wrk.headers["User-Agent"] =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
wrk.headers["Referer"] = "https://shop.example/"
wrk.headers["Accept"] = "image/avif,image/webp,image/png,image/*;q=0.8,*/*;q=0.5"

dofile((os.getenv("TP_BENCH_LUA_DIR") or "bench") .. "/wrk_report.lua")
