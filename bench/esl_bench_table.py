#!/usr/bin/env python3
"""Runs the esl-bench workloads of docs/PERFORMANCE.md ("esl-bench: FreeSWITCH vs eventsocketd")
against a fresh eventsocketd on 127.0.0.1, several runs each, and prints every result line and
the median of each workload's figure.

The machine is shared: before each run it waits until the 1-minute load average is below
--max-load (our own previous run counts too, so this also spaces the runs) and, over 3 s, less
than --max-busy (10%) of the cores is in use (the load average lags behind a build that has just
started). During the run it measures the daemon's CPU, esl-bench's and "other", the CPU used
by anything else (each as a share of all cores); a run with other >= --max-busy is printed as
DISTURBED, not counted, and retried (at most twice as many attempts as --runs).

Usage: bench/esl_bench_table.py [--build build] [--port 8021] [--runs 3] [--only name,...]
                                [--daemon-arg=--threads=1 ...]
"""
import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time

# name, esl-bench arguments, the figure compared, fresh daemon for every run
WORKLOADS = [
    ("api_seq", ["api", "--requests", "50000"], "round_trips_per_s", False),
    ("api_pipe64", ["api", "--requests", "1000000", "--pipeline", "64"], "commands_per_s", False),
    ("ingest_100", ["ingest", "--events", "500000", "--size", "100"], "commands_per_s", False),
    ("ingest_600", ["ingest", "--events", "500000", "--size", "600"], "commands_per_s", False),
    ("fanout_1", ["fanout", "--subscribers", "1", "--events", "100000"], "events_per_s", False),
    ("fanout_10", ["fanout", "--subscribers", "10", "--events", "100000"], "deliveries_per_s",
     False),
    ("fanout_10_burst3000", ["fanout", "--subscribers", "10", "--events", "3000"],
     "deliveries_per_s", False),
    ("fanout_100", ["fanout", "--subscribers", "100", "--events", "100000"], "deliveries_per_s",
     False),
    ("fanout_100_json", ["fanout", "--subscribers", "100", "--events", "100000", "--format",
                         "json"], "deliveries_per_s", False),
    ("conns_10000", ["conns", "--connections", "10000", "--server-pid", "{pid}"],
     "rss_per_conn_kib", True),
    ("cps_1", ["cps", "--calls", "20000", "--subscribers", "1"], "calls_per_s", False),
    # A slow consumer's cost to the others: fanout_10 plus one subscriber that never reads,
    # disconnected by FreeSWITCH's policy, or kept and told of its gaps (gap_notices on).
    ("fanout_10_stalled_kill", ["fanout", "--subscribers", "10", "--events", "100000",
                                "--stalled", "1", "--server-pid", "{pid}"],
     "deliveries_per_s", False),
    ("fanout_10_stalled_gaps", ["fanout", "--subscribers", "10", "--events", "100000",
                                "--stalled", "1", "--stalled-gap-notices", "--server-pid",
                                "{pid}"], "deliveries_per_s", False),
]


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_busy(seconds=3.0):
    """Share of all cores in use over `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]  # guest time is already in user
        idle = v[3] + v[4]
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def stat_totals():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]  # guest time is already in user
    return sum(v), v[3] + v[4]


def process_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def children_ticks():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * os.sysconf("SC_CLK_TCK")


def wait_quiet(max_load, max_busy, max_wait):
    """Waits until the load average is below max_load and, over 3 s, less than max_busy of the
    cores is in use (the load average lags: a build that has just started does not show yet).
    Returns the seconds waited and the busy share last measured."""
    start = time.time()
    while True:
        busy = cpu_busy()
        if (load_average() < max_load and busy < max_busy) or time.time() - start > max_wait:
            return time.time() - start, busy
        time.sleep(7)


def start_daemon(build, port, extra):
    d = subprocess.Popen([f"{build}/apps/eventsocketd", "--conf", "conf", "--listen-ip",
                          "127.0.0.1", "--listen-port", str(port), "--log-level", "err"] + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(1)  # let it settle before RSS is read
    return d


def stop_daemon(d):
    d.terminate()
    try:
        d.wait(timeout=20)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--port", type=int, default=8021)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--max-load", type=float, default=1.0)
    ap.add_argument("--daemon-arg", action="append", default=[],
                    help="extra eventsocketd argument (repeat), e.g. --daemon-arg=--threads=1")
    ap.add_argument("--max-busy", type=float, default=0.10)
    ap.add_argument("--max-wait", type=float, default=1800)
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    medians = []
    for name, bench_args, key, fresh in WORKLOADS:
        if only and name not in only:
            continue
        values = []
        daemon = None
        attempts = 0
        while len(values) < args.runs and attempts < 2 * args.runs:
            attempts += 1
            if daemon is None or fresh:
                if daemon is not None:
                    stop_daemon(daemon)
                daemon = start_daemon(args.build, args.port, args.daemon_arg)
            waited, busy = wait_quiet(args.max_load, args.max_busy, args.max_wait)
            load = load_average()
            cmd = [f"{args.build}/bench/esl-bench", "--port", str(args.port)] + [
                a.replace("{pid}", str(daemon.pid)) for a in bench_args]
            # The CPU used by anything but the daemon and esl-bench during the run ("other").
            t0, i0 = stat_totals()
            d0, c0 = process_ticks(daemon.pid), children_ticks()
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            t1, i1 = stat_totals()
            d1, c1 = process_ticks(daemon.pid), children_ticks()
            total = max(1, t1 - t0)
            other = max(0.0, ((t1 - t0) - (i1 - i0) - (d1 - d0) - (c1 - c0)) / total)
            daemon_share, bench_share = (d1 - d0) / total, (c1 - c0) / total
            line = r.stdout.strip()
            fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
            clean = other < args.max_busy
            print(f"{name} attempt {attempts} {time.strftime('%H:%M:%S')} load={load:.2f} "
                  f"busy_before={busy * 100:.0f}% waited={waited:.0f}s "
                  f"daemon={daemon_share * 100:.0f}% esl-bench={bench_share * 100:.0f}% "
                  f"other={other * 100:.0f}%"
                  f"{'' if clean else ' (DISTURBED, not counted)'} exit={r.returncode}: {line}",
                  flush=True)
            if key in fields and clean:
                values.append(float(fields[key]))
            time.sleep(5)
        stop_daemon(daemon)
        if values:
            medians.append((name, key, statistics.median(values), values))
    print()
    for name, key, median, values in medians:
        print(f"{name}: median {key} = {median:,.1f} (runs: {', '.join(f'{v:,.1f}' for v in values)})")


if __name__ == "__main__":
    sys.exit(main())
