#!/usr/bin/env bash
# Builds and runs every test of eventsocket:
#   1. the unit and integration tests (RelWithDebInfo, GCC);
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. every libFuzzer target for a bounded time (clang), seeded from the captures.
# Usage: scripts/test.sh        (FUZZ_SECONDS=N to change the fuzzing time per target)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-30}

echo "== build and test (release) =="
# -g1 (line tables): enough for stack traces, much cheaper to compile and link than -g.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build and test (ASan + UBSan) =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DEVENTSOCKET_SANITIZE=ON -DEVENTSOCKET_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzz (${fuzz_seconds}s per target) =="
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DEVENTSOCKET_FUZZ=ON -DEVENTSOCKET_TESTS=OFF -DEVENTSOCKET_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$jobs"
