#!/usr/bin/env bash
# Insert a virtual card into reader N (0 or 1) of the pcscd started in DIR.
#   testbed/card-insert.sh DIR N [ATR-hex]
# The card is vsmartcard's ISO 7816 card (testbed/card.py) answering with the given ATR.
set -euo pipefail
dir=${1:?usage: card-insert.sh DIR N [ATR]}
reader=${2:?usage: card-insert.sh DIR N [ATR]}
atr=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
port=$(( $(cat "$dir/port") + reader ))
args=(--port "$port")
[ -n "$atr" ] && args+=(--atr "$atr")
"$here/card.py" "${args[@]}" >> "$dir/card-$reader.log" 2>&1 &
echo $! > "$dir/card-$reader.pid"
