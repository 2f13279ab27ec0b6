#!/usr/bin/env bash
# Start a private pcscd for the test bed, with two vpcd virtual readers.
#
#   testbed/pcscd-up.sh DIR PORT     readers "Virtual PCD 00 00" on PORT and "00 01" on PORT+1
#   testbed/pcscd-up.sh DIR none     a pcscd with no reader at all
#
# The daemon runs in its own mount namespace with /run/pcscd bound to DIR/run, so it never
# touches a system pcscd; clients reach it with PCSCLITE_CSOCK_NAME=DIR/run/pcscd.comm
# (written to DIR/env). Stop it with testbed/pcscd-down.sh DIR.
set -euo pipefail
dir=${1:?usage: pcscd-up.sh DIR PORT|none}
port=${2:?usage: pcscd-up.sh DIR PORT|none}
mkdir -p "$dir/run" "$dir/reader.conf.d" /run/pcscd
dir=$(cd "$dir" && pwd)
rm -f "$dir/reader.conf.d/"* "$dir/run/"*
if [ "$port" != none ]; then
  printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x%X\n' \
    "$port" "$port" > "$dir/reader.conf.d/vpcd"
  echo "$port" > "$dir/port"
fi
unshare --mount sh -c "mount --bind '$dir/run' /run/pcscd && exec pcscd --foreground --info -c '$dir/reader.conf.d'" \
  > "$dir/pcscd.log" 2>&1 &
echo $! > "$dir/pcscd.pid"
for _ in $(seq 100); do
  [ -S "$dir/run/pcscd.comm" ] && break
  kill -0 "$(cat "$dir/pcscd.pid")" 2>/dev/null || { cat "$dir/pcscd.log" >&2; echo "pcscd did not start" >&2; exit 1; }
  sleep 0.05
done
[ -S "$dir/run/pcscd.comm" ] || { echo "pcscd socket did not appear" >&2; exit 1; }
if [ "$port" != none ]; then
  # vpcd opens its listening sockets when pcscd loads the driver: wait for them.
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
fi
# OpenSC over vpcd: use extended APDUs (drivers/openpgp-card.toml, quirk extended-apdus).
printf 'app default {\n  reader_driver pcsc {\n    max_send_size = 65535;\n    max_recv_size = 65536;\n  }\n}\n' > "$dir/opensc.conf"
echo "export PCSCLITE_CSOCK_NAME=$dir/run/pcscd.comm" >> "$dir/env"
echo "export OPENSC_CONF=$dir/opensc.conf" >> "$dir/env"
echo "PCSCLITE_CSOCK_NAME=$dir/run/pcscd.comm"
