#!/bin/bash
# The long fuzzing runs of docs/RELIABILITY.md: RUNS executions of each named target, one after
# another, each from a copy of its working corpus (so the test command's corpus is untouched)
# plus its seeds. One line per target goes to OUT/summary.txt; logs, corpora and any crash,
# timeout or OOM input stay in OUT.
#
#   fuzz/run_long.sh BUILD_FUZZ_DIR OUT_DIR TARGET...
#   RUNS=10000000 MAX_LEN=4096 NICE=10 (environment, defaults shown)
#
# -detect_leaks=0: LeakSanitizer after each input made the session target 7x slower (the test
# command's 30-s runs keep it on). The ASan options shorten allocation stacks, shrink the
# quarantine and skip filling new memory: bookkeeping, not detection, and worth ~1.4x here.
set -u

if [ "$#" -lt 3 ]; then
  echo "usage: $0 BUILD_FUZZ_DIR OUT_DIR TARGET..." >&2
  exit 2
fi
build=$(cd "$1" && pwd)
out=$2
shift 2
runs=${RUNS:-10000000}
max_len=${MAX_LEN:-4096}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=2:quarantine_size_mb=16:max_malloc_fill_size=0}

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$build/fuzz" || exit 2
for target in "$@"; do
  mkdir -p "$out/$target"
  cp -rn "corpus/work/$target/." "$out/$target/" 2>/dev/null
  start=$(date +%s)
  nice -n "${NICE:-10}" "./$target" -runs="$runs" -detect_leaks=0 -rss_limit_mb=4096 \
    -max_len="$max_len" -timeout=10 -print_final_stats=1 -artifact_prefix="$out/${target}_" \
    "$out/$target" "corpus/seeds/$target" >"$out/$target.log" 2>&1
  rc=$?
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")
  echo "$target exit=$rc executions=${executed:-?} seconds=$(($(date +%s) - start))" \
    "max_len=$max_len asan=$ASAN_OPTIONS" >>"$out/summary.txt"
done
