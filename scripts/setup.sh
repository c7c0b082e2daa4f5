#!/usr/bin/env bash
# Installs the Debian 12 packages eventsocket needs to build and test, only those missing.
# Safe to run again; works as root on a fresh machine with no package lists yet.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git python3 telnet
  libasio-dev libsimdjson-dev libpugixml-dev libpcre2-dev libfmt-dev libcli11-dev libedit-dev
  libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev  # libFuzzer and the sanitizers for the fuzz targets
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# The interop tests drive eventsocketd with ESL clients from the npm registry. Any Node.js
# with npm will do (a machine may already have one that bundles npm); else Debian's.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
