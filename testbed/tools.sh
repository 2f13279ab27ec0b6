#!/usr/bin/env bash
# Build-time tools from the registries: the UI's npm packages (from package-lock.json),
# tauri-driver 2.x for the GUI tests, cargo-nextest for the test runner, pkilint (PyPI)
# in a virtual environment for the certificate lint test. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/ui"
# `npm ci`: exactly package-lock.json (which lists every platform's optional rollup and
# esbuild packages), never rewriting it; skipped when node_modules already matches it.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
# axe-core for the console's accessibility checks (test only), from its package-lock.json.
cd "$root/tests/console"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked --quiet
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked --quiet
# pkilint, pinned, outside the tree (the RA's lint test finds it there or in PKILINT_DIR).
pkilint="${PKILINT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera/pkilint}"
if [ ! -x "$pkilint/bin/lint_etsi_cert" ]; then
  python3 -m venv "$pkilint"
  "$pkilint/bin/pip" install --quiet --disable-pip-version-check pkilint==0.13.3
fi
