#!/usr/bin/env bash
# Builds eventsocketd and runs it in the foreground on 127.0.0.1:8021 (password ClueCon)
# with the built-in switch core and the conf/ folder of this repository. Then, in another
# terminal: telnet 127.0.0.1 8021
# Extra arguments go to eventsocketd (e.g. --listen-port 8022, --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${JOBS:-2}" --target eventsocketd
exec build/apps/eventsocketd --conf conf "$@"
