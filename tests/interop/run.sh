#!/usr/bin/env bash
# Interop tests: real ESL client libraries from the npm registry (modesl, drachtio-modesl)
# against eventsocketd. Usage: tests/interop/run.sh <path-to-eventsocketd>
# Installs the pinned packages with `npm ci` when node_modules is missing or does not match
# package.json / package-lock.json, then runs node's built-in test runner. Exits non-zero on
# any failure. Each suite starts its own daemon on a free 127.0.0.1 port.
set -euo pipefail

if [[ $# -lt 1 || -z "$1" ]]; then
  echo "usage: $0 <path-to-eventsocketd>" >&2
  exit 2
fi
if [[ ! -x "$1" ]]; then
  echo "interop: eventsocketd binary '$1' not found or not executable" >&2
  exit 2
fi
daemon="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "interop: '$tool' not found on PATH (scripts/setup.sh installs Node.js and npm)" >&2
    exit 1
  fi
done

# node_modules is (re)installed when the stamp written after the last successful `npm ci`
# does not match the current manifest and lockfile.
stamp=node_modules/.interop-install-stamp
want="$(node --version) $(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "interop: npm ci (node_modules missing or stale)"
  npm ci --no-audit --no-fund
  printf '%s\n' "$want" >"$stamp"
fi

EVENTSOCKETD="$daemon" exec node --test --test-reporter=spec modesl.test.js drachtio_modesl.test.js
