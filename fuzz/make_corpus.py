#!/usr/bin/env python3
"""Writes libFuzzer seed corpora taken from the conformance transcripts.

Each seed is written as OUT_DIR/<sha256 of its bytes>, so reruns and duplicates are free.

  command  one seed per NN_name.c2s.txt (raw client bytes) per prefix in WIRE_PREFIXES
  packet   one seed per NN_name.s2c.txt (raw server bytes) per prefix in WIRE_PREFIXES
  plain    every text/event-plain body found in the s2c files, plus the event each
           `sendevent` command in the c2s files carries (its header lines and body)
  json     every text/event-json body found in the s2c files
  xml      every text/event-xml body found in the s2c files
  session  one seed per NN_name.c2s.txt, the raw client bytes (a whole conversation)
  clientpacket  one seed per NN_name.s2c.txt per prefix in CLIENT_PREFIXES (what a client
           reads; client_protocol_fuzz.cpp)
  dialstring  the dial strings and originate arguments of DIAL_SEEDS
  dialplan    every conf/dialplan/*.xml of the repository (found from the data directory)

With --kind all, each kind goes to OUT_DIR/<kind>/. Standard library only.
"""

import argparse
import hashlib
import pathlib
import re
import sys

KINDS = ("command", "packet", "plain", "json", "xml", "session", "dialstring", "dialplan",
         "clientpacket")

# Dial strings and originate arguments in FreeSWITCH's syntax (the parser's test cases).
DIAL_SEEDS = (
    b"{origination_uuid=1234}loopback/9196 &park()",
    b"{a=b,c='x,y'}[d=e]sofia/internal/1000@127.0.0.1,[f=g]user/1001|error/USER_BUSY",
    b"null/x &hangup(USER_BUSY)",
    b"loopback/9196/default/XML 9664 xml default 'Alice' 1000 30",
    b"{^^:a=b:c=d}sofia/external/busy@127.0.0.1 &socket(127.0.0.1:8084 async full)",
    b"user/1000@127.0.0.1 &bridge({x=y}loopback/9196)",
)

# The wire fuzzers read two control bytes before the stream (wire_parser_fuzz.hpp):
# slicing (0 = one feed, n = slices of 1..n bytes) and the Limits profile (0..3).
WIRE_PREFIXES = (b"\x00\x00", b"\x01\x01", b"\x40\x02", b"\x07\x03")

# client_protocol_fuzz reads three control bytes first: queue bound, read size, replies
# awaited.
CLIENT_PREFIXES = (b"\x0f\x3f\x07", b"\x00\x00\x03", b"\x03\x07\x01")

EVENT_CONTENT_TYPES = {
    b"text/event-plain": "plain",
    b"text/event-json": "json",
    b"text/event-xml": "xml",
}

BLOCK_END = re.compile(rb"\n\r*\n")
LEADING_INT = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")


# The socket application's arguments (parsed by the same fuzz target as dial strings).
SOCKET_SEEDS = [
    b"127.0.0.1:8084 async full",
    b"127.0.0.1:9000|127.0.0.2 full",
    b"'127.0.0.1:9000/path' ASYNC",
    b"::1:9000",
]


def c_atoi(value):
    match = LEADING_INT.match(value)
    return int(match.group(1)) if match else 0


def split_packets(data):
    """Yields (block, headers, body) for each packet, read as libesl reads them: line breaks
    before a packet skipped, LF or CRLF lines, the first Content-Length gives the body."""
    pos = 0
    while True:
        while pos < len(data) and data[pos] in b"\r\n":
            pos += 1
        if pos >= len(data):
            return
        end = BLOCK_END.search(data, pos)
        if end is None:
            return
        block = data[pos:end.end()]
        headers = []
        for line in block.split(b"\n"):
            if line.endswith(b"\r"):
                line = line[:-1]
            name, colon, value = line.partition(b":")
            if colon:
                headers.append((name, value.lstrip(b" ")))
        length = 0
        for name, value in headers:
            if name.lower() == b"content-length":
                length = max(0, c_atoi(value))
                break
        body = data[end.end():end.end() + length]
        pos = end.end() + length
        yield block, headers, body


def header(headers, wanted):
    for name, value in headers:
        if name.lower() == wanted.lower():
            return value
    return None


def event_bodies(s2c):
    """(kind, serialized event) for each event packet of a server transcript."""
    for _, headers, body in split_packets(s2c):
        kind = EVENT_CONTENT_TYPES.get((header(headers, b"Content-Type") or b"").strip())
        if kind is not None and body:
            yield kind, body


def sendevent_events(c2s):
    """The plain event each `sendevent` command carries: its header lines, then its body."""
    for block, headers, body in split_packets(c2s):
        if not block.lower().startswith(b"sendevent"):
            continue
        lines = block.split(b"\n", 1)
        if len(lines) == 2 and lines[1].strip(b"\r\n"):
            yield lines[1] + body


def collect(data_dir):
    seeds = {kind: [] for kind in KINDS}
    c2s_files = sorted(data_dir.glob("*.c2s.txt"))
    s2c_files = sorted(data_dir.glob("*.s2c.txt"))
    if not c2s_files or not s2c_files:
        raise SystemExit(f"make_corpus.py: no *.c2s.txt / *.s2c.txt files in {data_dir}")
    for path in c2s_files:
        data = path.read_bytes()
        seeds["command"].extend(prefix + data for prefix in WIRE_PREFIXES)
        seeds["session"].append(data)
        if "outbound" in path.name:
            # server_session_fuzz: a first byte with the high bit set is the outbound mode
            # (0x40 async, 0x20 full), not fed to the session.
            seeds["session"].extend(bytes([mode]) + data for mode in (0x80, 0xC0, 0xE0))
        seeds["plain"].extend(sendevent_events(data))
    seeds["dialstring"].extend(DIAL_SEEDS)
    seeds["dialstring"].extend(SOCKET_SEEDS)
    dialplan_dir = data_dir.resolve().parent.parent.parent / "conf" / "dialplan"
    seeds["dialplan"].extend(p.read_bytes() for p in sorted(dialplan_dir.glob("*.xml")))
    for path in s2c_files:
        data = path.read_bytes()
        seeds["packet"].extend(prefix + data for prefix in WIRE_PREFIXES)
        seeds["clientpacket"].extend(prefix + data for prefix in CLIENT_PREFIXES)
        for kind, body in event_bodies(data):
            seeds[kind].append(body)
    return seeds


def write_seeds(out_dir, seeds):
    out_dir.mkdir(parents=True, exist_ok=True)
    written = set()
    for seed in seeds:
        name = hashlib.sha256(seed).hexdigest()
        if name not in written:
            (out_dir / name).write_bytes(seed)
            written.add(name)
    return len(written)


def main(argv):
    default_data = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "conformance"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=pathlib.Path, help="corpus directory to write")
    parser.add_argument("--kind", choices=KINDS + ("all",), default="all")
    parser.add_argument("--data-dir", type=pathlib.Path, default=default_data,
                        help="conformance transcripts (default: %(default)s)")
    args = parser.parse_args(argv)

    seeds = collect(args.data_dir)
    kinds = KINDS if args.kind == "all" else (args.kind,)
    for kind in kinds:
        if not seeds[kind]:
            raise SystemExit(f"make_corpus.py: no {kind} seeds found in {args.data_dir}")
        out_dir = args.out_dir / kind if args.kind == "all" else args.out_dir
        count = write_seeds(out_dir, seeds[kind])
        print(f"make_corpus.py: {count} {kind} seeds in {out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
