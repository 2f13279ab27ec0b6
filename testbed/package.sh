#!/usr/bin/env bash
# Packages: the desktop app with the `tessera` command as .deb and .rpm (the Tauri
# bundler), and tessera-ra as a .deb with its systemd unit (dpkg-deb). Written to
# target/packages/, then checked with lintian and desktop-file-validate where installed.
#
#   testbed/package.sh           release build (what is shipped)
#   testbed/package.sh --debug   from the debug build the tests use (CI: no second build).
#                                Strips target/debug/tessera-app and target/debug/tessera
#                                in place (packages carry stripped binaries).
set -euo pipefail
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=release
debug_flag=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  debug_flag=(--debug)
elif [ $# -gt 0 ]; then
  echo "usage: testbed/package.sh [--debug]" >&2
  exit 2
fi
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/packages"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture)
rm -rf "$out"
mkdir -p "$out"

# The Tauri bundler (npm, from ui/package-lock.json); in release also the UI the window
# embeds, built before the app (a debug build already embeds the tests' UI).
(cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
[ "$profile" = release ] && (cd ui && npm run build --silent)

# One build: in debug exactly the tests' (--workspace: the same feature set, so nothing is
# rebuilt), in release the three shipped binaries; then the bundler packages what was built.
if [ "$profile" = release ]; then
  cargo build --release --locked -p tessera-app -p tessera-cli -p tessera-ra
else
  cargo build --workspace --bins --locked
fi

# Shared-library dependencies as Debian computes them (dpkg-shlibdeps reads a
# debian/control; the Tauri bundler adds only WebKitGTK's and GTK's).
shlibdeps() {
  local dir="$target/package-stage/shlibs"
  mkdir -p "$dir/debian"
  printf 'Source: tessera\n\nPackage: tessera\nArchitecture: any\n' > "$dir/debian/control"
  local deps
  deps=$(cd "$dir" && dpkg-shlibdeps -O "$@" | sed -n 's/^shlibs:Depends=//p')
  [ -n "$deps" ] || { echo "testbed/package.sh: dpkg-shlibdeps found no dependency for $*" >&2; exit 1; }
  echo "$deps"
}
stage_root="$target/package-stage"
rm -rf "$stage_root" "$target/$profile/bundle"
mkdir -p "$stage_root"
gzip -9n < packaging/tessera/changelog > "$stage_root/tessera-changelog.gz"

# The app: stripped before it is packaged, with the CLI of the same profile, its changelog
# and its shared libraries' packages (a JSON merge replaces lists: the config's own
# dependencies are repeated).
app_deps=$(shlibdeps "$target/$profile/tessera-app" "$target/$profile/tessera")
overlay=$(python3 - "$target/$profile" "$stage_root/tessera-changelog.gz" "$app_deps" <<'EOF'
import json, sys
bins, changelog, shlibs = sys.argv[1:4]
conf = json.load(open("src-tauri/tauri.conf.json"))
depends = conf["bundle"]["linux"]["deb"]["depends"] + [d.strip() for d in shlibs.split(",")]
print(json.dumps({
    "build": {"beforeBundleCommand": {
        "script": f"strip --strip-unneeded {bins}/tessera-app {bins}/tessera", "cwd": "."}},
    "bundle": {"linux": {
        "deb": {"depends": depends, "files": {
            "/usr/bin/tessera": f"{bins}/tessera", "/usr/share/doc/tessera/changelog.gz": changelog}},
        "rpm": {"files": {"/usr/bin/tessera": f"{bins}/tessera"}},
    }},
}))
EOF
)
ui/node_modules/.bin/tauri bundle "${debug_flag[@]}" --ci --bundles deb,rpm --config "$overlay"
# The bundler names the files after the product ("Tessera"); the packages are "tessera".
cp "$target/$profile"/bundle/deb/*.deb "$out/tessera_${version}_${arch}.deb"
cp "$target/$profile"/bundle/rpm/*.rpm "$out/tessera-${version}-1.$(uname -m).rpm"

# tessera-ra: a system user, /etc/tessera-ra/ra.toml (0640), /var/lib/tessera-ra (0700),
# a hardened systemd unit.
stage="$stage_root/tessera-ra"
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/tessera-ra" \
  "$stage/usr/share/doc/tessera-ra"
strip --strip-unneeded -o "$stage/usr/bin/tessera-ra" "$target/$profile/tessera-ra"
chmod 0755 "$stage/usr/bin/tessera-ra"
install -m 0644 packaging/tessera-ra/tessera-ra.service "$stage/lib/systemd/system/"
install -m 0640 packaging/tessera-ra/ra.toml "$stage/etc/tessera-ra/ra.toml"
install -m 0644 packaging/copyright "$stage/usr/share/doc/tessera-ra/copyright"
install -m 0644 docs/ra.md "$stage/usr/share/doc/tessera-ra/README.md"
gzip -9n < packaging/tessera-ra/changelog > "$stage/usr/share/doc/tessera-ra/changelog.gz"
chmod 0644 "$stage/usr/share/doc/tessera-ra/changelog.gz"
install -m 0755 packaging/tessera-ra/postinst packaging/tessera-ra/prerm packaging/tessera-ra/postrm "$stage/DEBIAN/"
echo /etc/tessera-ra/ra.toml > "$stage/DEBIAN/conffiles"
shlibs=$(shlibdeps "$stage/usr/bin/tessera-ra")
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: tessera-ra
Version: $version
Architecture: $arch
Maintainer: Tessera developers <dev@tessera.invalid>
Installed-Size: $size
Depends: $shlibs, adduser
Suggests: postgresql, softhsm2
Section: net
Priority: optional
Description: Tessera registration authority and certification authority
 The reference RA/CA of Tessera: Lightweight CMP (RFC 9483) enrollment for the
 desktop app and the tessera command, the registration office's console in the
 browser, CRL and OCSP, on SQLite or PostgreSQL. Runs as the tessera-ra system
 user under a hardened systemd unit.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/tessera-ra_${version}_${arch}.deb" >/dev/null

echo "testbed/package.sh: $profile packages in $out:"
ls -l "$out"
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$out"/*.deb || true
fi
if command -v desktop-file-validate >/dev/null; then
  tmp=$(mktemp -d)
  dpkg-deb -x "$out"/tessera_*.deb "$tmp"
  desktop-file-validate "$tmp"/usr/share/applications/*.desktop && echo "desktop-file-validate: clean"
  rm -rf "$tmp"
fi
