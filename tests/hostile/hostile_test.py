#!/usr/bin/env python3
"""The hostile input corpus (corpus.py) against a real eventsocketd.

Usage: hostile_test.py <eventsocketd> <conf dir> [-k SUBSTRING]... [--passes N] [--list]

Each case runs on fresh connections and its expectation is checked. A canary connection,
authenticated and subscribed to CUSTOM hostile::canary, must keep receiving the events a
second connection sends and keep answering `api status` after every batch of cases ("no
effect on others"). The corpus runs three times on the main server ("no leak"): after every
pass the server's open descriptors must be back to what they were with only the canary
connected; the heap in use (the server's own malloc count, from event_socket_stats) may grow
by at most 64 KiB from the second pass to the last (the first warms caches up); RSS, which
also holds stacks, code and what the allocator keeps after a peak, by at most 8 MiB over the
whole run. Cases that need a flag the server does not have are skipped; cases with their own
flags get their own server. Exit status 1 on any failure.
"""
import argparse
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../support"))
import corpus  # noqa: E402
from script_checks import free_port  # noqa: E402

BATCH = 16                # cases run concurrently on the main server
HEAP_SLACK_BYTES = 64 * 1024  # heap in use after the last pass vs after the second
RSS_SLACK_KIB = 8 * 1024      # RSS after the last pass vs after the first
NO_RSS_CHECKS = False         # --no-rss-checks (sanitizer builds)
QUIET_OPEN_MS = 150       # "open": nothing more arrives for this long, then the probe
QUIET_PENDING_MS = 300    # "pending": nothing arrives for this long
CASE_TIMEOUT_S = 20


class CaseFailure(Exception):
    pass


def show(data, limit=160):
    text = repr(bytes(data[:limit]))
    return text + (f"... ({len(data)} bytes)" if len(data) > limit else "")


# ---- server packets ---------------------------------------------------------------------

class Packet:
    def __init__(self, headers, body, raw):
        self.headers = headers  # [(name, value)] as str (latin-1)
        self.body = body
        self.raw = raw

    def get(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def is_event(self):
        ct = self.get("Content-Type") or ""
        return ct.startswith("text/event-") or ct == "log/data"


def parse_packet(buf):
    """(packet, consumed) from the start of buf, (None, 0) if incomplete; raises on garbage."""
    end = buf.find(b"\n\n")
    if end < 0:
        if len(buf) > 1 << 20:
            raise CaseFailure(f"no end of header block in {show(buf)}")
        return None, 0
    headers = []
    for line in bytes(buf[:end]).split(b"\n"):
        if b":" not in line:
            raise CaseFailure(f"malformed header line {show(line)} in {show(buf[:end + 2])}")
        name, value = line.split(b":", 1)
        if value.startswith(b" "):
            value = value[1:]
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    length = 0
    for n, v in headers:
        if n.lower() == "content-length":
            if not v.isdigit():
                raise CaseFailure(f"bad Content-Length {v!r} in {show(buf[:end + 2])}")
            length = int(v)
    total = end + 2 + length
    if len(buf) < total:
        return None, 0
    return Packet(headers, bytes(buf[end + 2:total]), bytes(buf[:total])), total


def corpus_url_encode(text):
    return "".join(ch if ch.isalnum() or ch in "-_." else "%%%02X" % ord(ch) for ch in text)


def format_matcher(m, i):
    if "body" in m and b"%d" in m["body"]:
        body = m["body"] % i
        m = {**m, "body": body, "what": m["what"].replace("%d", str(i))}
        if "headers" in m:
            m["headers"] = [[n, str(len(body)) if n == "Content-Length" else v]
                            for n, v in m["headers"]]
    return m


def matches(m, p):
    """None if packet p matches matcher m, else the reason."""
    if "headers" in m:
        want = [tuple(h) for h in m["headers"]]
        if p.headers != want:
            return f"headers {p.headers} != {want}"
    if "names" in m:
        names = [n for n, _ in p.headers]
        if names != m["names"]:
            return f"header names {names} != {m['names']}"
    for name, regex in m.get("match", {}).items():
        value = p.get(name)
        if value is None or not re.fullmatch(regex, value, re.S):
            return f"{name}: {value!r} !~ {regex!r}"
    if "body" in m and p.body != m["body"]:
        return f"body {show(p.body)} != {show(m['body'])}"
    if "body_re" in m and not re.fullmatch(m["body_re"], p.body, re.S):
        return f"body {show(p.body)} !~ {m['body_re']!r}"
    if "body" not in m and "body_re" not in m and p.body:
        return f"unexpected body {show(p.body)}"
    return None


# ---- one client connection --------------------------------------------------------------

class Conn:
    def __init__(self, port, source=None, ignore_events=False, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.ignore_events = ignore_events
        self.sender = None
        self.send_error = None
        self.closed_by_us = False

    # reading
    def fill(self, deadline):
        """Read what is there (waiting until deadline for something). False on timeout."""
        if self.eof:
            return False
        wait = max(0.0, deadline - time.monotonic())
        try:
            ready, _, _ = select.select([self.sock], [], [], wait)
        except (OSError, ValueError):
            self.eof = True
            return False
        if not ready:
            return False
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        except (socket.timeout, BlockingIOError):
            return False
        except OSError:
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def next_packet(self, deadline):
        """The next packet not ignored, or None (timeout or EOF)."""
        while True:
            p, n = parse_packet(self.buf)
            if p is not None:
                del self.buf[:n]
                if self.ignore_events and p.is_event():
                    continue
                return p
            if self.eof or time.monotonic() >= deadline:
                return None
            self.fill(deadline)

    def peek_packet(self, deadline):
        while True:
            p, n = parse_packet(self.buf)
            if p is not None:
                if self.ignore_events and p.is_event():
                    del self.buf[:n]
                    continue
                return p
            if self.eof or time.monotonic() >= deadline:
                return None
            self.fill(deadline)

    def expect(self, matchers, within_ms, fmt_index=None):
        deadline = time.monotonic() + within_ms / 1000
        for i, m in enumerate(matchers):
            if fmt_index is not None:
                m = format_matcher(m, fmt_index)
            p = self.peek_packet(deadline)
            if p is None:
                if m.get("optional"):
                    continue
                state = "connection closed" if self.eof else f"nothing within {within_ms} ms"
                raise CaseFailure(f"packet {i + 1}: expected {m['what']}, {state}"
                                  + (f" (unparsed {show(self.buf)})" if self.buf else ""))
            why = matches(m, p)
            if why:
                if m.get("optional"):
                    continue
                raise CaseFailure(f"packet {i + 1}: expected {m['what']}, got {show(p.raw)}: {why}")
            self.next_packet(deadline)

    def expect_silence(self, ms):
        deadline = time.monotonic() + ms / 1000
        while time.monotonic() < deadline and not self.eof:
            self.fill(deadline)
            p = self.peek_packet(time.monotonic())
            if p is not None:
                raise CaseFailure(f"expected silence for {ms} ms, got {show(p.raw)}")
        if self.eof:
            raise CaseFailure(f"expected the connection open, it was closed"
                              + (f" after {show(self.buf)}" if self.buf else ""))
        if self.buf:
            p = self.peek_packet(time.monotonic())
            raise CaseFailure(f"expected silence for {ms} ms, got {show(p.raw if p else self.buf)}")

    def expect_closed(self, within_ms):
        deadline = time.monotonic() + within_ms / 1000
        while not self.eof and time.monotonic() < deadline:
            self.fill(deadline)
            p = self.peek_packet(time.monotonic())
            if p is not None:
                raise CaseFailure(f"expected close, got {show(p.raw)}")
        if not self.eof:
            raise CaseFailure(f"expected close within {within_ms} ms, still open"
                              + (f" (unparsed {show(self.buf)})" if self.buf else ""))
        p = self.peek_packet(time.monotonic())
        if p is not None or self.buf:
            raise CaseFailure(f"expected close, got {show(p.raw if p else self.buf)}")

    # writing
    def wait_sender(self, timeout=30):
        if self.sender is not None:
            self.sender.join(timeout)
            if self.sender.is_alive():
                raise CaseFailure("sending did not finish")
            self.sender = None

    def send(self, data, chunk=None, delay_ms=0):
        self.wait_sender()

        def run():
            try:
                if not chunk:
                    self.sock.sendall(data)
                    return
                for i in range(0, len(data), chunk):
                    self.sock.sendall(data[i:i + chunk])
                    if delay_ms:
                        time.sleep(delay_ms / 1000)
            except OSError as e:  # the server closed on us: the expectation decides
                self.send_error = e

        if not chunk and len(data) <= 65536:
            run()
        else:
            self.sender = threading.Thread(target=run, daemon=True)
            self.sender.start()

    def shutdown_write(self):
        self.wait_sender()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self, reset=False):
        if self.closed_by_us:
            return
        self.closed_by_us = True
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.sender is not None:
            self.sender.join(5)
        self.sock.close()

    def greet(self, auth):
        self.expect([corpus.AUTH_REQUEST], 3000)
        if auth:
            self.send(b"auth ClueCon\n\n")
            self.expect([corpus.ACCEPTED], 3000)

    def probe(self, authed, tag="hostile-probe"):
        if not authed:
            self.send(b"api echo x\n\n")
            self.expect([corpus.NOT_FOUND], 2000)
            self.send(b"auth ClueCon\n\n")
            self.expect([corpus.ACCEPTED], 2000)
        self.send(b"api echo " + tag.encode() + b"\n\n")
        self.expect([corpus.api(tag.encode())], 3000)


# ---- the server -------------------------------------------------------------------------

class Server:
    def __init__(self, binary, conf, extra_args, capture_log):
        self.port = free_port()
        args = [binary, "--conf", conf, "--listen-ip", "127.0.0.1", "--listen-port", str(self.port)]
        if "--log-level" not in extra_args:
            args += ["--log-level", "err"]
        args += extra_args
        self.log_lines = 0
        self.log_tail = []
        # glibc's malloc keeps freed memory (a dynamic mmap threshold, per-thread arenas), so
        # after a 16 MiB body RSS says little about what is still in use. These tunables make
        # it give big blocks back at once; they change nothing the server does.
        env = {**os.environ, "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4096:"
               "glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=1"}
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env,
                                     stderr=subprocess.PIPE if capture_log else subprocess.DEVNULL)
        if capture_log:
            threading.Thread(target=self._read_log, daemon=True).start()
        deadline = time.time() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"eventsocketd {' '.join(args[1:])} exited at start "
                                   f"({self.proc.returncode})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("eventsocketd did not listen within 10 s")
                time.sleep(0.05)
        self.pid = self.proc.pid

    def _read_log(self):
        for line in self.proc.stderr:
            self.log_lines += 1
            self.log_tail = (self.log_tail + [line.decode("latin-1", "replace").rstrip()])[-5:]

    def alive(self):
        return self.proc.poll() is None

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1

    def rss_kib(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def heap_in_use(self):
        """The server's own count of heap bytes in use (event_socket_stats json), or -1."""
        try:
            conn = Conn(self.port)
            try:
                conn.greet(auth=True)
                conn.send(b"api event_socket_stats json\n\n")
                p = conn.next_packet(time.monotonic() + 5)
                return int(json.loads(p.body)["heap_in_use_bytes"]) if p else -1
            finally:
                conn.close()
        except (OSError, CaseFailure, ValueError, KeyError):
            return -1

    def wait_fds(self, target, timeout=5.0):
        """Wait for the fd count to equal target (or, target None, to be stable)."""
        deadline = time.time() + timeout
        last, stable_since = self.fds(), time.time()
        while time.time() < deadline:
            time.sleep(0.05)
            n = self.fds()
            if target is not None and n == target:
                return n
            if n != last:
                last, stable_since = n, time.time()
            elif target is None and time.time() - stable_since > 0.3:
                return n
        return self.fds()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Canary:
    """An authenticated subscriber to CUSTOM hostile::canary, and a connection sending it."""

    def __init__(self, server):
        self.server = server
        self.seq = 0
        self.lock = threading.Lock()
        self.conn = Conn(server.port)
        self.conn.greet(auth=True)
        self.conn.send(b"event plain CUSTOM hostile::canary\n\n")
        self.conn.expect([corpus.reply("+OK event listener enabled plain")], 3000)
        self.sender = Conn(server.port)
        self.sender.greet(auth=True)

    def check(self, within_ms=3000):
        """None, or what went wrong (the event must arrive within within_ms of being sent).
        Waits up to 30 s for a late event, so that the next check starts clean."""
        with self.lock:
            self.seq += 1
            seq = self.seq
            try:
                sent = time.monotonic()
                self.sender.send(b"sendevent CUSTOM\nEvent-Subclass: hostile::canary\nCanary-Seq: %d\n\n" % seq)
                self.sender.expect([corpus.SENDEVENT_OK], 30000)
                deadline = sent + 30
                while True:
                    p = self.conn.next_packet(deadline)
                    if p is None:
                        return f"canary: event {seq} never arrived"
                    if p.get("Content-Type") == "text/event-plain":
                        if b"\nCanary-Seq: %d\n" % seq in p.body:
                            break
                        continue
                    return f"canary: unexpected packet {show(p.raw)}"
                took = (time.monotonic() - sent) * 1000
                if took > within_ms:
                    return f"canary: event {seq} took {took:.0f} ms (at most {within_ms} ms)"
                self.conn.send(b"api status\n\n")
                self.conn.expect([corpus.api_re(rb"UP .*")], 3000)
            except CaseFailure as e:
                return f"canary: {e}"
            return None

    def close(self):
        self.conn.close()
        self.sender.close()


# ---- running a case ---------------------------------------------------------------------

class Context:
    def __init__(self, server, canary, case):
        self.server = server
        self.canary = canary
        self.case = case
        self.conns = {}
        self.held = []
        self.marks = {"start": time.monotonic()}
        self.log_start = server.log_lines
        self.rss_start = server.rss_kib()
        self.deferred = []

    def conn(self, name):
        if name not in self.conns:
            raise CaseFailure(f"no connection {name!r}")
        return self.conns[name]

    def close_all(self):
        for c in list(self.conns.values()) + self.held:
            try:
                c.close()
            except OSError:
                pass


def open_conn(ctx, source=None):
    try:
        return Conn(ctx.server.port, source=source,
                    ignore_events=ctx.case.get("ignore_events", False))
    except OSError as e:
        raise CaseFailure(f"connect failed: {e}")


def run_flood(ctx, step):
    count = step["count"]
    results = [None] * count  # "accepted" | "rejected" | error text
    held = [None] * count
    lock = threading.Lock()
    next_index = [0]

    def one(i):
        c = None
        try:
            c = Conn(ctx.server.port, source=step.get("source"),
                     ignore_events=step.get("ignore_events", ctx.case.get("ignore_events", False)))
            if step.get("close_now"):
                c.close()
                return "accepted"
            outcome = "accepted"
            data = step.get("send")
            if data is not None and step.get("fmt"):
                data = data % i
            if step.get("send_first"):  # before reading anything: a refusal must still be read
                c.send(data, step.get("chunk"), step.get("delay_ms", 0))
                data = None
            if step.get("greeting", True):
                p = c.peek_packet(time.monotonic() + 3)
                if p is not None and matches(corpus.AUTH_REQUEST, p) is None:
                    c.next_packet(time.monotonic())
                elif "reject" in step:
                    c.expect(step["reject"], 3000)
                    c.expect_closed(3000)
                    c.close()
                    return "rejected"
                else:
                    raise CaseFailure(f"expected auth/request, got {show(p.raw) if p else 'nothing'}")
            if step.get("auth"):
                c.send(b"auth ClueCon\n\n")
                c.expect([corpus.ACCEPTED], 3000)
            if data is not None:
                c.send(data, step.get("chunk"), step.get("delay_ms", 0))
                if step.get("reset"):
                    c.wait_sender()
                    c.close(reset=True)
                    return outcome
            if step.get("shut_wr"):
                c.shutdown_write()
            if step.get("packets"):
                c.expect(step["packets"], step.get("within_ms", 3000),
                         fmt_index=i if step.get("fmt") else None)
            end = step.get("end", "none")
            if end == "closed":
                c.expect_closed(step.get("within_ms", 3000))
            if step.get("hold"):
                held[i] = c
                c = None
            return outcome
        except (CaseFailure, OSError) as e:
            return f"connection {i}: {e}"
        except Exception as e:  # a bug in the runner or the corpus
            return f"connection {i}: runner error: {type(e).__name__}: {e}"
        finally:
            if c is not None and not held[i]:
                try:
                    c.close()
                except OSError:
                    pass

    def worker():
        while True:
            with lock:
                i = next_index[0]
                if i >= count:
                    return
                next_index[0] += 1
            results[i] = one(i)

    flood_start = time.monotonic()
    workers = [threading.Thread(target=worker, daemon=True)
               for _ in range(min(count, step.get("concurrency", count)))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    took = time.monotonic() - flood_start
    ctx.held += [c for c in held if c is not None]
    errors = [r for r in results if r not in ("accepted", "rejected")]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CaseFailure(f"flood: {errors[0]}{more}")
    accepted = results.count("accepted")
    lo, hi = step.get("accepted_min"), step.get("accepted_max")
    if hi is not None and step.get("accepted_per_s"):
        hi += int(step["accepted_per_s"] * took + 1)
    if lo is not None and accepted < lo or hi is not None and accepted > hi:
        raise CaseFailure(f"flood: {accepted} of {count} accepted in {took:.2f} s, expected {lo}..{hi}")
    if step.get("end") == "open" and step.get("hold"):
        # Every held connection still answers.
        for c in ctx.held[-accepted:] if accepted else []:
            if step.get("auth"):
                c.probe(True, "held")
            elif not step.get("send"):
                c.probe(False, "held")
            else:
                c.expect_silence(0)


def run_step(ctx, step):
    op = step["op"]
    if op == "send":
        ctx.conn(step["conn"]).send(step["data"], step.get("chunk"), step.get("delay_ms", 0))
    elif op == "shutdown_write":
        ctx.conn(step["conn"]).shutdown_write()
    elif op == "sleep":
        time.sleep(step["ms"] / 1000)
    elif op == "expect":
        c = ctx.conn(step["conn"])
        c.expect(step["packets"], step["within_ms"])
        if step.get("min_ms") is not None:
            elapsed = (time.monotonic() - ctx.marks[step["since"]]) * 1000
            if elapsed < step["min_ms"]:
                raise CaseFailure(f"all {len(step['packets'])} packets within {elapsed:.0f} ms, "
                                  f"expected at least {step['min_ms']} ms (not throttled)")
    elif op == "silence":
        ctx.conn(step["conn"]).expect_silence(step["ms"])
    elif op == "closed":
        ctx.conn(step["conn"]).expect_closed(step["within_ms"])
    elif op == "connect":
        c = open_conn(ctx, step.get("source"))
        ctx.conns[step["conn"]] = c
        if step.get("greeting", True):
            c.greet(step.get("auth", False))
    elif op == "close":
        ctx.conn(step["conn"]).close(step.get("reset", False))
    elif op == "probe":
        ctx.conn(step["conn"]).probe(step.get("authed", True))
    elif op == "release":
        for c in ctx.held:
            c.close()
        ctx.held = []
    elif op == "mark":
        ctx.marks[step["name"]] = time.monotonic()
    elif op == "canary":
        why = ctx.canary.check(step.get("within_ms", 3000))
        if why:  # the case goes on (it may have to wait for the server to recover)
            ctx.deferred.append(f"during the case, {why}")
    elif op == "flood":
        run_flood(ctx, step)
    elif op == "expect_events":
        c = ctx.conn(step["conn"])
        deadline = time.monotonic() + step["within_ms"] / 1000
        subclass = corpus_url_encode(step["subclass"])
        seen = 0
        while seen < step["count"]:
            p = c.next_packet(deadline)
            if p is None and c.ignore_events:
                raise CaseFailure("expect_events needs a connection that keeps events")
            if p is None:
                raise CaseFailure(f"{seen} of {step['count']} {step['subclass']} events arrived")
            if p.get("Content-Type") != "text/event-plain" or \
                    f"\nEvent-Subclass: {subclass}\n".encode() not in b"\n" + p.body:
                continue
            m = re.search(rb"\nX-Seq: (\d+)\n", p.body)
            if not m or int(m.group(1)) != seen:
                raise CaseFailure(f"event {seen}: expected X-Seq {seen}, got {show(p.body)}")
            seen += 1
    elif op == "expect_accounted":
        # Until the event carrying X-N: marker: every one of `count` events must have been
        # delivered or counted by an eventsocket::gap notice that came before the marker.
        c = ctx.conn(step["conn"])
        deadline = time.monotonic() + step["within_ms"] / 1000
        delivered = dropped = gaps = 0
        while True:
            p = c.next_packet(deadline)
            if p is None:
                raise CaseFailure(f"no marker event: {delivered} delivered, {dropped} reported "
                                  f"dropped in {gaps} gap notices")
            if p.get("Content-Type") != "text/event-plain":
                continue
            m = re.search(rb"\nX-N: (\w+)\n", p.body)
            if m and m.group(1) == b"marker":
                break
            if m:
                delivered += 1
            g = re.search(rb"\nDropped-Events: (\d+)\n", p.body)
            if g and p.body.startswith(b"Event-Subclass: eventsocket%3A%3Agap\n"):
                dropped += int(g.group(1))
                gaps += 1
        if delivered + dropped != step["count"] or (step.get("min_dropped") and dropped < step["min_dropped"]):
            raise CaseFailure(f"{delivered} delivered + {dropped} reported dropped ({gaps} gap "
                              f"notices) != {step['count']} sent")
    elif op == "log_lines_at_most":
        time.sleep(0.3)
        grown = ctx.server.log_lines - ctx.log_start
        if grown > step["n"]:
            raise CaseFailure(f"{grown} log lines during the case, at most {step['n']} expected "
                              f"(last: {ctx.server.log_tail})")
    elif op == "rss_growth_at_most":
        grown = ctx.server.rss_kib() - ctx.rss_start
        if grown > step["kib"] and not NO_RSS_CHECKS:
            raise CaseFailure(f"RSS grew by {grown} KiB, at most {step['kib']} KiB expected")
    else:
        raise CaseFailure(f"unknown step {op!r}")


def run_case(server, canary, case):
    """None if the case passed, else what differed."""
    ctx = Context(server, canary, case)
    try:
        main = open_conn(ctx)
        ctx.conns["main"] = main
        if case.get("greeting", True):
            main.greet(case["auth"])
        for i, step in enumerate(case["input"]):
            try:
                run_step(ctx, step)
            except CaseFailure as e:
                raise CaseFailure(f"step {i + 1} ({step['op']}): {e}")
        if ctx.deferred:
            raise CaseFailure("; ".join(ctx.deferred))
        exp = case["expect"]
        end = exp["end"]
        if end != "none":
            main.expect(exp["packets"], exp["within_ms"])
            if end == "closed":
                main.expect_closed(exp["within_ms"])
            elif end == "open":
                main.expect_silence(QUIET_OPEN_MS)
                main.probe(exp["probe"] == "authed")
            elif end == "pending":
                main.expect_silence(QUIET_PENDING_MS)
        return None
    except CaseFailure as e:
        return str(e)
    except Exception as e:  # a bug in the runner or the corpus: report it as a failure
        return f"runner error: {type(e).__name__}: {e}"
    finally:
        ctx.close_all()


DURATIONS = {}  # name -> seconds of its slowest run (for --times)


def run_with_timeout(server, canary, case):
    result = ["timed out"]
    started = time.monotonic()

    def target():
        result[0] = run_case(server, canary, case)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(case.get("timeout_s", CASE_TIMEOUT_S))
    DURATIONS[case["name"]] = max(DURATIONS.get(case["name"], 0), time.monotonic() - started)
    if t.is_alive():
        return f"timed out after {case.get('timeout_s', CASE_TIMEOUT_S)} s"
    return result[0]


def run_pass(server, canary, cases, label, results):
    """Runs cases (concurrently in batches, exclusive ones alone); fills results[name]."""
    def record(case, why):
        if why and case["name"] not in results:
            results[case["name"]] = f"{label}: {why}"
        results.setdefault(case["name"], None)

    shared = [c for c in cases if not c.get("exclusive")]
    exclusive = [c for c in cases if c.get("exclusive")]
    for i in range(0, len(shared), BATCH):
        batch = shared[i:i + BATCH]
        outcome = {}
        threads = []
        for c in batch:
            def target(c=c):
                outcome[c["name"]] = run_with_timeout(server, canary, c)
            threads.append(threading.Thread(target=target, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        why_canary = canary.check() if server.alive() else "eventsocketd is gone"
        for c in batch:
            why = outcome.get(c["name"], "no result")
            if why is None and why_canary:
                why = f"no effect on others: after this batch, {why_canary}"
            record(c, why)
    for c in exclusive:
        why = run_with_timeout(server, canary, c)
        if why is None:
            why_canary = canary.check() if server.alive() else "eventsocketd is gone"
            if why_canary:
                why = f"no effect on others: after this case, {why_canary}"
        record(c, why)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("conf")
    ap.add_argument("-k", action="append", default=[], help="only cases whose name contains this")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--times", action="store_true", help="print the 20 slowest cases")
    ap.add_argument("--no-rss-checks", action="store_true",
                    help="skip the memory bounds (AddressSanitizer keeps freed memory in "
                         "quarantine); descriptors and every reply are still checked")
    args = ap.parse_args()
    global NO_RSS_CHECKS
    NO_RSS_CHECKS = args.no_rss_checks

    started = time.time()
    cases = corpus.build()
    if args.k:
        cases = [c for c in cases if any(k in c["name"] for k in args.k)]
    if args.list:
        for c in cases:
            print(f"{c['category']:20} {c['name']:40} {c['description']}")
        return 0

    help_text = subprocess.run([args.binary, "--help"], capture_output=True, text=True).stdout
    flags = set(re.findall(r"--[a-z0-9][a-z0-9-]*", help_text))

    results = {}   # name -> None (pass) or failure text
    skipped = {}   # name -> reason
    groups = {}    # tuple(server_args) -> cases
    for c in cases:
        req = c.get("requires", [])
        req = [req] if isinstance(req, str) else req
        missing = [f for f in req if f not in flags]
        if missing:
            skipped[c["name"]] = f"requires {', '.join(missing)} (not in eventsocketd --help)"
            continue
        groups.setdefault(tuple(c.get("server_args", [])), []).append(c)

    global_failures = []
    for server_args, group in sorted(groups.items(), key=lambda kv: len(kv[0])):
        is_main = not server_args
        capture = any(c.get("capture_log") for c in group)
        label = "main server" if is_main else "eventsocketd " + " ".join(server_args)
        server = Server(args.binary, args.conf, list(server_args), capture)
        try:
            fds_base = server.wait_fds(None)
            canary = Canary(server)
            fds_canary = server.wait_fds(None)
            passes = args.passes if is_main else 1
            rss = []
            heap = []
            for n in range(passes):
                run_pass(server, canary, group, f"pass {n + 1}", results)
                if not server.alive():
                    global_failures.append(f"{label}: eventsocketd exited ({server.proc.returncode})")
                    break
                fds = server.wait_fds(fds_canary)
                time.sleep(0.3)
                rss.append(server.rss_kib())
                heap.append(server.heap_in_use())
                print(f"{label}, pass {n + 1}: {fds} fds (baseline {fds_base}, with the canary "
                      f"{fds_canary}), VmRSS {rss[-1]} KiB, heap in use {heap[-1]} bytes, "
                      f"{time.time() - started:.1f} s")
                if fds != fds_canary:
                    global_failures.append(f"{label}: no leak: {fds} descriptors open after pass "
                                           f"{n + 1}, {fds_canary} with only the canary")
            if len(heap) >= 3 and not NO_RSS_CHECKS:
                if min(heap) < 0:
                    global_failures.append(f"{label}: event_socket_stats json gave no "
                                           f"heap_in_use_bytes after a pass ({heap})")
                elif heap[-1] - heap[1] > HEAP_SLACK_BYTES:
                    global_failures.append(f"{label}: no leak: {heap[1]} bytes of heap in use "
                                           f"after pass 2, {heap[-1]} after pass {len(heap)} "
                                           f"(more than +{HEAP_SLACK_BYTES})")
            if len(rss) >= 2 and rss[-1] - rss[0] > RSS_SLACK_KIB and not NO_RSS_CHECKS:
                global_failures.append(f"{label}: bounded memory: VmRSS {rss[0]} KiB after "
                                       f"pass 1, {rss[-1]} KiB after pass {len(rss)} "
                                       f"(more than +{RSS_SLACK_KIB} KiB)")
            if server.alive():
                why = canary.check()
                if why:
                    global_failures.append(f"{label}: at the end, {why}")
            canary.close()
        except (CaseFailure, RuntimeError) as e:
            global_failures.append(f"{label}: {e}")
            for c in group:
                results.setdefault(c["name"], f"not run: {e}")
        finally:
            server.stop()

    passed = failed = xfail = xpass = 0
    by_name = {c["name"]: c for c in cases}
    for name, why in results.items():
        c = by_name[name]
        if c.get("known_failure"):
            if why:
                xfail += 1
                print(f"XFAIL {name}: {c['known_failure']} | {why}")
            else:
                xpass += 1
                print(f"XPASS {name}: passes now, drop its known_failure ({c['known_failure']})")
        elif why:
            failed += 1
            print(f"FAIL {name} [{c['category']}]: {why}")
        else:
            passed += 1
    if args.times:
        for name, took in sorted(DURATIONS.items(), key=lambda kv: -kv[1])[:20]:
            print(f"{took:6.2f} s  {name}")
    for name, why in skipped.items():
        print(f"SKIP {name}: {why}")
    for f in global_failures:
        print(f"FAIL {f}")
    print(f"{len(cases)} cases, {passed} passed, {failed} failed, {len(skipped)} skipped, "
          f"{xfail} xfail, {xpass} xpass; {len(global_failures)} server-wide failures; "
          f"{time.time() - started:.1f} s")
    return 1 if failed or global_failures else 0


if __name__ == "__main__":
    sys.exit(main())
