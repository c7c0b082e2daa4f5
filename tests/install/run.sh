#!/usr/bin/env bash
# install_find_package: installs the build tree into a temporary prefix, builds a libesl-style
# program (consumer/) against it twice, with find_package(eventsocket) and with pkg-config,
# and runs both against a real eventsocketd.
# Usage: run.sh <build dir> <cmake> <generator> <make program> <c++ compiler> <pkg-config>
#               <eventsocketd> <conf dir>
set -euo pipefail
build=$1 cmake=$2 generator=$3 make_program=$4 cxx=$5 pkg_config=$6 daemon=$7 conf=$8
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/eventsocketd.sh"

work=$(mktemp -d)
cleanup_paths+=("$work")
prefix=$work/prefix

echo "== install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
for f in lib/cmake/eventsocket/eventsocketConfig.cmake \
         lib/cmake/eventsocket/eventsocketConfigVersion.cmake \
         lib/cmake/eventsocket/eventsocketTargets.cmake lib/pkgconfig/eventsocket.pc \
         lib/libeventsocket_client.a lib/libeventsocket_event.a lib/libeventsocket_wire.a \
         include/eventsocket/client/esl_oop.hpp; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done

echo "== build the consumer with find_package(eventsocket)"
# Nothing from the source tree may leak in: the installed package alone.
"$cmake" -S "$here/consumer" -B "$work/consumer-cmake" -G "$generator" \
  -DCMAKE_MAKE_PROGRAM="$make_program" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
"$cmake" --build "$work/consumer-cmake" -j1 >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; exit 1; }

echo "== build the consumer with pkg-config"
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" "$pkg_config" --cflags --libs eventsocket)
# shellcheck disable=SC2086  # the flags are a list
"$cxx" -std=c++20 -Wall -Wextra -Werror -o "$work/consumer-pkg-config" "$here/consumer/main.cpp" \
  $flags

echo "== run both against eventsocketd"
start_eventsocketd "$daemon" "$conf"
# The uptime after "status: UP" varies: only the start of that line is compared.
expected="connected
status: UP
event: CUSTOM consumer::ping greeting=hello body=ping body"
status=0
for program in "$work/consumer-cmake/esl_consumer" "$work/consumer-pkg-config"; do
  out=$("$program" 127.0.0.1 "$ESL_PORT" ClueCon 2>&1) || true
  if [ "$(printf '%s\n' "$out" | sed -E 's/^(status: UP) .*/\1/')" != "$expected" ]; then
    echo "FAIL: $(basename "$program") printed:"
    printf '%s\n' "$out"
    status=1
  else
    echo "ok: $(basename "$program")"
  fi
done
exit $status
