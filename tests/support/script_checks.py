"""What the Python test scripts share: checks that collect failures instead of stopping at the
first, a free loopback port, and waiting for a server to listen.

A script imports it with its folder on sys.path (tests/support), checks with check(), and ends
with finish(), which exits 1 if any check failed.
"""
import socket
import sys
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def finish(passed_text):
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print(passed_text)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, seconds=10):
    """True once 127.0.0.1:port accepts a connection, False after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False
