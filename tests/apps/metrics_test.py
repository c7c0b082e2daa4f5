#!/usr/bin/env python3
"""eventsocketd's Prometheus endpoint (--stats-listen): GET /metrics answers the text format
with the server's counters and a series per connection; other paths are 404; a non-loopback
address is refused at startup; without the flag nothing listens.

Usage: metrics_test.py <eventsocketd> <conf dir>
"""
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../support"))
from script_checks import check, finish, free_port, wait_listening  # noqa: E402

DAEMON, CONF = sys.argv[1:3]


def esl_client(port):
    """An authenticated connection subscribed to one CUSTOM subclass."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.recv(4096)  # auth/request
    s.sendall(b"auth ClueCon\n\n")
    s.recv(4096)
    s.sendall(b"event plain CUSTOM metrics::test\n\n")
    s.recv(4096)
    return s


# A non-loopback address is refused.
r = subprocess.run([DAEMON, "--conf", CONF, "--listen-ip", "127.0.0.1", "--listen-port",
                    str(free_port()), "--stats-listen", "0.0.0.0:9021"],
                   capture_output=True, text=True, timeout=20)
check(r.returncode == 2, f"non-loopback stats-listen exit code {r.returncode}")
check("loopback" in r.stderr, f"non-loopback stats-listen message: {r.stderr!r}")

PORT, METRICS = free_port(), free_port()
daemon = subprocess.Popen([DAEMON, "--conf", CONF, "--listen-ip", "127.0.0.1", "--listen-port",
                           str(PORT), "--log-level", "err", "--stats-listen",
                           f"127.0.0.1:{METRICS}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    check(wait_listening(PORT) and wait_listening(METRICS), "daemon or metrics port did not come up")
    client = esl_client(PORT)
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/metrics", timeout=10) as response:
        body = response.read().decode()
        check(response.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              f"content type {response.headers.get('Content-Type')!r}")
    lines = body.splitlines()
    check("eventsocket_connections 1" in lines, "no `eventsocket_connections 1` line")
    check("eventsocket_event_subscribers 1" in lines, "no `eventsocket_event_subscribers 1` line")
    check('eventsocket_connections_refused_total{reason="acl"} 0' in lines,
          "no refused-by-acl counter")
    check(any(re.match(r'eventsocket_listener_queued_bytes\{id="\d+",peer="127\.0\.0\.1",'
                       r'mode="inbound"\} \d+$', l) for l in lines), "no per-listener series")
    check("# TYPE eventsocket_events_sent_total counter" in lines, "no TYPE line for a counter")
    for line in lines:  # every sample line is `name{labels} value` with a number
        if line and not line.startswith("#"):
            try:
                float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                check(False, f"sample line without a number: {line!r}")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/other", timeout=10)
        check(False, "/other did not answer 404")
    except urllib.error.HTTPError as e:
        check(e.code == 404, f"/other answered {e.code}")
    client.close()
finally:
    daemon.terminate()
    daemon.wait(timeout=10)

# Off by default: nothing listens on that port any more.
try:
    socket.create_connection(("127.0.0.1", METRICS), timeout=1).close()
    check(False, "metrics port still open after the daemon stopped")
except OSError:
    pass

finish("metrics: all checks passed")
