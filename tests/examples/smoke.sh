#!/usr/bin/env bash
# examples_smoke: runs examples/bgapi_originate against a real eventsocketd and checks that
# it printed the job's result and hung the call up.
# Usage: smoke.sh <bgapi_originate> <eventsocketd> <conf dir>
set -euo pipefail
example=$1 daemon=$2 conf=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/eventsocketd.sh"

start_eventsocketd "$daemon" "$conf"
out=$("$example" 127.0.0.1 "$ESL_PORT" ClueCon 2>&1) || { echo "FAIL: exit code $?"; echo "$out"; exit 1; }
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
if ! printf '%s\n' "$out" | grep -Eq "^job $uuid: \+OK $uuid\$" ||
   ! printf '%s\n' "$out" | grep -Eq "^uuid_kill $uuid: \+OK\$"; then
  echo "FAIL: bgapi_originate printed:"
  printf '%s\n' "$out"
  exit 1
fi
printf '%s\n' "$out"
