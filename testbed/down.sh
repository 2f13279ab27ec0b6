#!/usr/bin/env bash
# Stop the test bed started by testbed/up.sh DIR.
exec "$(dirname "$0")/pcscd-down.sh" "${1:?usage: down.sh DIR}"
