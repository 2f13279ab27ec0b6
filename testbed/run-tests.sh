#!/usr/bin/env bash
# Every test: install what is missing, build once (debug; the window embeds ui/dist),
# then run all crates' tests, one process per test, against the real test bed.
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
