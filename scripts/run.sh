#!/usr/bin/env bash
# `make run`: start Touchpoint on its embedded store and print where to look.
set -euo pipefail
bin=$1 data=$2 listen=$3
mkdir -p "$data"
url="http://${listen}"
cat <<TXT

  Touchpoint — starting on ${url}/  (data in ${data}; Ctrl-C stops it cleanly)

  Try it, in another terminal (the admin token is printed below and kept in ${data}/admin_token):
    T=\$(cat ${data}/admin_token)
    curl -s -X POST ${url}/api/v1/pixels -H "Authorization: Bearer \$T" -d '{"name":"my shop"}'
        # -> {"pixel_id": "TP...", "access_token": "..."}
    curl -s -X POST ${url}/open_api/v1.3/event/track/ -H "Access-Token: <access_token>" \\
      -H 'Content-Type: application/json' \\
      -d '{"event_source":"web","event_source_id":"<pixel_id>","data":[{"event":"CompletePayment",
           "event_time":'\$(date +%s)',"event_id":"order-1","properties":{"value":42,"currency":"USD"}}]}'
    curl -s "${url}/api/v1/export?pixel_id=<pixel_id>" -H "Authorization: Bearer \$T"

TXT
exec "$bin" serve --data "$data" --listen "$listen"
