#!/usr/bin/env bash
# The demo page in headless Chromium: `bash browser-tests/run.sh`.
# Needs Debian's chromium (/usr/bin/chromium) and Node 20 or later; installs
# playwright-core from the lock file, builds the reference server and runs
# the tests with Node's own test runner. Arguments go to `node --test`.
set -euo pipefail
cd "$(dirname "$0")"

if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
    echo "browser-tests: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2
    exit 1
fi
if [[ ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund
fi
if [[ -z "${SERVER_BIN:-}" ]]; then
    (cd .. && cargo build --release --example server)
fi

node --test --test-concurrency=1 "$@" page.test.mjs
