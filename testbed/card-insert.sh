#!/usr/bin/env bash
# Insert a virtual card into reader N (0 or 1) of the pcscd started in DIR.
#   testbed/card-insert.sh DIR N [ATR-hex]   vsmartcard's ISO 7816 card (testbed/card.py)
#                                             answering with the given ATR: detection only
#   testbed/card-insert.sh DIR N openpgp     an OpenPGP card (tessera-virtcard: Nitrokey's
#                                             opcard), its keys and PINs kept in DIR/card-N.state
#                                             across removals (user PIN 123456, admin 12345678)
set -euo pipefail
dir=${1:?usage: card-insert.sh DIR N [ATR]}
reader=${2:?usage: card-insert.sh DIR N [ATR]}
atr=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
port=$(( $(cat "$dir/port") + reader ))
if [ "$atr" = openpgp ]; then
  bin="${CARGO_TARGET_DIR:-$here/../target}/debug/tessera-virtcard"
  [ -x "$bin" ] || { echo "$bin missing: cargo build -p tessera-virtcard" >&2; exit 1; }
  "$bin" --port "$port" --state "$dir/card-$reader.state" >> "$dir/card-$reader.log" 2>&1 &
else
  args=(--port "$port")
  [ -n "$atr" ] && args+=(--atr "$atr")
  "$here/card.py" "${args[@]}" >> "$dir/card-$reader.log" 2>&1 &
fi
echo $! > "$dir/card-$reader.pid"
