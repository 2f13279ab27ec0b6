#!/usr/bin/env bash
# Pull the virtual card out of reader N of the pcscd started in DIR.
set -uo pipefail
dir=${1:?usage: card-remove.sh DIR N}
reader=${2:?usage: card-remove.sh DIR N}
pidfile="$dir/card-$reader.pid"
[ -f "$pidfile" ] || exit 0
kill "$(cat "$pidfile")" 2>/dev/null
rm -f "$pidfile"
