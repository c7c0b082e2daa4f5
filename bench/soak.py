#!/usr/bin/env python3
"""Soak test for eventsocketd: mixed load for a while, with the server's RSS, open fds and
threads sampled at a fixed interval; at the end the load stops and the server must come back
to where it started (fds, threads) and its RSS must have stopped growing.

The load, all at once, on 127.0.0.1 (moderate on purpose: this looks for leaks and hangs, not
peak rates; rates are printed with every sample):

* calls: `esl-bench cps` in a loop (sequential `originate null/x &hangup()` with one or two
  `event plain ALL` subscribers that must see every call's CREATE/HANGUP_COMPLETE/DESTROY), and
  a Python worker that keeps a few longer calls up with `bgapi originate`: loopback/9664 (hold
  music, killed with uuid_kill), null/ + park (killed), loopback/9198 (5 s of silence, ends by
  itself), sofia/internal/shortcall (far end hangs up after 2 s), sofia busy/reject and
  loopback/hangup (each must fail with its cause); every call must end with CHANNEL_DESTROY.
* fanout: `esl-bench fanout` in a loop (no gap, no reordering), and a Python publisher sending
  `sendevent CUSTOM soak::tick` at a steady rate to three long-lived subscribers (plain, json,
  and `event plain ALL`) that check every Seq arrives, in order.
* api: `esl-bench api` (sequential and pipelined, echo/status/show channels) and `ingest`.
* reconnecting clients: `esl-bench conns` bursts, and Python threads that connect, authenticate,
  subscribe, run commands and leave: politely (`exit`), abruptly (close or RST), in the middle
  of a command (`api msleep`, `bgapi`), in the middle of an event stream (a part of a packet
  read), after stalling their reads, with `log 7` on, before or with a wrong `auth`.

Any error seen by a worker (a lost or reordered event, a missing or unexpected reply, a call
that never ended, a refused connection, the server dying) fails the run.

Verdict (flat): the loaded samples are split into a warm-up (the first 20%, at least 2 and at
least --warmup-seconds: 30) and the rest. After the load stops and the server is quiet (no channel left, fds back), the final fd
count must be the baseline's (taken before the load, after one priming connection) +-
--fd-tolerance and the thread count the baseline's +- --thread-tolerance. RSS is read once a
second; each sample keeps the lowest read since the previous sample (its floor: buffers in
flight raise the peak, a leak raises the floor). The floor's growth from the first sample after
the warm-up to the last loaded sample must stay below max(--rss-growth-mib, --rss-growth-pct of
that first floor), and its trend over the second half of the post-warm-up samples (least
squares) must not rise faster than --rss-slope-kib-per-min unless the rise it implies over that
half is within --rss-noise-kib. The trend needs --rss-slope-samples samples in that half: a
60-second run is judged on fds, threads, errors and growth only, and can only catch a fast
leak; the 30-minute run is the real one.

Usage: soak.py --eventsocketd <bin> --esl-bench <bin> --conf <dir> --duration <s>
               --sample-every <s> [--report <file.md>] [--port P --pid PID]
Python 3.11, standard library only. Exit 0: flat and no error; 1: a check failed; 2: usage.
"""
import argparse
import datetime
import json
import os
import random
import re
import shlex
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid as uuidlib

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# A minimal Event Socket client (one thread per connection).


class Disconnected(Exception):
    pass


class EslConn:
    def __init__(self, port, password="ClueCon", auth=True, timeout=10.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.sock.connect((HOST, port))
        self.buf = bytearray()
        self.on_event = None  # called with (headers, body) for every event packet
        self.events = 0
        self.logs = 0
        headers, _ = self.read_packet()
        if headers.get("Content-Type") != "auth/request":
            raise RuntimeError(f"greeting was {headers}")
        if auth:
            reply = self.command(f"auth {password}")
            if reply != "+OK accepted":
                raise RuntimeError(f"auth: {reply!r}")

    def close(self, rst=False):
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n\n")

    def read_packet(self, timeout=None):
        """(headers, body); raises Disconnected on EOF, socket.timeout on a timeout (what was
        read so far stays buffered)."""
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        while True:
            end = self.buf.find(b"\n\n")
            if end >= 0:
                headers = {}
                for line in bytes(self.buf[:end]).decode("utf-8", "replace").split("\n"):
                    name, _, value = line.partition(": ")
                    headers[name] = value
                length = int(headers.get("Content-Length", "0"))
                if len(self.buf) >= end + 2 + length:
                    body = bytes(self.buf[end + 2:end + 2 + length])
                    del self.buf[:end + 2 + length]
                    return headers, body
            chunk = self.sock.recv(262144)
            if not chunk:
                raise Disconnected("connection closed by the server")
            self.buf += chunk

    def dispatch(self, headers, body):
        """Handles a packet that is not a reply; returns False if it is one."""
        ctype = headers.get("Content-Type", "")
        if ctype.startswith("text/event-"):
            self.events += 1
            if self.on_event:
                self.on_event(headers, body)
            return True
        if ctype == "log/data":
            self.logs += 1
            return True
        if ctype == "text/disconnect-notice":
            raise Disconnected(f"disconnect notice: {body[:80]!r}")
        return False

    def command(self, text, timeout=None):
        """Sends a command and returns its reply: Reply-Text of a command/reply, the body of an
        api/response. Events read meanwhile go to on_event."""
        self.send(text)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {text.splitlines()[0]!r}")
            try:
                headers, body = self.read_packet(timeout=left)
            except socket.timeout:
                raise TimeoutError(f"no reply to {text.splitlines()[0]!r}") from None
            if self.dispatch(headers, body):
                continue
            ctype = headers.get("Content-Type", "")
            if ctype == "command/reply":
                return headers.get("Reply-Text", "")
            if ctype == "api/response":
                return body.decode("utf-8", "replace")
            raise RuntimeError(f"unexpected packet {headers} in reply to {text!r}")

    def pump(self, seconds):
        """Reads events for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                headers, body = self.read_packet(timeout=left)
            except socket.timeout:
                return
            if not self.dispatch(headers, body):
                raise RuntimeError(f"unexpected packet outside a command: {headers}")


def plain_event(body):
    out = {}
    for line in body.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(": ")
        if sep:
            out[name] = urllib.parse.unquote(value)
    return out


def event_headers(headers, body):
    if headers.get("Content-Type") == "text/event-json":
        return json.loads(body)
    return plain_event(body)


# ---------------------------------------------------------------------------------------------
# Workers


class Soak:
    """What every worker shares: the port, the stop flag, counters and errors."""

    def __init__(self, args, port):
        self.args = args
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counters = {}
        self.errors = []
        self.error_count = 0

    def count(self, name, n=1):
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def snapshot(self):
        with self.lock:
            return dict(self.counters)

    def error(self, who, what):
        with self.lock:
            self.error_count += 1
            count = self.error_count
            if len(self.errors) < 200:
                stamp = time.strftime("%H:%M:%S")
                self.errors.append(f"{stamp} {who}: {what}")
        if count <= 50:
            print(f"ERROR {who}: {what}", flush=True)
        elif count == 51:
            print("ERROR (more errors are counted, not printed)", flush=True)

    def sleep(self, seconds):
        """Sleeps unless the load is stopping; True if it is."""
        return self.stop.wait(seconds)

    def connect(self, **kw):
        return EslConn(self.port, password=self.args.password, **kw)


class Worker(threading.Thread):
    def __init__(self, soak, name):
        super().__init__(name=name, daemon=True)
        self.soak = soak
        self.rng = random.Random(f"{soak.args.seed}-{name}")

    def error(self, what):
        self.soak.error(self.name, what)

    def run(self):
        try:
            self.work()
        except Exception as e:  # noqa: BLE001 (a worker's unexpected failure is an error)
            self.error(f"{type(e).__name__}: {e}")


class BenchLoop(Worker):
    """Runs esl-bench with each argument list in turn, pausing between runs; each run must exit
    0 with complete=yes. `counts` maps a counter to the result field it adds up (a run given as
    (arguments, counts) has its own)."""

    def __init__(self, soak, name, runs, pause, counts):
        super().__init__(soak, name)
        self.runs = [r if isinstance(r, tuple) else (r, counts) for r in runs]
        self.pause = pause

    def work(self):
        a = self.soak.args
        i = 0
        while not self.soak.sleep(self.pause * self.rng.uniform(0.6, 1.4)):
            args, counts = self.runs[i % len(self.runs)]
            i += 1
            cmd = [a.esl_bench, "--host", HOST, "--port", str(self.soak.port), "--password",
                   a.password, "--timeout", "60", *args]
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
            except subprocess.TimeoutExpired:
                self.error(f"esl-bench hung: {shlex.join(args)}")
                continue
            line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
            fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
            if r.returncode != 0 or fields.get("complete") != "yes":
                self.error(f"`esl-bench {shlex.join(args)}` exit {r.returncode}: {line} "
                           f"{r.stderr.strip()[:300]}")
                continue
            for counter, field in counts.items():
                try:
                    self.soak.count(counter, int(float(fields.get(field, "0"))))
                except ValueError:
                    pass
            self.soak.count(f"{self.name}_runs")


class CallsWorker(Worker):
    """Keeps a few longer calls up with bgapi originate, kills some, lets others end, and checks
    every originate's result and every channel's CHANNEL_DESTROY."""

    # kind: (dial string, application, expected result, how it ends, seconds it lasts)
    KINDS = [
        ("moh", "loopback/9664", "&park()", "+OK", "kill", None, 4),
        ("null", "null/soak", "&park()", "+OK", "kill", None, 3),
        ("silence", "loopback/9198", "&park()", "+OK", "self", 5.0, 2),
        ("shortcall", "sofia/internal/shortcall@soak", "&park()", "+OK", "self", 2.1, 2),
        ("busy", "sofia/internal/busy@soak", "&park()", "-ERR USER_BUSY", None, None, 1),
        ("reject", "sofia/internal/reject@soak", "&park()", "-ERR CALL_REJECTED", None, None, 1),
        ("hangup", "loopback/hangup", "&park()", "-ERR NORMAL_CLEARING", None, None, 1),
    ]
    GRACE = 15.0

    def __init__(self, soak, max_live):
        super().__init__(soak, "calls")
        self.max_live = max_live
        self.jobs = {}        # Job-UUID -> call
        self.calls = {}       # channel uuid -> call, until its CHANNEL_DESTROY
        self.kinds = [k for k in self.KINDS for _ in range(k[6])]

    def on_event(self, headers, body):
        ev = plain_event(body)
        name = ev.get("Event-Name")
        if name == "BACKGROUND_JOB":
            call = self.jobs.pop(ev.get("Job-UUID", ""), None)
            if call is None:
                return
            result = body.split(b"\n\n", 1)[1].decode("utf-8", "replace").strip() \
                if b"\n\n" in body else ""
            call["result"] = result
            kind = call["kind"]
            if not result.startswith(kind[3]):
                self.error(f"originate {kind[1]} {kind[2]}: {result!r}, expected {kind[3]!r}")
                self.calls.pop(call["uuid"], None)
            elif kind[3] == "+OK":
                self.soak.count("calls_long")
                call["answered"] = time.monotonic()
                if kind[4] == "kill":
                    call["kill_at"] = time.monotonic() + self.rng.uniform(0.5, 5.0)
                else:
                    call["deadline"] = time.monotonic() + kind[5] + self.GRACE
            else:
                self.soak.count("calls_failed_as_expected")
                self.calls.pop(call["uuid"], None)
        elif name == "CHANNEL_DESTROY":
            # (a failing originate's channel may go before or after its job's event)
            self.calls.pop(ev.get("Unique-ID", ""), None)

    def originate(self, conn):
        kind = self.rng.choice(self.kinds)
        u = str(uuidlib.uuid4())
        reply = conn.command(f"bgapi originate {{origination_uuid={u}}}{kind[1]} {kind[2]}")
        if not reply.startswith("+OK Job-UUID: "):
            self.error(f"bgapi originate: {reply!r}")
            return
        call = {"uuid": u, "kind": kind, "result": None, "started": time.monotonic(),
                "deadline": time.monotonic() + 20.0}
        self.jobs[reply.split(": ", 1)[1]] = call
        self.calls[u] = call

    def poke(self, conn, call):
        """A few commands on a live call that is only ended by us."""
        u = call["uuid"]
        if conn.command(f"api uuid_exists {u}") != "true":
            self.error(f"uuid_exists {u} ({call['kind'][0]}) is not true")
        value = f"v{self.rng.randrange(1 << 30)}"
        r = conn.command(f"api uuid_setvar {u} soak_var {value}")
        if not r.startswith("+OK"):
            self.error(f"uuid_setvar: {r!r}")
        r = conn.command(f"api uuid_getvar {u} soak_var")
        if r != value:
            self.error(f"uuid_getvar gave {r!r}, set {value!r}")
        self.soak.count("api_python", 3)
        call["poked"] = True

    def kill(self, conn, call):
        r = conn.command(f"api uuid_kill {call['uuid']}")
        self.soak.count("api_python")
        if not r.startswith("+OK"):
            self.error(f"uuid_kill {call['kind'][0]} call: {r!r}")
        call["kill_at"] = None
        call["deadline"] = time.monotonic() + self.GRACE

    def check(self, conn, stopping):
        now = time.monotonic()
        for u, call in list(self.calls.items()):
            if call.get("kill_at") is not None:
                if stopping or now >= call["kill_at"]:
                    self.kill(conn, call)
                elif not call.get("poked"):
                    self.poke(conn, call)
            elif now > call["deadline"]:
                what = "its BACKGROUND_JOB" if call["result"] is None else "CHANNEL_DESTROY"
                self.error(f"{call['kind'][0]} call {u}: no {what} "
                           f"{now - call['started']:.1f}s after the originate")
                self.calls.pop(u)
                self.jobs = {j: c for j, c in self.jobs.items() if c is not call}

    def work(self):
        conn = self.soak.connect()
        conn.on_event = self.on_event
        r = conn.command("event plain BACKGROUND_JOB CHANNEL_DESTROY")
        if not r.startswith("+OK"):
            raise RuntimeError(f"event: {r!r}")
        try:
            while not self.soak.stop.is_set():
                if len(self.calls) < self.max_live:
                    self.originate(conn)
                conn.pump(self.rng.uniform(0.05, 0.4))
                self.check(conn, False)
            deadline = time.monotonic() + 2 * self.GRACE
            while self.calls and time.monotonic() < deadline:
                self.check(conn, True)
                conn.pump(0.2)
            for u, call in self.calls.items():
                self.error(f"{call['kind'][0]} call {u} still up after the load stopped")
            conn.command("exit")
        finally:
            conn.close()


class TickPublisher(Worker):
    def __init__(self, soak, rate):
        super().__init__(soak, "tick-publisher")
        self.rate = rate
        self.last = 0
        self.done = threading.Event()

    def work(self):
        conn = self.soak.connect()
        try:
            start = time.monotonic()
            while not self.soak.stop.is_set():
                seq = self.last + 1
                r = conn.command(f"sendevent CUSTOM\nEvent-Subclass: soak::tick\nSeq: {seq}\n"
                                 f"Soak-Pad: {'x' * self.rng.randrange(0, 400)}")
                if not r.startswith("+OK"):
                    self.error(f"sendevent: {r!r}")
                self.last = seq
                self.soak.count("ticks_published")
                delay = start + seq / self.rate - time.monotonic()
                if delay > 0:
                    self.soak.sleep(delay)
            conn.command("exit")
        finally:
            self.done.set()
            conn.close()


class TickSubscriber(Worker):
    """Long-lived subscriber: every tick must arrive, in order, until the publisher's last."""

    def __init__(self, soak, name, publisher, subscribe):
        super().__init__(soak, name)
        self.publisher = publisher
        self.subscribe = subscribe
        self.next = 1
        self.ready = threading.Event()

    def on_event(self, headers, body):
        if b"soak" not in body:  # cheap: most of what `event plain ALL` gets is not a tick
            return
        ev = event_headers(headers, body)
        if ev.get("Event-Subclass") != "soak::tick":
            return
        seq = int(ev.get("Seq", "0"))
        if seq != self.next:
            self.error(f"tick {seq} arrived, expected {self.next} "
                       f"({'lost' if seq > self.next else 'out of order'})")
        self.next = seq + 1
        self.soak.count("ticks_delivered")

    def work(self):
        conn = self.soak.connect()
        conn.on_event = self.on_event
        try:
            for c in self.subscribe:
                r = conn.command(c)
                if not r.startswith("+OK"):
                    raise RuntimeError(f"{c}: {r!r}")
            self.ready.set()
            while not self.publisher.done.is_set():
                conn.pump(0.5)
            deadline = time.monotonic() + 20
            while self.next <= self.publisher.last and time.monotonic() < deadline:
                conn.pump(0.2)
            if self.next <= self.publisher.last:
                self.error(f"ticks {self.next}..{self.publisher.last} never arrived")
            conn.command("exit")
        finally:
            self.ready.set()
            conn.close()


class Reconnector(Worker):
    """Connects, does one of many things, leaves, again and again."""

    def __init__(self, soak, name, pause):
        super().__init__(soak, name)
        self.pause = pause
        self.scenarios = [
            (self.polite, 3), (self.abrupt, 3), (self.mid_command, 2), (self.mid_stream, 3),
            (self.stall, 1), (self.logger, 1), (self.bgapi_jobs, 2), (self.no_auth, 1),
            (self.bad_auth, 1),
        ]
        self.weighted = [s for s, w in self.scenarios for _ in range(w)]

    def api_checks(self, conn, n):
        for _ in range(n):
            word = f"w{self.rng.randrange(1 << 30)}"
            choice = self.rng.randrange(5)
            if choice == 0:
                r = conn.command(f"api echo {word}")
                ok = r == word
            elif choice == 1:
                r = conn.command("api status")
                ok = r.startswith("UP ")
            elif choice == 2:
                r = conn.command("api show channels")
                ok = "total." in r
            elif choice == 3:
                r = conn.command("api uptime")
                ok = r.strip().isdigit()
            else:
                r = conn.command(f"api uuid_exists {uuidlib.uuid4()}")
                ok = r == "false"
            self.soak.count("api_python")
            if not ok:
                self.error(f"unexpected api reply {r[:120]!r}")

    def subscribe(self, conn):
        fmt = self.rng.choice(["plain", "json", "xml"])
        events = self.rng.choice(["ALL", "CHANNEL_CREATE CHANNEL_DESTROY",
                                  "CUSTOM soak::tick esl_bench::fanout", "HEARTBEAT API"])
        r = conn.command(f"event {fmt} {events}")
        if r != f"+OK event listener enabled {fmt}":
            self.error(f"event {fmt} {events}: {r!r}")
        if self.rng.random() < 0.3:
            r = conn.command("filter Event-Name CUSTOM")
            if not r.startswith("+OK filter added"):
                self.error(f"filter: {r!r}")

    def polite(self):
        conn = self.soak.connect()
        try:
            self.subscribe(conn)
            self.api_checks(conn, self.rng.randrange(1, 6))
            conn.pump(self.rng.uniform(0, 0.5))
            r = conn.command("exit")
            if r != "+OK bye":
                self.error(f"exit: {r!r}")
            # then the disconnect notice and the end of the stream, events may come before
            try:
                conn.pump(5)
                self.error("still connected 5 s after exit")
            except Disconnected:
                pass
        finally:
            conn.close()

    def abrupt(self):
        conn = self.soak.connect()
        try:
            self.subscribe(conn)
            self.api_checks(conn, self.rng.randrange(0, 4))
            conn.pump(self.rng.uniform(0, 0.3))
        finally:
            conn.close(rst=self.rng.random() < 0.5)

    def mid_command(self):
        conn = self.soak.connect()
        try:
            if self.rng.random() < 0.5:
                self.subscribe(conn)
            cmd = self.rng.choice([f"api msleep {self.rng.randrange(50, 500)}", "api status",
                                   "api show channels", "bgapi msleep 200", "bgapi status",
                                   "api originate null/soak-mid &hangup()"])
            conn.send(cmd)
            if self.rng.random() < 0.5:
                time.sleep(self.rng.uniform(0, 0.1))
        finally:
            conn.close(rst=self.rng.random() < 0.5)

    def mid_stream(self):
        conn = self.soak.connect()
        try:
            r = conn.command(f"event {self.rng.choice(['plain', 'json'])} ALL")
            if not r.startswith("+OK"):
                self.error(f"event ALL: {r!r}")
            conn.pump(self.rng.uniform(0.05, 0.8))
            # read a part of whatever comes next, then go
            try:
                conn.sock.settimeout(0.5)
                conn.sock.recv(self.rng.randrange(1, 4000))
            except socket.timeout:
                pass
        finally:
            conn.close(rst=self.rng.random() < 0.5)

    def stall(self):
        conn = self.soak.connect(rcvbuf=4096)
        try:
            r = conn.command("event plain ALL")
            if not r.startswith("+OK"):
                self.error(f"event ALL: {r!r}")
            self.soak.sleep(self.rng.uniform(0.2, 1.5))  # read nothing meanwhile
        finally:
            conn.close(rst=self.rng.random() < 0.5)

    def logger(self):
        conn = self.soak.connect()
        try:
            r = conn.command("log 7")
            if not r.startswith("+OK log level"):
                self.error(f"log 7: {r!r}")
            self.subscribe(conn)
            # something that logs: an unknown command
            r = conn.command("api soak_no_such_command")
            if not r.startswith("-ERR soak_no_such_command Command not found"):
                self.error(f"unknown command: {r!r}")
            self.soak.count("api_python")
            self.api_checks(conn, 2)
            conn.pump(self.rng.uniform(0, 0.3))
            if self.rng.random() < 0.5:
                r = conn.command("nolog")
                if not r.startswith("+OK"):
                    self.error(f"nolog: {r!r}")
                conn.command("exit")
        finally:
            conn.close(rst=self.rng.random() < 0.3)

    def bgapi_jobs(self):
        conn = self.soak.connect()
        results = {}

        def on_event(headers, body):
            ev = plain_event(body)
            if ev.get("Event-Name") == "BACKGROUND_JOB" and ev.get("Job-UUID") in results:
                results[ev["Job-UUID"]] = body.split(b"\n\n", 1)[-1].decode()

        conn.on_event = on_event
        try:
            r = conn.command("event plain BACKGROUND_JOB")
            if not r.startswith("+OK"):
                self.error(f"event BACKGROUND_JOB: {r!r}")
            words = {}
            for _ in range(self.rng.randrange(1, 6)):
                word = f"j{self.rng.randrange(1 << 30)}"
                r = conn.command(f"bgapi echo {word}")
                if not r.startswith("+OK Job-UUID: "):
                    self.error(f"bgapi: {r!r}")
                    continue
                job = r.split(": ", 1)[1]
                results[job] = None
                words[job] = word
                self.soak.count("api_python")
            deadline = time.monotonic() + 10
            while any(v is None for v in results.values()) and time.monotonic() < deadline:
                conn.pump(0.1)
            for job, word in words.items():
                if results[job] != word:
                    self.error(f"bgapi echo {word}: job {job} gave {results[job]!r}")
            if self.rng.random() < 0.5:
                conn.command("exit")
        finally:
            conn.close()

    def no_auth(self):
        s = socket.create_connection((HOST, self.soak.port), timeout=10)
        try:
            if self.rng.random() < 0.5:
                s.recv(100)
            if self.rng.random() < 0.5:
                s.sendall(b"auth Clue")  # a part of a command
        finally:
            s.close()

    def bad_auth(self):
        conn = self.soak.connect(auth=False)
        try:
            r = conn.command("auth not-the-password")
            if r != "-ERR invalid":
                self.error(f"wrong password: {r!r}")
            try:
                conn.pump(5)
                self.error("still connected 5 s after a wrong password")
            except Disconnected:
                pass
        finally:
            conn.close()

    def work(self):
        while not self.soak.sleep(self.pause * self.rng.uniform(0, 2)):
            scenario = self.rng.choice(self.weighted)
            try:
                scenario()
            except ConnectionRefusedError as e:
                self.error(f"{scenario.__name__}: connection refused ({e})")
            except (Disconnected, TimeoutError, OSError, RuntimeError) as e:
                self.error(f"{scenario.__name__}: {type(e).__name__}: {e}")
            self.soak.count("reconnects")
            self.soak.count(f"scenario_{scenario.__name__}")


# ---------------------------------------------------------------------------------------------
# The server and its samples


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            out[name] = value.strip()
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Sampler:
    def __init__(self, pid, soak):
        self.pid = pid
        self.soak = soak
        self.last = None
        self.window = []  # RSS read by poll() since the last sample

    def poll(self):
        try:
            self.window.append(int(proc_status(self.pid)["VmRSS"].split()[0]))
        except (OSError, KeyError):
            pass  # gone: the caller finds out

    def take(self, label, t):
        st = proc_status(self.pid)
        now = time.monotonic()
        ticks = cpu_ticks(self.pid)
        total, idle = machine_ticks()
        counters = self.soak.snapshot() if self.soak else {}
        rss = int(st["VmRSS"].split()[0])
        window = self.window + [rss]
        self.window = []
        s = {"label": label, "t": t, "rss_kib": rss, "rss_floor": min(window),
             "rss_peak": max(window), "fds": len(os.listdir(f"/proc/{self.pid}/fd")),
             "threads": int(st["Threads"]), "counters": counters, "mono": now, "ticks": ticks,
             "total": total, "idle": idle}
        if self.last:
            dt = now - self.last["mono"]
            s["server_cpu"] = 100.0 * (ticks - self.last["ticks"]) / CLK_TCK / dt
            dtotal = total - self.last["total"]
            s["idle_pct"] = 100.0 * (idle - self.last["idle"]) / dtotal if dtotal else 0.0
            s["rates"] = {k: (counters.get(k, 0) - self.last["counters"].get(k, 0)) / dt
                          for k in counters}
        self.last = s
        return s


RATE_COLUMNS = [  # column, counters added up
    ("calls/s", ["calls_cps", "calls_long"]),
    ("events/s", ["fanout_published", "ticks_published", "ingest_published"]),
    ("deliveries/s", ["fanout_delivered", "ticks_delivered"]),
    ("api/s", ["api_bench", "api_python"]),
    ("reconnects/s", ["reconnects", "conns_bench"]),
]


def rate(s, names):
    r = s.get("rates")
    return None if r is None else sum(r.get(n, 0.0) for n in names)


def row(s):
    cells = [s["label"], f"{s['t']:.0f}", f"{s['rss_kib']:,}", f"{s['rss_floor']:,}",
             f"{s['rss_peak']:,}", str(s["fds"]), str(s["threads"])]
    cells.append(f"{s['server_cpu']:.0f}" if "server_cpu" in s else "")
    cells.append(f"{s['idle_pct']:.0f}" if "idle_pct" in s else "")
    for _, names in RATE_COLUMNS:
        v = rate(s, names)
        cells.append("" if v is None or s["label"] in ("base", "final") else f"{v:,.0f}")
    return cells


HEADER = ["sample", "t (s)", "RSS (KiB)", "RSS floor", "RSS peak", "fds", "threads", "server CPU %", "machine idle %",
          *[c for c, _ in RATE_COLUMNS]]


def print_row(cells):
    widths = [6, 6, 10, 10, 10, 5, 7, 12, 14, 8, 9, 12, 7, 12]
    print("  ".join(c.rjust(w) for c, w in zip(cells, widths)), flush=True)


def slope_kib_per_min(samples):
    xs = [s["t"] / 60.0 for s in samples]
    ys = [s["rss_floor"] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def verdict(args, base, loaded, final, soak, server_problems):
    """(ok, lines): every check with its figures."""
    lines, ok = [], True

    def check(good, text):
        nonlocal ok
        ok = ok and good
        lines.append(f"{'PASS' if good else 'FAIL'}: {text}")

    n = len(loaded)
    warm = max(2, round(0.2 * n), sum(1 for s in loaded if s["t"] <= args.warmup_seconds + 1))
    if n - warm < 2:
        warm = max(0, n - 2)
    check(soak.error_count == 0, f"{soak.error_count} load error(s)")
    for p in server_problems:
        check(False, p)
    if final is None:
        return False, lines
    check(abs(final["fds"] - base["fds"]) <= args.fd_tolerance,
          f"fds after the load {final['fds']}, baseline {base['fds']} "
          f"(+-{args.fd_tolerance})")
    check(abs(final["threads"] - base["threads"]) <= args.thread_tolerance,
          f"threads after the load {final['threads']}, baseline {base['threads']} "
          f"(+-{args.thread_tolerance})")
    if n < 2:
        check(False, f"only {n} loaded sample(s): no RSS trend (duration / sample-every >= 2)")
        return ok, lines
    first, last = loaded[warm], loaded[-1]
    growth = last["rss_floor"] - first["rss_floor"]
    limit = max(args.rss_growth_mib * 1024, args.rss_growth_pct / 100.0 * first["rss_floor"])
    check(growth < limit,
          f"RSS floor growth {growth:+,} KiB from sample {first['label']} (after a {warm}-sample "
          f"warm-up) to sample {last['label']}, limit {limit:,.0f} KiB")
    post = loaded[warm:]
    half = post[len(post) // 2:]
    if len(half) >= args.rss_slope_samples:
        slope = slope_kib_per_min(half)
        span = (half[-1]["t"] - half[0]["t"]) / 60.0
        rising = all(b["rss_floor"] > a["rss_floor"] for a, b in zip(half, half[1:]))
        good = slope <= args.rss_slope_kib_per_min or slope * span <= args.rss_noise_kib
        check(good, f"RSS floor slope over samples {half[0]['label']}-{half[-1]['label']} "
                    f"{slope:+,.0f} KiB/min (limit {args.rss_slope_kib_per_min:,} KiB/min unless "
                    f"the rise it implies, {slope * span:+,.0f} KiB, is within "
                    f"{args.rss_noise_kib:,} KiB of noise); "
                    f"{'rising at every sample' if rising else 'not monotonic'}")
    else:
        lines.append(f"SKIP: RSS floor slope: the second half after the warm-up has {len(half)} "
                     f"sample(s), fewer than --rss-slope-samples {args.rss_slope_samples} "
                     "(too short a run for a trend; the growth check stands)")
    return ok, lines


def markdown(args, command, samples, ok, lines, soak, totals, seconds, meta):
    out = []
    out.append(f"Command: `{command}`\n")
    for k, v in meta.items():
        out.append(f"* {k}: {v}")
    out.append("")
    out.append("| " + " | ".join(HEADER) + " |")
    out.append("|" + "|".join("---:" for _ in HEADER) + "|")
    for s in samples:
        out.append("| " + " | ".join(row(s)) + " |")
    out.append("")
    out.append("`base`: before the load (after one priming connection); `final`: after the load "
               "stopped and the server was quiet. RSS is read at the sample; floor and peak are "
               "the lowest and highest of the once-a-second reads since the previous sample "
               "(the verdict uses the floor: in-flight buffers raise the peak, a leak raises the "
               "floor). Rates are the interval's averages.\n")
    out.append("Load totals over the loaded period "
               f"({seconds:.0f} s): " + ", ".join(f"{k} {v:,}" for k, v in totals.items()) + "\n")
    out.append(f"Verdict: **{'FLAT, no error' if ok else 'FAILED'}**\n")
    for line in lines:
        out.append(f"* {line}")
    if soak.errors:
        out.append("\nFirst errors:\n")
        out.append("```")
        out.extend(soak.errors[:30])
        out.append("```")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eventsocketd", help="server binary (started here unless --port is given)")
    p.add_argument("--esl-bench", required=True)
    p.add_argument("--conf", help="conf folder for the server started here")
    p.add_argument("--duration", type=float, required=True, help="seconds of load")
    p.add_argument("--sample-every", type=float, required=True, help="seconds between samples")
    p.add_argument("--report", help="write a markdown report here")
    p.add_argument("--port", type=int, help="use a running server on 127.0.0.1:PORT")
    p.add_argument("--pid", type=int, help="that server's pid (required with --port)")
    p.add_argument("--password", default="ClueCon")
    p.add_argument("--seed", default="soak")
    p.add_argument("--reconnectors", type=int, default=4, help="reconnecting client threads")
    p.add_argument("--reconnect-pause", type=float, default=0.15,
                   help="mean seconds between a reconnecting client's sessions")
    p.add_argument("--live-calls", type=int, default=8, help="long calls kept up at once")
    p.add_argument("--tick-rate", type=float, default=100, help="soak::tick events per second")
    p.add_argument("--bench-scale", type=float, default=1.0,
                   help="multiplies the size of every esl-bench run")
    p.add_argument("--bench-pause", type=float, default=1.0,
                   help="multiplies the mean pause between esl-bench runs")
    p.add_argument("--warmup-seconds", type=float, default=30,
                   help="the warm-up lasts at least this long (and 20%% of the samples, >= 2)")
    p.add_argument("--fd-tolerance", type=int, default=2)
    p.add_argument("--thread-tolerance", type=int, default=0)
    p.add_argument("--rss-growth-mib", type=float, default=8.0)
    p.add_argument("--rss-growth-pct", type=float, default=10.0)
    p.add_argument("--rss-slope-kib-per-min", type=int, default=256,
                   help="steepest RSS floor trend allowed over the second half (15 MiB/h)")
    p.add_argument("--rss-noise-kib", type=int, default=2048,
                   help="a trend whose rise over the second half is within this passes")
    p.add_argument("--rss-slope-samples", type=int, default=5,
                   help="fewest samples in the second half for the trend check")
    p.add_argument("--quiesce-timeout", type=float, default=30.0)
    args = p.parse_args()
    if args.port is not None and args.pid is None:
        p.error("--port needs --pid (the server's pid, for its RSS, fds and threads)")
    if args.port is None and not (args.eventsocketd and args.conf):
        p.error("give --eventsocketd and --conf (or --port and --pid of a running server)")
    if args.sample_every <= 0 or args.duration < args.sample_every:
        p.error("--duration must be at least --sample-every")

    command = "python3 bench/soak.py " + shlex.join(sys.argv[1:])
    daemon = None
    log = None
    if args.port is None:
        port = free_port()
        log = tempfile.NamedTemporaryFile(prefix="soak-eventsocketd-", suffix=".log",
                                          delete=False)
        daemon = subprocess.Popen([args.eventsocketd, "--conf", args.conf, "--listen-ip", HOST,
                                   "--listen-port", str(port), "--log-level", "err"],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        pid = daemon.pid
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    print(f"eventsocketd did not start (exit {daemon.poll()}), log {log.name}")
                    daemon.kill()
                    daemon.wait()
                    return 1
                time.sleep(0.05)
    else:
        port, pid = args.port, args.pid
    try:
        return run(args, command, port, pid, daemon, log)
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def run(args, command, port, pid, daemon, log):
    """The load, the samples and the verdict; the exit status."""
    server_problems = []
    started = datetime.datetime.now().astimezone()
    soak = Soak(args, port)
    sampler = Sampler(pid, soak)
    fresh = sampler.take("fresh", 0)
    # Priming: one connection doing one of each kind of thing, so that what a server sets up
    # once on first use is in the baseline (eventsocketd starts its scheduler thread at the
    # first scheduled task, which a sofia call's far end or sched_api makes).
    c = soak.connect()
    c.command("event plain ALL")
    c.command("api status")
    c.command("api originate null/soak-prime &hangup()")
    c.command("bgapi echo prime")
    c.command("sendevent CUSTOM\nEvent-Subclass: soak::prime")
    c.command("api sched_api +3600 soak_prime echo primed")
    c.command("api sched_del soak_prime")
    c.pump(0.5)
    c.command("exit")
    c.close()
    time.sleep(1.0)
    base = sampler.take("base", 0)
    print(f"eventsocketd pid {pid} on {HOST}:{port}; fresh: RSS {fresh['rss_kib']} KiB, "
          f"{fresh['fds']} fds, {fresh['threads']} threads; {os.cpu_count()} cores; "
          f"load {args.duration:.0f} s, sample every {args.sample_every:.0f} s", flush=True)
    print_row(HEADER)
    print_row(row(base))

    k, pause = args.bench_scale, args.bench_pause

    def n(x):
        return str(max(1, int(x * k)))

    publisher = TickPublisher(soak, args.tick_rate)
    subscribers = [
        TickSubscriber(soak, "tick-plain", publisher, ["event plain CUSTOM soak::tick"]),
        TickSubscriber(soak, "tick-json", publisher, ["event json CUSTOM soak::tick"]),
        TickSubscriber(soak, "tick-all", publisher, ["event plain ALL"]),
    ]
    workers = [
        BenchLoop(soak, "cps", [["cps", "--calls", n(200), "--subscribers", "1"],
                                ["cps", "--calls", n(100), "--subscribers", "2"]],
                  1.5 * pause, {"calls_cps": "ok"}),
        BenchLoop(soak, "fanout",
                  [["fanout", "--subscribers", "4", "--events", n(3000)],
                   ["fanout", "--subscribers", "8", "--events", n(1500), "--format", "json",
                    "--size", "600"],
                   ["fanout", "--subscribers", "2", "--events", n(3000), "--size", "200"]],
                  2.0 * pause, {"fanout_published": "events", "fanout_delivered": "delivered"}),
        BenchLoop(soak, "api",
                  [["api", "--requests", n(1500)],
                   ["api", "--requests", n(3000), "--pipeline", "16", "--command", "api status"],
                   ["api", "--requests", n(500), "--pipeline", "4", "--command",
                    "api show channels"],
                   (["ingest", "--events", n(3000), "--size", "300"],
                    {"ingest_published": "replies"})],
                  1.5 * pause, {"api_bench": "replies"}),
        BenchLoop(soak, "conns", [["conns", "--connections", n(100), "--rate", "1000",
                                   "--idle", "0.5"]],
                  5.0 * pause, {"conns_bench": "answered"}),
        CallsWorker(soak, args.live_calls),
        *[Reconnector(soak, f"reconnect-{i}", args.reconnect_pause)
          for i in range(args.reconnectors)],
    ]
    samples = [base]
    loaded = []
    final = None
    interrupted = False
    for s in subscribers:
        s.start()
    for s in subscribers:
        s.ready.wait(10)
    start = time.monotonic()
    sampler.take("-", 0)  # rates from here
    for w in [publisher, *workers]:
        w.start()
    try:
        i = 0
        while True:
            i += 1
            due = start + i * args.sample_every
            if due > start + args.duration + 0.01:
                break
            while time.monotonic() < due:
                time.sleep(min(1.0, max(0.0, due - time.monotonic())))
                if not alive(pid):
                    break
                sampler.poll()
            if not alive(pid):
                server_problems.append(f"the server died during the load "
                                       f"(exit {daemon.poll() if daemon else '?'})")
                break
            s = sampler.take(str(i), time.monotonic() - start)
            samples.append(s)
            loaded.append(s)
            print_row(row(s))
    except KeyboardInterrupt:
        interrupted = True
        server_problems.append("interrupted")
    loaded_seconds = time.monotonic() - start
    totals = soak.snapshot()

    print("stopping the load ...", flush=True)
    soak.stop.set()
    for w in [publisher, *workers, *subscribers]:
        w.join(120)
        if w.is_alive():
            soak.error(w.name, "did not stop within 120 s (hung on the server?)")

    alive_after_load = alive(pid)
    if alive_after_load:
        # Quiet: no channel left, fds and threads back (or the timeout).
        deadline = time.monotonic() + args.quiesce_timeout
        channels = None
        while True:
            try:
                c = soak.connect()
                channels = c.command("api show channels count").strip()
                c.command("exit")
                c.close()
            except (OSError, Disconnected, TimeoutError, RuntimeError) as e:
                channels = f"error: {e}"
            time.sleep(0.5)
            st = proc_status(pid)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            if ((channels == "0 total." and abs(fds - base["fds"]) <= args.fd_tolerance
                 and abs(int(st["Threads"]) - base["threads"]) <= args.thread_tolerance)
                    or time.monotonic() > deadline):
                break
            time.sleep(0.5)
        if channels != "0 total.":
            server_problems.append(f"after the load: `show channels count` gave {channels!r}")
        final = sampler.take("final", time.monotonic() - start)
        samples.append(final)
        print_row(row(final))
    else:
        server_problems.append("the server is not running after the load")

    if daemon is not None:
        if daemon.poll() is None:
            daemon.terminate()
        try:
            rc = daemon.wait(timeout=15)
            if rc not in (0, -15) and alive_after_load:
                server_problems.append(f"the server exited {rc} on SIGTERM")
        except subprocess.TimeoutExpired:
            server_problems.append("the server did not stop within 15 s of SIGTERM")
            daemon.kill()
            daemon.wait()
        log.close()
        with open(log.name, errors="replace") as f:
            log_lines = f.read().splitlines()
        if log_lines:
            print(f"server log ({len(log_lines)} lines, {log.name}), last lines:")
            for line in log_lines[-10:]:
                print("  " + line)
        else:
            os.unlink(log.name)

    ok, lines = verdict(args, base, loaded, final, soak, server_problems)
    ok = ok and not interrupted
    shown = {
        "calls": totals.get("calls_cps", 0) + totals.get("calls_long", 0),
        "long calls": totals.get("calls_long", 0),
        "originates failing as expected": totals.get("calls_failed_as_expected", 0),
        "events published": totals.get("fanout_published", 0) + totals.get("ticks_published", 0)
        + totals.get("ingest_published", 0),
        "events delivered (checked)": totals.get("fanout_delivered", 0)
        + totals.get("ticks_delivered", 0),
        "api commands": totals.get("api_bench", 0) + totals.get("api_python", 0),
        "client sessions (reconnecting threads)": totals.get("reconnects", 0),
        "esl-bench conns connections": totals.get("conns_bench", 0),
    }
    print("load totals: " + ", ".join(f"{k} {v:,} ({v / loaded_seconds:,.1f}/s)"
                                      for k, v in shown.items()))
    print("scenarios: " + ", ".join(f"{k[9:]} {v}" for k, v in sorted(totals.items())
                                    if k.startswith("scenario_")))
    for line in lines:
        print(line)
    if soak.errors:
        print(f"{soak.error_count} error(s), first ones:")
        for e in soak.errors[:20]:
            print("  " + e)
    print("VERDICT: " + ("FLAT, no error" if ok else "FAILED"), flush=True)

    if args.report:
        meta = {
            "date": started.strftime("%Y-%m-%d %H:%M %Z") + " to "
            + datetime.datetime.now().astimezone().strftime("%H:%M %Z"),
            "cores (nproc)": os.cpu_count(),
            "server": args.eventsocketd or f"pid {pid}",
            "rates (average over the loaded period)": ", ".join(
                f"{k} {v / loaded_seconds:,.1f}/s" for k, v in shown.items()),
        }
        with open(args.report, "w") as f:
            f.write(markdown(args, command, samples, ok, lines, soak, shown, loaded_seconds,
                             meta))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
