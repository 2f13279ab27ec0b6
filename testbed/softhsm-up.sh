#!/usr/bin/env bash
# Create SoftHSM2 tokens for the test bed in DIR/tokens, filled with sample certificates.
#   testbed/softhsm-up.sh DIR             the sample tokens (testbed/samples.py)
#   testbed/softhsm-up.sh DIR --bench N   N tokens x 3 certificates
#   testbed/softhsm-up.sh DIR --empty     configuration only, no token
# Clients find them with SOFTHSM2_CONF=DIR/softhsm2.conf (written to DIR/env).
set -euo pipefail
dir=${1:?usage: softhsm-up.sh DIR [--bench N|--empty]}
shift
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
  "$dir" > "$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
if [ "${1:-}" != --empty ]; then
  /usr/bin/python3 "$(dirname "$0")/samples.py" "$dir" "$@"
fi
echo "export SOFTHSM2_CONF=$SOFTHSM2_CONF" >> "$dir/env"
echo "SOFTHSM2_CONF=$SOFTHSM2_CONF"
