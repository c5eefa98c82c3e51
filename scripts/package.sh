#!/usr/bin/env bash
# Builds the Debian package: scripts/package.sh BINARY OUT_DIR  (make package)
#   /usr/bin/touchpoint, the systemd unit, /etc/touchpoint/touchpoint.conf (a conffile), the
#   `touchpoint` system user and /var/lib/touchpoint (made by postinst), docs and the licence.
# Depends: the Debian packages that hold the shared libraries the binary links to.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: scripts/package.sh BINARY OUT_DIR}
out=${2:?usage: scripts/package.sh BINARY OUT_DIR}
[[ -x $bin ]] || { echo "package: $bin: not an executable (make build first)" >&2; exit 1; }

version=$("$bin" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/bin/touchpoint"
strip --strip-unneeded "$root/usr/bin/touchpoint"
install -D -m 0644 packaging/touchpoint.service "$root/lib/systemd/system/touchpoint.service"
install -D -m 0644 packaging/touchpoint.conf "$root/etc/touchpoint/touchpoint.conf"
install -D -m 0644 README.md "$root/usr/share/doc/touchpoint/README.md"
install -D -m 0644 LICENSE "$root/usr/share/doc/touchpoint/copyright"
for f in docs/*.md; do install -D -m 0644 "$f" "$root/usr/share/doc/touchpoint/$f"; done

# The packages owning the libraries the binary loads (with the version built against).
depends=()
while read -r lib; do
  owner=$({ dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")"; } 2>/dev/null | head -n1 | cut -d: -f1)
  [[ -n $owner ]] || { echo "package: no Debian package owns $lib" >&2; exit 1; }
  ver=$(dpkg-query -W -f='${Version}' "$owner")
  depends+=("$owner (>= ${ver%%-*})")
done < <(ldd "$bin" | awk '/=> \// {print $3}')
depends_line=$(printf '%s\n' "${depends[@]}" passwd | sort -u | paste -sd, | sed 's/,/, /g')

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: touchpoint
Version: $version
Architecture: $arch
Maintainer: Touchpoint <touchpoint@localhost>
Section: web
Priority: optional
Depends: $depends_line
Installed-Size: $(du -sk "$root" | cut -f1)
Homepage: https://localhost/touchpoint
Description: self-hosted conversion tracking and attribution
 Collects pixel, Events API and ad events, de-duplicates them, stores them
 durably, and attributes conversions to ads, creatives and audiences. Runs as
 the touchpoint service (systemctl status touchpoint); settings in
 /etc/touchpoint/touchpoint.conf, data in /var/lib/touchpoint.
CONTROL
echo /etc/touchpoint/touchpoint.conf >"$root/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$root/DEBIAN/"

mkdir -p "$out"
rm -f "$out"/touchpoint_*.deb  # one package in OUT_DIR: make package-test installs it
deb="$out/touchpoint_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1))"
