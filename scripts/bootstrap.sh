#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and run Touchpoint.
# A no-op when everything is there. Usage: scripts/bootstrap.sh [--bench]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev libsimdjson-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev               # the server's allocator (docs/dependencies.md)
  libzstd-dev libxxhash-dev     # sealed segments: compression, checksums
  clang libclang-rt-14-dev      # libFuzzer + sanitizers for the fuzz targets
  chromium                      # browser tests (driven by playwright-core from npm)
  curl ca-certificates openssl  # openssl: test certificates (tls_test)
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(wrk nginx-light clickhouse-server sqlite3)
fi
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Front-end and browser-test packages from npm (playwright-core drives Debian's chromium).
if [[ -f web/package.json ]]; then
  if [[ ! -d web/node_modules ]] || [[ web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    echo "bootstrap: npm ci in web/"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The dashboard bundle: web/src -> web/public/app.{js,css} (committed, so a machine without Node
  # still builds it in; this only matters after web/src changed).
  if [[ -d web/node_modules/esbuild ]] && [[ -n "$(find web/src web/build.mjs -newer web/public/app.js 2>/dev/null | head -1)" ]]; then
    echo "bootstrap: building the dashboard (web/src -> web/public)"
    (cd web && npm run --silent build)
  fi
fi
