#!/bin/sh
# Runs one libFuzzer target for a bounded time, as the `fuzz` CTest tests do.
#
#   run_fuzzer.sh FUZZER PYTHON MAKE_CORPUS KIND DATA_DIR CORPUS_ROOT SECONDS [LIBFUZZER_ARGS...]
#
# Regenerates the seed corpus CORPUS_ROOT/seeds/<target> from the conformance transcripts in
# DATA_DIR, then fuzzes with CORPUS_ROOT/work/<target> as the working corpus (kept between
# runs, so coverage accumulates; delete it to start over) and the seeds as a read-only
# second corpus. Crash, timeout and OOM inputs go to CORPUS_ROOT/artifacts/<target>/.
# libFuzzer exits non-zero on any crash or sanitizer report, which fails the test.
set -eu

if [ "$#" -lt 7 ]; then
  echo "usage: $0 FUZZER PYTHON MAKE_CORPUS KIND DATA_DIR CORPUS_ROOT SECONDS [ARGS...]" >&2
  exit 2
fi
fuzzer=$1
python=$2
make_corpus=$3
kind=$4
data_dir=$5
root=$6
seconds=$7
shift 7

name=$(basename "$fuzzer")
seeds="$root/seeds/$name"
work="$root/work/$name"
artifacts="$root/artifacts/$name"

rm -rf "$seeds"
"$python" "$make_corpus" --kind "$kind" --data-dir "$data_dir" "$seeds"
mkdir -p "$work" "$artifacts"

exec "$fuzzer" \
  -max_total_time="$seconds" \
  -rss_limit_mb=2048 \
  -max_len=65536 \
  -timeout=10 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" \
  "$@" \
  "$work" "$seeds"
