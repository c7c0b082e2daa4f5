#!/usr/bin/env python3
"""esl-bench smoke test: every mode, with tiny sizes, against a real eventsocketd (exit 0, one
line, complete=yes); runs that must fail (wrong password, an api that errs); and fanout against
a fake server that loses one event and swaps two, which esl-bench must report as a gap and an
out-of-order delivery (exit 1). Timing figures are never checked here (docs/PERFORMANCE.md).

Usage: esl_bench_smoke.py <esl-bench> <eventsocketd> <conf dir>
"""
import os
import re
import socket
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tests/support"))
from script_checks import check, finish, free_port, wait_listening  # noqa: E402

BENCH, DAEMON, CONF = sys.argv[1:4]


def bench(port, *args):
    r = subprocess.run([BENCH, "--port", str(port), "--timeout", "20", *args],
                       capture_output=True, text=True, timeout=30)
    lines = r.stdout.splitlines()
    fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', lines[0])) if lines else {}
    print(" ".join(args), "->", r.returncode, r.stdout.strip())
    check(len(lines) == 1, f"{args}: {len(lines)} output lines, not 1: {r.stdout!r} {r.stderr!r}")
    return r.returncode, fields


def expect_pass(port, *args):
    rc, fields = bench(port, *args)
    check(rc == 0 and fields.get("complete") == "yes", f"{args}: exit {rc}, {fields}")
    check(fields.get("mode") == args[0], f"{args}: mode={fields.get('mode')}")
    return fields


class LossyServer:
    """Just enough Event Socket to subscribe and sendevent. It forwards every Seq to its
    subscribers except 3 (lost) and delivers 6 before 5 (out of order)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.subscribers = []
        self.held = None
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def reply(self, conn, text):
        conn.sendall(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    def publish(self, seq):
        body = f"Event-Subclass: esl_bench%3A%3Afanout\nEvent-Name: CUSTOM\nSeq: {seq}\n".encode()
        packet = (f"Content-Length: {len(body)}\nContent-Type: text/event-plain\n\n".encode()
                  + body)
        for s in self.subscribers:
            s.sendall(packet)

    def serve(self, conn):
        conn.sendall(b"Content-Type: auth/request\n\n")
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
            while b"\n\n" in data:
                block, data = data.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                cmd = lines[0]
                if cmd.startswith("auth "):
                    self.reply(conn, "+OK accepted")
                elif cmd.startswith("event "):
                    with self.lock:
                        self.subscribers.append(conn)
                    self.reply(conn, "+OK event listener enabled plain")
                elif cmd.startswith("sendevent"):
                    seq = int(next(l[5:] for l in lines if l.startswith("Seq: ")))
                    with self.lock:
                        if seq == 5:
                            self.held = seq
                        elif seq != 3:
                            self.publish(seq)
                        if seq == 6 and self.held:
                            self.publish(self.held)
                    self.reply(conn, f"+OK event-{seq}")
                else:
                    self.reply(conn, "-ERR command not found")


port = free_port()
daemon = subprocess.Popen([DAEMON, "--conf", CONF, "--listen-ip", "127.0.0.1", "--listen-port",
                           str(port), "--log-level", "err"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    wait_listening(port)
    f = expect_pass(port, "fanout", "--subscribers", "3", "--events", "300")
    check(f.get("delivered") == "900" and f.get("gaps") == "0", f"fanout counts: {f}")
    expect_pass(port, "fanout", "--subscribers", "2", "--events", "200", "--format", "json",
                "--size", "600", "--reader-threads", "2")
    f = expect_pass(port, "api", "--requests", "200")
    check("round_trips_per_s" in f and "p99_us" in f, f"api sequential fields: {f}")
    f = expect_pass(port, "api", "--requests", "500", "--pipeline", "16", "--command",
                    "api echo smoke")
    check("commands_per_s" in f, f"api pipelined fields: {f}")
    expect_pass(port, "ingest", "--events", "500")
    f = expect_pass(port, "ingest", "--events", "300", "--size", "600")
    check(abs(int(f.get("command_bytes", "0")) - 600) < 10, f"ingest --size 600: {f}")
    f = expect_pass(port, "conns", "--connections", "30", "--rate", "1000", "--idle", "0.1",
                    "--server-pid", str(daemon.pid))
    check(f.get("answered") == "30" and "rss_per_conn_kib" in f, f"conns fields: {f}")
    f = expect_pass(port, "cps", "--calls", "20", "--subscribers", "2")
    check(f.get("ok") == "20" and f.get("checked") == "per_channel", f"cps: {f}")

    rc, f = bench(port, "--password", "wrong", "api", "--requests", "1")
    check(rc == 1 and f.get("complete") == "no", f"wrong password: exit {rc}, {f}")
    rc, f = bench(port, "api", "--requests", "3", "--command", "api no_such_command")
    check(rc == 1 and f.get("errors") == "3", f"failing api: exit {rc}, {f}")
finally:
    daemon.terminate()
    daemon.wait(timeout=10)

lossy = LossyServer()
rc, f = bench(lossy.port, "fanout", "--subscribers", "2", "--events", "10", "--drain-timeout", "1")
check(rc == 1 and f.get("complete") == "no", f"lossy fanout passed: exit {rc}, {f}")
check(f.get("gaps") == "2" and f.get("out_of_order") == "2" and f.get("delivered") == "18",
      f"lossy fanout counts (2 subscribers: 1 lost, 1 late each): {f}")

finish("ok")
