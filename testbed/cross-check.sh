#!/usr/bin/env bash
# Windows, checked from Linux: the crates below the window and the desktop app itself
# type-checked and linted for x86_64-pc-windows-gnu (rustup's target, Debian's mingw-w64
# for the C in ring and the app's resources), so that a platform branch that does not
# compile there fails here. Where the target cannot be installed (no network to rustup's
# servers), it says so and checks nothing. macOS is not checked: its crates' C needs
# Apple's SDK, which no registry here carries.
#
#   testbed/cross-check.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
target=x86_64-pc-windows-gnu
# The engine, the flows, the CLI, the wire contract, the PKI, and the window.
names=(tessera-pki tessera-protocol tessera-core tessera-flows tessera-cli tessera-locales tessera-app)
crates=()
for n in "${names[@]}"; do crates+=(-p "$n"); done

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  if ! rustup target add "$target" >/dev/null 2>&1; then
    echo "testbed/cross-check.sh: the $target target cannot be installed here (rustup's servers unreachable): Windows not checked"
    exit 0
  fi
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null
fi
# A target directory of its own: the host build's artefacts are not touched.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/cross"
cargo clippy --locked --target "$target" "${crates[@]}" --lib --bins --quiet -- -D warnings
echo "testbed/cross-check.sh: ${names[*]} type-check and lint clean for $target"
