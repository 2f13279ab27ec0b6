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
office = "DEMO"
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }
[[operator]]
name = "demo"
office = "DEMO"
token_sha256 = "9437e87fae95c03d3778f2575bb18ce30e647e51d86a8c37963364e1fc4f374e"   # the token is "demo-operator"
EOF
  "$ra" --config "$dir/ra.toml" > "$dir/ra.out" 2> "$dir/ra.log" &
  echo $! > "$dir/card-ra.pid"   # stopped with the cards by pcscd-down.sh
  for _ in $(seq 50); do grep -q listening "$dir/ra.out" 2>/dev/null && break; sleep 0.1; done
  cat "$dir/ra.out"
  echo "  registered request REQ-0001, activation code ABCD-EFGH-JKLM (ROSSI MARIO)"
  echo "  operator API token: demo-operator (office DEMO; see /openapi.json)"
  # The counter's operator: an account of office DEMO, as the console's accounts are. Its
  # first sign-in (in the console) chooses its password; the app then signs in with it.
  (umask 077; "$ra" operator add --config "$dir/ra.toml" --name sportello --office DEMO --role operator --json > "$dir/operator.json")
  secret=$(python3 -c "import json,sys; print(json.load(sys.stdin)['otpauth'].split('secret=')[1].split('&')[0])" < "$dir/operator.json")
  echo "  counter operator: sportello, one-time password $(python3 -c "import json,sys; print(json.load(sys.stdin)['password'])" < "$dir/operator.json")"
  echo "    choose a password at http://127.0.0.1:${TESSERA_RA_PORT:-8080}/console/ first; one-time codes: oathtool --totp -b $secret"
  # Two requests made through the operator API, as an operator would: the RA generates
  # their activation codes. One for a holder at home (SMS OTP to the outbox), one for the
  # counter (two certificates: CNS and signature).
  api() { curl -sf -X POST -H "Authorization: Bearer demo-operator" -H "Content-Type: application/json" \
    -d "$2" "http://127.0.0.1:${TESSERA_RA_PORT:-8080}$1"; }
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
  home=$(api /api/v1/operator/holders '{"given_name":"LUCA","surname":"BIANCHI","cf":"BNCLCU75C15F205O","mobile":"+393331234567"}' | field holder_id)
  counter=$(api /api/v1/operator/holders '{"given_name":"ANNA","surname":"VERDI","cf":"VRDNNA90E50L219L"}' | field holder_id)
  api /api/v1/operator/requests "{\"holder_id\":$home,\"profile\":\"signature\"}" > "$dir/request-home.json"
  api /api/v1/operator/requests "{\"holder_id\":$counter,\"profile\":\"cns+signature\"}" > "$dir/request-counter.json"
  echo "  at home:    activation code $(field activation_code < "$dir/request-home.json"), tax code BNCLCU75C15F205O (LUCA BIANCHI); the SMS goes to $dir/tessera-ra/outbox.log"
  echo "  at counter: activation code $(field activation_code < "$dir/request-counter.json") (ANNA VERDI, CNS + signature), signed in as sportello"
  # The app and the CLI find this RA and trust its CA through a settings file.
  mkdir -p "$dir/config"
  printf 'ra = "http://127.0.0.1:%s"\nra_ca = "%s/ra-ca.pem"\n' "${TESSERA_RA_PORT:-8080}" "$dir" > "$dir/config/settings.toml"
  echo "export TESSERA_CONFIG_DIR=$dir/config" >> "$dir/env"
  echo "export TESSERA_DATA_DIR=$dir/data" >> "$dir/env"
fi
# A blank card to activate: the virtual OpenPGP card in reader 1 (user PIN 123456, admin
# PIN 12345678), and a blank SoftHSM2 token "Carta nuova" (user PIN 123456).
if [ -x "${CARGO_TARGET_DIR:-$here/../target}/debug/tessera-virtcard" ]; then
  "$here/card-insert.sh" "$dir" 1 openpgp
fi
SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "Carta nuova" --so-pin 12345678 --pin 123456 >/dev/null
echo "test bed up in $dir: . $dir/env"
