#!/usr/bin/env bash
# The demo test bed in DIR: a private pcscd with two virtual readers, a CNS card
# (InfoCamere ATR) in reader 0, and the SoftHSM2 sample tokens. `. DIR/env` to use it.
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
echo "test bed up in $dir: . $dir/env"
