#!/usr/bin/env bash
# Insert a virtual card into reader N (0 or 1) of the pcscd started in DIR.
#   testbed/card-insert.sh DIR N [ATR-hex]   vsmartcard's ISO 7816 card (testbed/card.py)
#                                             answering with the given ATR: detection only
#   testbed/card-insert.sh DIR N openpgp     an OpenPGP card (tessera-virtcard: Nitrokey's
#                                             opcard; user PIN 123456, admin PIN 12345678)
#   testbed/card-insert.sh DIR N piv         a PIV card (Nitrokey's piv-authenticator; PIN
#                                             123456, 3DES management key 0102..08 x3)
#                                             Either keeps its keys and PINs in DIR/card-N.state
#                                             across removals.
set -euo pipefail
dir=${1:?usage: card-insert.sh DIR N [ATR]}
reader=${2:?usage: card-insert.sh DIR N [ATR]}
atr=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
port=$(( $(cat "$dir/port") + reader ))
if [ "$atr" = openpgp ] || [ "$atr" = piv ]; then
  bin="${CARGO_TARGET_DIR:-$here/../target}/debug/tessera-virtcard"
  [ -x "$bin" ] || { echo "$bin missing: cargo build -p tessera-virtcard" >&2; exit 1; }
  "$bin" --app "$atr" --port "$port" --state "$dir/card-$reader.state" >> "$dir/card-$reader.log" 2>&1 &
else
  args=(--port "$port")
  [ -n "$atr" ] && args+=(--atr "$atr")
  "$here/card.py" "${args[@]}" >> "$dir/card-$reader.log" 2>&1 &
fi
echo $! > "$dir/card-$reader.pid"
