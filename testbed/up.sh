#!/usr/bin/env bash
# The demo test bed in DIR: a private pcscd with two virtual readers, a CNS card
# (InfoCamere ATR) in reader 0, the SoftHSM2 sample tokens, and the reference RA
# (tessera-ra, one registered request) on 127.0.0.1. `. DIR/env` to use it.
#   insert / remove more cards:  testbed/card-insert.sh DIR 1 [ATR]   testbed/card-remove.sh DIR 1
#   stop everything:             testbed/down.sh DIR
set -euo pipefail
dir=${1:?usage: up.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
rm -f "$dir/env"
port=${TESSERA_VPCD_PORT:-35963}
"$here/pcscd-up.sh" "$dir" "$port" >/dev/null
"$here/softhsm-up.sh" "$dir" >/dev/null
"$here/card-insert.sh" "$dir" 0 "3B FF 18 00 FF 81 31 FE 55 00 6B 02 09 02 00 01 01 01 43 4E 53 10 31 80 9F"
ra="${CARGO_TARGET_DIR:-$here/../target}/debug/tessera-ra"
if [ -x "$ra" ]; then
  cat > "$dir/ra.toml" <<EOF
listen = "127.0.0.1:${TESSERA_RA_PORT:-8080}"
ca_certificate = "$dir/ra-ca.pem"
[[request]]
reference = "REQ-0001"
activation_code = "ABCD-EFGH-JKLM"
profile = "signature"
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }
[[operator]]
name = "demo"
token_sha256 = "9437e87fae95c03d3778f2575bb18ce30e647e51d86a8c37963364e1fc4f374e"   # the token is "demo-operator"
EOF
  "$ra" --config "$dir/ra.toml" > "$dir/ra.out" 2> "$dir/ra.log" &
  echo $! > "$dir/card-ra.pid"   # stopped with the cards by pcscd-down.sh
  for _ in $(seq 50); do grep -q listening "$dir/ra.out" 2>/dev/null && break; sleep 0.1; done
  cat "$dir/ra.out"
  echo "  registered request REQ-0001, activation code ABCD-EFGH-JKLM (ROSSI MARIO)"
  echo "  operator API token: demo-operator (see /openapi.json)"
fi
echo "test bed up in $dir: . $dir/env"
