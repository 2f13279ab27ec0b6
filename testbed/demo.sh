#!/usr/bin/env bash
# Tessera on the built-in test bed: installs what is missing, builds, starts the test bed
# (pcscd + virtual readers + a virtual CNS card + SoftHSM2 tokens + the reference RA) and
# opens the window.
# Without a display it runs under Xvfb and saves a screenshot.
#   testbed/demo.sh                 open the window (Ctrl-C ends the demo)
#   testbed/demo.sh --screenshot F  save a screenshot of the window to F and stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shot=""
[ "${1:-}" = --screenshot ] && shot=$(realpath -m "${2:?--screenshot FILE}")
testbed/install.sh
testbed/tools.sh
cargo build --locked -p tessera-cli -p tessera-app -p tessera-ra -p tessera-virtcard
dir=$(mktemp -d /tmp/tessera-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  testbed/down.sh "$dir"
}
trap cleanup EXIT
testbed/up.sh "$dir"
# shellcheck disable=SC1091
. "$dir/env"
export TESSERA_MODULES=/usr/lib/softhsm/libsofthsm2.so
target/debug/tessera devices || true
if [ -z "${DISPLAY:-}" ] || [ -n "$shot" ]; then
  Xvfb :77 -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
  pids+=($!)
  export DISPLAY=:77
  sleep 1
  [ -n "$shot" ] || shot="$dir/tessera.png"
fi
echo
echo "New activation: in the window (Nuova attivazione), or: . $dir/env; target/debug/tessera activate"
echo "Insert a card:  testbed/card-insert.sh $dir 1 '3B 8A 80 01 54 45 53 53 45 52 41 2D 54 31 04'"
echo "Remove it:      testbed/card-remove.sh $dir 1"
target/debug/tessera-app &
app=$!
pids+=("$app")
if [ -n "$shot" ]; then
  sleep 5
  import -window root -crop 1024x740+0+0 "$shot"
  echo "screenshot: $shot"
  [ "${1:-}" = --screenshot ] && exit 0
fi
wait "$app"
