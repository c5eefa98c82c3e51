#!/usr/bin/env bash
# `make run`: start Touchpoint on its embedded store and print where to look. On the first start
# (no database in the data directory yet) it loads a simulated month of demo traffic that ends
# now -- a pixel named "demo", a catalog, daily spend and ~600k events -- so the dashboard and
# reports have something to show at once (docs/simulator.md). SIM_USERS=N sizes it; SIM=0 skips it.
set -euo pipefail
bin=$1 data=$2 listen=$3
mkdir -p "$data"
url="http://${listen}"
if [[ ! -e "$data/touchpoint.db" && "${SIM:-1}" != "0" ]]; then
  echo
  echo "  First start: loading a simulated month of demo traffic into ${data} (once) ..."
  sim_args=(simulate --scenario demo --to-data "$data" --end now)
  [[ -n "${SIM_USERS:-}" ]] && sim_args+=(--users "$SIM_USERS")
  if ! "$bin" "${sim_args[@]}"; then
    echo "  The demo load failed; starting with an empty store (remove ${data} to try again)." >&2
  fi
fi
cat <<TXT

  Touchpoint — starting on ${url}/  (data in ${data}; Ctrl-C stops it cleanly)
  It collects events at once; reports and the dashboard show "loading" with a progress bar
  until the stored events are read into memory (a few seconds; docs/operations.md#start-up).

  Try it, in another terminal (the admin token is printed below and kept in ${data}/admin_token):
    T=\$(cat ${data}/admin_token)
    curl -s ${url}/api/v1/pixels -H "Authorization: Bearer \$T"     # the simulated "demo" pixel
    curl -s -X POST ${url}/api/v1/pixels -H "Authorization: Bearer \$T" -d '{"name":"my shop"}'
        # -> {"pixel_id": "TP...", "access_token": "..."}   (the token is shown this once: keep it)
    curl -s -X POST ${url}/open_api/v1.3/event/track/ -H "Access-Token: <access_token>" \\
      -H 'Content-Type: application/json' \\
      -d '{"event_source":"web","event_source_id":"<pixel_id>","data":[{"event":"CompletePayment",
           "event_time":'\$(date +%s)',"event_id":"order-1","properties":{"value":42,"currency":"USD"}}]}'
    curl -s "${url}/api/v1/export?pixel_id=<pixel_id>" -H "Authorization: Bearer \$T"

  More simulated traffic, through the real endpoints (docs/simulator.md):
    TOUCHPOINT_ADMIN_TOKEN=\$T ${bin} simulate --to-server ${url} --days 7 --end now --users 2000

TXT
exec "$bin" serve --data "$data" --listen "$listen"
