#!/usr/bin/env bash
# Install the Debian packages Tessera's test bed, build and GUI tests need (idempotent:
# only what is missing is installed). Uses sudo when not root.
set -euo pipefail
packages=(
  # PC/SC and PKCS#11: pcscd with vpcd virtual readers, vsmartcard's virtual cards,
  # SoftHSM2, OpenSC, pcsc-tools (smartcard_list.txt, pcsc_scan)
  pcscd libpcsclite-dev pcsc-tools vsmartcard-vpcd vsmartcard-vpicc
  python3-virtualsmartcard python3-pycryptodome python3-cryptography
  softhsm2 opensc openssl
  # tessera-virtcard: littlefs2-sys runs bindgen
  libclang-dev
  # Tauri 2 on Linux (webkit2gtk-driver in the same command: versions must match)
  libwebkit2gtk-4.1-dev build-essential pkg-config librsvg2-dev libsoup-3.0-dev webkit2gtk-driver
  # GUI tests, screenshots and benchmarks
  xvfb xauth imagemagick util-linux curl
  # desktop notifications: a private session bus and a real notification server
  dbus dunst
  # tessera-ra on PostgreSQL (tests start a private server)
  postgresql
  # pkilint (PyPI) runs in a virtual environment (testbed/tools.sh)
  python3-venv
  # bench/: the manual pipeline Tessera is compared with (openssl req -engine pkcs11)
  libengine-pkcs11-openssl
  # the RA's console: a real browser over WebDriver, an independent TOTP generator, the
  # PDFs' text and pages
  chromium chromium-driver oathtool poppler-utils
  # packages: checked (lintian, desktop-file-validate, rpm) and installed units verified
  lintian desktop-file-utils rpm
  # links into the window: the desktop entry registered for tessera:// and opened
  xdg-utils
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "testbed/install.sh: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "testbed/install.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
