#!/usr/bin/env bash
# Build the release CLI and run the benchmarks; results are printed as Markdown.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
testbed/install.sh
cargo build --release --locked -p tessera-cli -p tessera-ra -p cmp-load
cargo build --locked -p tessera-virtcard
python3 bench/devices.py
python3 bench/primitives.py
python3 bench/ra.py
python3 bench/activation.py
python3 bench/batch.py
python3 bench/renewal.py
