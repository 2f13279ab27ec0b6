#!/usr/bin/env bash
# Stop what testbed/pcscd-up.sh and testbed/card-insert.sh started in DIR.
set -uo pipefail
dir=${1:?usage: pcscd-down.sh DIR}
for pidfile in "$dir"/card-*.pid "$dir/pcscd.pid"; do
  [ -f "$pidfile" ] || continue
  kill "$(cat "$pidfile")" 2>/dev/null
  rm -f "$pidfile"
done
exit 0
