#!/usr/bin/env python3
# Start-up times of `touchpoint serve` on a data directory (docs/operations.md#start-up): from the
# process start to its port file (listening), to the first accepted event (a pixel GIF answered
# 200; retried every 5 ms) and to the first answered report (GET /api/v1/report answered 200;
# retried every 50 ms). Stops the server after. Each run adds one PageView to the store.
#
#   bench/serve_startup.py BINARY DATA_DIR [RUNS]
#
# A store to try it on: touchpoint simulate --users 60000 --to-data DIR --end now (~3.4 M events).
import json, os, subprocess, sys, tempfile, time, urllib.error, urllib.request

def get(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()

def run(binary, data):
    admin = "serve-startup-bench"
    port_file = os.path.join(tempfile.mkdtemp(), "port")
    log = open(os.path.join(os.path.dirname(port_file), "serve.log"), "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:0",
                             "--port-file", port_file, "--admin-token", admin],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        while not os.path.exists(port_file):
            if proc.poll() is not None:
                sys.exit("touchpoint exited; see " + log.name)
            time.sleep(0.002)
        t_listen = time.monotonic() - t0
        base = "http://127.0.0.1:%s" % open(port_file).read().strip()
        pixels = json.loads(get(base + "/api/v1/pixels", admin)[1])
        pixels = pixels.get("pixels", pixels) if isinstance(pixels, dict) else pixels
        if not pixels:
            sys.exit("the store has no pixel (simulate one in)")
        gif = "%s/api/v1/pixel.gif?pixel_id=%s&event=PageView&ttp=bench%d" % (
            base, pixels[0]["pixel_id"], time.time_ns())
        while get(gif)[0] != 200:
            time.sleep(0.005)
        t_event = time.monotonic() - t0
        while get(base + "/api/v1/report?metrics=impressions", admin)[0] != 200:
            time.sleep(0.05)
        t_report = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait()
    opened = next((l.split("opened the data directory in ")[1].strip() for l in open(log.name)
                   if "opened the data directory in" in l), "n/a")
    print("listening %.3f s, first accepted event %.3f s, first answered report %.3f s "
          "(data directory opened in %s)" % (t_listen, t_event, t_report, opened))

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__ or "usage: bench/serve_startup.py BINARY DATA_DIR [RUNS]")
    for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 1):
        run(sys.argv[1], sys.argv[2])
