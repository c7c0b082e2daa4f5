# Sourced by the shell tests that need a real eventsocketd: start_eventsocketd <binary>
# <conf dir> starts one on a free loopback port, sets $ESL_PORT, and stops it when the
# script exits (with everything else registered in $cleanup_paths).

cleanup_paths=()
eventsocketd_pid=""

cleanup() {
  if [ -n "$eventsocketd_pid" ]; then
    kill "$eventsocketd_pid" 2>/dev/null || true
    wait "$eventsocketd_pid" 2>/dev/null || true
  fi
  if ((${#cleanup_paths[@]})); then
    rm -rf "${cleanup_paths[@]}"
  fi
}
trap cleanup EXIT

# Python is there already (the esl-cli test needs it); bash alone cannot pick a free port.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_eventsocketd() {
  local binary=$1 conf=$2
  ESL_PORT=$(free_port)
  "$binary" --conf "$conf" --listen-ip 127.0.0.1 --listen-port "$ESL_PORT" --log-level err \
    >/dev/null 2>&1 &
  eventsocketd_pid=$!
  local tries
  for tries in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$ESL_PORT") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$eventsocketd_pid" 2>/dev/null; then
      echo "eventsocketd exited at start" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "eventsocketd did not listen on port $ESL_PORT within 10 s" >&2
  return 1
}
