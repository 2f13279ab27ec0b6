#!/usr/bin/env bash
# Every test: install what is missing, build once (debug; the window embeds ui/dist),
# then run all crates' tests, one process per test, against the real test bed; then the
# packages from that build, installed and purged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
testbed/install.sh
testbed/tools.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build --workspace --bins --locked
# Format and lints when the toolchain has them (rustup's default profile does).
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --check; fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
fi
cargo nextest run --workspace --locked --no-fail-fast "$@"
# The whole run (no filter given, as root): the packages, made from this debug build, installed,
# run and purged (tests/e2e/installed.rs; it changes the machine, so it runs alone, last).
if [ $# -eq 0 ] && [ "$(id -u)" -eq 0 ]; then
  testbed/package.sh --debug
  cargo nextest run --workspace --locked --run-ignored only -E 'test(/^installed::/)'
elif [ $# -eq 0 ]; then
  echo "testbed/run-tests.sh: the installed-package test needs root (apt-get install): not run"
fi
# The whole run: the code as Windows builds it (testbed/cross-check.sh).
if [ $# -eq 0 ]; then
  testbed/cross-check.sh
fi
