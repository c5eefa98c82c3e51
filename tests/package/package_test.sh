#!/usr/bin/env bash
# The Debian package, installed on this machine: tests/package/package_test.sh DEB
#   installs it (dpkg -i), checks the user, the files and their modes, starts the service and
#   reads /healthz, reloads it with SIGHUP (ExecReload), stops it with SIGTERM (a clean drain),
#   then purges the package and checks what is left. Needs root (it installs a package).
# Where systemd runs (PID 1), the service is started with systemctl; elsewhere (containers, CI)
# the unit's ExecStart is run as its User with its EnvironmentFile, as systemd would.
set -euo pipefail
deb=${1:?usage: package_test.sh DEB}
[[ $(id -u) == 0 ]] || { echo "package_test: needs root (installs a package)" >&2; exit 1; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

if dpkg -s touchpoint >/dev/null 2>&1; then fail "touchpoint is already installed here"; fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
kept_data=0; [[ -d /var/lib/touchpoint ]] && kept_data=1
pid=
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
  dpkg --purge touchpoint >/dev/null 2>&1 || true
  [[ $kept_data == 1 ]] || rm -rf /var/lib/touchpoint
}
trap cleanup EXIT

dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
ok "installed $(dpkg-query -W -f='${Package} ${Version}' touchpoint)"
getent passwd touchpoint | grep -q ':/var/lib/touchpoint:/usr/sbin/nologin$' ||
  fail "no touchpoint system user: $(getent passwd touchpoint)"
uid=$(id -u touchpoint)
(( uid < 1000 )) || fail "touchpoint user is not a system user (uid $uid)"
ok "system user touchpoint (uid $uid)"
[[ -x /usr/bin/touchpoint ]] || fail "/usr/bin/touchpoint missing"
[[ $(stat -c '%U %a' /var/lib/touchpoint) == "touchpoint 700" ]] ||
  fail "/var/lib/touchpoint: $(stat -c '%U %a' /var/lib/touchpoint)"
grep -qx /etc/touchpoint/touchpoint.conf /var/lib/dpkg/info/touchpoint.conffiles ||
  fail "touchpoint.conf is not a conffile"
unit=/lib/systemd/system/touchpoint.service
[[ -f $unit ]] || fail "$unit missing"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" 2>&1 | grep -v -e '^$' -e 'Failed to .* connect to bus' |
    grep -i -e error -e 'unknown' && fail "systemd-analyze verify $unit" || true
fi
ok "files: binary, unit, conffile, data directory (owner-only)"

sed -i "s|^TOUCHPOINT_LISTEN=.*|TOUCHPOINT_LISTEN=127.0.0.1:$port|" /etc/touchpoint/touchpoint.conf
log=$(mktemp)
if [[ -d /run/systemd/system ]]; then
  systemctl restart touchpoint
  how="systemctl"
else
  # As systemd would: the EnvironmentFile's variables, ExecStart's ${VAR} and $VAR expanded,
  # as User=, with UMask=.
  user=$(sed -n 's/^User=//p' "$unit")
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  set -a; . /etc/touchpoint/touchpoint.conf; set +a
  cmd=$(eval "echo $exec_start")
  (umask 0077; exec setpriv --reuid="$user" --regid="$user" --init-groups $cmd) >"$log" 2>&1 &
  pid=$!
  how="ExecStart as $user (no systemd here)"
fi
for _ in $(seq 1 300); do
  health=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
  sleep 0.1
done
[[ -n ${health:-} ]] || { cat "$log"; fail "no answer on /healthz"; }
echo "$health" | grep -q '"status"' || fail "/healthz: $health"
ok "service started ($how) and answered /healthz: $health"
[[ $(stat -c '%U %a' /var/lib/touchpoint/admin_token) == "touchpoint 600" ]] ||
  fail "admin_token: $(stat -c '%U %a' /var/lib/touchpoint/admin_token)"
token=$(cat /var/lib/touchpoint/admin_token)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$port/api/v1/pixels")
[[ $code == 200 ]] || fail "GET /api/v1/pixels with the generated admin token: HTTP $code"
ok "the generated admin token (owner-only, in /var/lib/touchpoint) works"

if [[ -n $pid ]]; then
  kill -HUP "$pid"  # ExecReload
  sleep 0.3
  kill -0 "$pid" || fail "SIGHUP stopped the service"
  grep -q "received SIGHUP" "$log" || fail "SIGHUP not logged: $(cat "$log")"
  kill -TERM "$pid"
  wait "$pid" || fail "the service did not stop cleanly on SIGTERM: $(cat "$log")"
  pid=
  grep -q "stopped cleanly" "$log" || fail "no clean stop: $(cat "$log")"
else
  systemctl reload touchpoint
  systemctl stop touchpoint
fi
ok "reloaded (SIGHUP) and stopped (SIGTERM) cleanly"

dpkg --purge touchpoint >/dev/null || fail "dpkg --purge"
[[ ! -e /usr/bin/touchpoint && ! -e $unit && ! -e /etc/touchpoint/touchpoint.conf ]] ||
  fail "files left after purge"
getent passwd touchpoint >/dev/null && fail "the touchpoint user is left after purge"
ok "purged: binary, unit, configuration and user gone (the data directory is kept)"
echo "package_test: all passed"
