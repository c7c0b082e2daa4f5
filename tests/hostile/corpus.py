"""The hostile input corpus: every case is a dict, built here with a few helpers.

A case:
  name         unique
  category     one of CATEGORIES
  description  one line
  auth         True: the runner sends `auth ClueCon` first (after checking the greeting)
  greeting     False: the runner reads nothing at connect (the case checks it); default True
  input        the steps (see below), run in order on the case's own connections
  expect       the outcome on the main connection after the input:
                 packets  server packets expected, in order (matchers, below)
                 end      "closed"  the server closes within within_ms, nothing else sent
                          "open"    nothing else arrives for a while, then a probe command
                                    still works (probe: "authed" or "unauthed")
                          "pending" nothing else arrives and the server keeps waiting
                          "none"    the case closed its own socket (only the canary, fd and
                                    RSS checks say something)
  requires     a flag (or list) that must appear in `eventsocketd --help`; else SKIP
  server_args  extra flags: the case runs on its own eventsocketd started with them
  exclusive    run alone (floods, timing), not next to other cases
  ignore_events  event and log/data packets on the case's connections are not compared
  known_failure  the server is believed wrong here: a failure is reported as XFAIL

Steps (dicts with "op"); "conn" names a connection, default "main":
  send(data, chunk=, delay_ms=)   bytes, optionally in chunks of `chunk` bytes with a delay
  shut_wr()                       shutdown(SHUT_WR): the half-close
  sleep(ms)
  expect(*packets, within_ms=, min_ms=, since=)   intermediate check
  silence(ms)                     no byte and no close for ms
  closed(within_ms)               EOF (or reset) and no further byte
  connect(conn, auth=, greeting=, source=)        another connection
  close(conn, reset=)             close it (reset: RST via SO_LINGER 0)
  probe(conn, authed=)            the connection still answers
  release()                       close the connections held by floods
  mark(name)                      a time mark for min_ms
  canary(within_ms=)              the canary check, in the middle of the case: its event must
                                  arrive within within_ms
  flood(...)                      many connections at once (see the runner)
  log_lines_at_most(n)            eventsocketd's stderr grew by at most n lines in this case
  rss_growth_at_most(kib)         eventsocketd's VmRSS grew by at most kib in this case
  {"op": "expect_accounted", "conn", "count", "min_dropped", "within_ms"}
                                  until an event with X-N: marker, each of count events was
                                  delivered or counted by an eventsocket::gap notice
  {"op": "expect_events", "conn", "subclass", "count", "within_ms"}
                                  count CUSTOM events of that subclass arrive, their X-Seq
                                  headers 0..count-1 in order (other packets are skipped)

Matchers: reply(text) / reply_re(regex) for command/reply, api(body) / api_re(regex) for
api/response, GOODBYE (the 67-byte disconnect notice), DISCONNECT (any disconnect notice),
AUTH_REQUEST, BGAPI_OK, rude_re(regex); each compares the whole header list, in order.
Bytes are Python bytes literals: b"\\x00" is NUL, b"\\xff" a high byte, b"\\r" CR.
"""
import re

CATEGORIES = [
    "oversized",
    "content-length",
    "nul-high-bytes",
    "missing-blank-line",
    "half-close",
    "split-packets",
    "connection-flood",
    "auth-brute-force",
    "slowloris",
    "command-rate",
    "slow-consumer",
    "regex-filter",
    "line-endings",
]

GOODBYE_BODY = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


# ---- matchers -------------------------------------------------------------------------

def _hdrs(*pairs):
    return [list(p) for p in pairs]


def reply(text):
    """command/reply with exactly this Reply-Text (str, latin-1)."""
    return {"what": f"reply {text!r}",
            "headers": _hdrs(("Content-Type", "command/reply"), ("Reply-Text", text))}


def reply_re(regex):
    return {"what": f"reply ~{regex!r}",
            "names": ["Content-Type", "Reply-Text"],
            "match": {"Content-Type": r"command/reply", "Reply-Text": regex}}


def api(body):
    return {"what": f"api/response {body[:60]!r}{'...' if len(body) > 60 else ''}",
            "headers": _hdrs(("Content-Type", "api/response"), ("Content-Length", str(len(body)))),
            "body": body}


def api_re(regex):
    return {"what": f"api/response ~{regex!r}",
            "names": ["Content-Type", "Content-Length"],
            "match": {"Content-Type": r"api/response"}, "body_re": regex}


def rude_re(regex):
    return {"what": f"text/rude-rejection ~{regex!r}",
            "names": ["Content-Type", "Content-Length"],
            "match": {"Content-Type": r"text/rude-rejection"}, "body_re": regex}


def optional(matcher):
    return {**matcher, "optional": True}


AUTH_REQUEST = {"what": "auth/request", "headers": _hdrs(("Content-Type", "auth/request"))}
GOODBYE = {"what": "goodbye notice",
           "headers": _hdrs(("Content-Type", "text/disconnect-notice"),
                            ("Content-Length", str(len(GOODBYE_BODY)))),
           "body": GOODBYE_BODY}
DISCONNECT = {"what": "any disconnect notice", "names": ["Content-Type", "Content-Length"],
              "match": {"Content-Type": r"text/disconnect-notice"}, "body_re": rb".+"}
LOG_KILLED = {"what": "lost-log-lines kill notice",
              "headers": _hdrs(("Content-Type", "text/disconnect-notice"), ("Content-Length", "42")),
              "body": b"killed listener because of lost log lines\n"}
KILLED = {"what": "lost-events kill notice",
          "headers": _hdrs(("Content-Type", "text/disconnect-notice"), ("Content-Length", "39")),
          "body": b"killed listener because of lost events\n"}
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BGAPI_OK = {"what": "bgapi +OK Job-UUID",
            "names": ["Content-Type", "Reply-Text", "Job-UUID"],
            "match": {"Content-Type": "command/reply", "Reply-Text": r"\+OK Job-UUID: " + UUID_RE,
                      "Job-UUID": UUID_RE}}
SENDEVENT_OK = reply_re(r"\+OK " + UUID_RE)
NOT_FOUND = reply("-ERR command not found")
ACCEPTED = reply("+OK accepted")
INVALID = reply("-ERR invalid")
# A rejection for too many connections: the body must say so.
RUDE_TOO_MANY = rude_re(rb"(?i).*too many.*")
RUDE_ANY = rude_re(rb".+")


# ---- steps ----------------------------------------------------------------------------

def send(data, chunk=None, delay_ms=0, conn="main"):
    step = {"op": "send", "data": data, "conn": conn}
    if chunk:
        step["chunk"] = chunk
        step["delay_ms"] = delay_ms
    return step


def shut_wr(conn="main"):
    return {"op": "shutdown_write", "conn": conn}


def sleep(ms):
    return {"op": "sleep", "ms": ms}


def expect(*packets, within_ms=2000, conn="main", min_ms=None, since=None):
    step = {"op": "expect", "packets": list(packets), "within_ms": within_ms, "conn": conn}
    if min_ms is not None:
        step["min_ms"] = min_ms
        step["since"] = since
    return step


def silence(ms, conn="main"):
    return {"op": "silence", "ms": ms, "conn": conn}


def closed(within_ms=2000, conn="main"):
    return {"op": "closed", "within_ms": within_ms, "conn": conn}


def connect(conn, auth=False, greeting=True, source=None):
    return {"op": "connect", "conn": conn, "auth": auth, "greeting": greeting, "source": source}


def close(conn="main", reset=False):
    return {"op": "close", "conn": conn, "reset": reset}


def probe(conn="main", authed=True):
    return {"op": "probe", "conn": conn, "authed": authed}


def release():
    """Close the connections a flood holds."""
    return {"op": "release"}


def mark(name):
    return {"op": "mark", "name": name}


def canary(within_ms=3000):
    return {"op": "canary", "within_ms": within_ms}


def flood(count, **kw):
    """count connections; kw (all optional):
    concurrency  how many are being set up at once (default: all)
    source       local address to connect from
    greeting     each expects auth/request first (default True)
    auth         each authenticates
    send         bytes each one sends (b"%d" is replaced by its index when fmt=True)
    send_first   send them right after connecting, before reading the greeting
    fmt          format send with the connection's index
    shut_wr      half-close after sending
    reset        close with RST right after sending (nothing is read)
    close_now    close right after connecting, without reading anything
    packets      the packets each one must then receive
    end          "closed" | "open" | "none" (default "none": closed by the runner)
    hold         keep them open until the end of the case
    accepted_min / accepted_max   with rejections allowed: how many may be accepted
                 (accepted_per_s: plus that many per second the flood took);
    reject       the packets a refused connection gets (then it must be closed)
    """
    return {"op": "flood", "count": count, **kw}


def log_lines_at_most(n):
    return {"op": "log_lines_at_most", "n": n}


def rss_growth_at_most(kib):
    return {"op": "rss_growth_at_most", "kib": kib}


def case(name, category, description, inp, packets=(), end="open", auth=True, within_ms=2000,
         probe_authed=None, **extra):
    c = {"name": name, "category": category, "description": description, "auth": auth,
         "input": list(inp),
         "expect": {"packets": list(packets), "end": end, "within_ms": within_ms}}
    if end == "open":
        c["expect"]["probe"] = "authed" if (auth if probe_authed is None else probe_authed) \
            else "unauthed"
    c.update(extra)
    return c


# ---- the corpus -----------------------------------------------------------------------

def _oversized():
    O = "oversized"
    hdrs = lambda n: b"".join(b"H%d: v\n" % i for i in range(n))
    return [
        # Before auth: 64 KiB lines and blocks, 64 lines (the command line counts, as the
        # `Command` header it is in FreeSWITCH), 64 KiB bodies.
        case("unauth_line_70k_unterminated", O, "70000-byte line with no line break before auth",
             [send(b"x" * 70000)], [GOODBYE], "closed", auth=False),
        case("unauth_line_70k_terminated", O, "70000-byte command line before auth",
             [send(b"x" * 70000 + b"\n\n")], [GOODBYE], "closed", auth=False),
        case("unauth_line_60k", O, "60000-byte command line before auth is within the limit",
             [send(b"x" * 60000 + b"\n\n")], [NOT_FOUND], auth=False),
        case("unauth_password_60k", O, "auth with a 60000-byte password: a plain wrong password",
             [send(b"auth " + b"p" * 60000 + b"\n\n")], [INVALID, GOODBYE], "closed", auth=False),
        case("unauth_password_70k", O, "auth with a 70000-byte password breaks the line limit",
             [send(b"auth " + b"p" * 70000 + b"\n\n")], [GOODBYE], "closed", auth=False),
        case("unauth_63_headers", O, "command line + 63 headers before auth (64 lines)",
             [send(b"x\n" + hdrs(63) + b"\n")], [NOT_FOUND], auth=False),
        case("unauth_64_headers", O, "command line + 64 headers before auth (65 lines)",
             [send(b"x\n" + hdrs(64) + b"\n")], [GOODBYE], "closed", auth=False),
        case("unauth_1000_headers", O, "1000 headers before auth",
             [send(b"auth ClueCon\n" + hdrs(1000) + b"\n")], [GOODBYE], "closed", auth=False),
        case("unauth_block_70k_long_headers", O,
             "10 header lines of 7000 bytes (70 KiB block, short lines) before auth",
             [send(b"auth ClueCon\n" + (b"H: " + b"v" * 7000 + b"\n") * 10 + b"\n")],
             [GOODBYE], "closed", auth=False),
        case("unauth_block_55k_long_headers", O, "8 header lines of 7000 bytes before auth is fine",
             [send(b"auth ClueCon\n" + (b"H: " + b"v" * 7000 + b"\n") * 8 + b"\n")],
             [ACCEPTED], auth=False, probe_authed=True),
        case("unauth_garbage_1MiB", O, "1 MiB of garbage with no line break before auth",
             [send(b"\xaa" * (1 << 20))], [GOODBYE], "closed", auth=False),
        case("unauth_garbage_lines_4MiB", O, "4 MiB of 100-byte lines, never a blank line, before auth",
             [send((b"y" * 99 + b"\n") * 41943)], [GOODBYE], "closed", auth=False),
        case("unauth_content_length_70000", O, "auth with Content-Length 70000 (over 64 KiB) before auth",
             [send(b"auth ClueCon\nContent-Length: 70000\n\n")], [GOODBYE], "closed", auth=False),
        case("unauth_content_length_60000", O, "auth with a 60000-byte body is within the limit",
             [send(b"auth ClueCon\nContent-Length: 60000\n\n" + b"b" * 60000)], [ACCEPTED],
             auth=False, probe_authed=True),
        case("unauth_1MiB_blank_lines", O, "1 MiB of LF before auth: leading blank lines are skipped",
             [send(b"\n" * (1 << 20) + b"auth ClueCon\n\n")], [ACCEPTED], auth=False,
             probe_authed=True),
        case("auth_pipelined_with_1MB_command", O,
             "auth and a 1 MB api command in one write: the bigger limits apply from the 2nd command",
             [send(b"auth ClueCon\n\napi echo " + b"B" * 1000000 + b"\n\n")],
             [ACCEPTED, api(b"B" * 1000000)], auth=False, probe_authed=True, within_ms=5000),
        case("unauth_1MiB_cr", O, "1 MiB of CR before auth: leading line breaks are skipped",
             [send(b"\r" * (1 << 20) + b"auth ClueCon\n\n")], [ACCEPTED], auth=False, probe_authed=True),
        case("unauth_1000_pipelined", O, "1000 pipelined unknown commands before auth, one reply each",
             [send(b"x\n\n" * 1000)], [NOT_FOUND] * 1000, auth=False),
        # Authenticated: 1 MiB lines, 10000 lines, 10 MiB blocks, 16 MiB bodies.
        case("auth_line_1MiB", O, "api echo with an argument just under 1 MiB",
             [send(b"api echo " + b"a" * ((1 << 20) - 20) + b"\n\n")],
             [api(b"a" * ((1 << 20) - 20))], within_ms=5000),
        case("auth_line_over_1MiB", O, "a command line over 1 MiB",
             [send(b"api echo " + b"a" * ((1 << 20) + 10) + b"\n\n")], [GOODBYE], "closed"),
        case("auth_header_line_over_1MiB", O, "a header line over 1 MiB",
             [send(b"api echo a\nX: " + b"b" * ((1 << 20) + 10) + b"\n\n")], [GOODBYE], "closed"),
        case("auth_9999_headers", O, "command + 9999 headers (10000 lines)",
             [send(b"api echo a\n" + hdrs(9999) + b"\n")], [api(b"a")]),
        case("auth_10000_headers", O, "command + 10000 headers (10001 lines)",
             [send(b"api echo a\n" + hdrs(10000) + b"\n")], [GOODBYE], "closed"),
        case("auth_block_over_10MiB", O, "a 10.5 MiB header block of 100 KB lines",
             [send(b"api echo a\n" + (b"H: " + b"v" * 100000 + b"\n") * 105 + b"\n")],
             [GOODBYE], "closed", within_ms=5000),
        case("auth_body_16MiB", O, "api with a body of exactly 16 MiB, then a command",
             [send(b"api echo a\nContent-Length: 16777216\n\n" + b"z" * 16777216
                   + b"api echo after\n\n")],
             [api(b"a"), api(b"after")], within_ms=8000),
        case("auth_argument_20000", O, "a 20000-byte api argument (FreeSWITCH accepts it)",
             [send(b"api echo " + b"q" * 20000 + b"\n\n")], [api(b"q" * 20000)]),
        case("auth_header_9000", O, "a 9000-byte header line (FreeSWITCH accepts it)",
             [send(b"api echo a\nX-Long: " + b"h" * 9000 + b"\n\n")], [api(b"a")]),
        case("auth_reply_text_2000", O, "a filter echoing 2000 bytes: Reply-Text cut at 511 bytes",
             [send(b"filter Event-Name " + b"x" * 2000 + b"\n\n")],
             [reply(("+OK filter added. [Event-Name]=[" + "x" * 2000)[:511])]),
        case("auth_bgapi_job_uuid_300", O, "bgapi with a 300-byte Job-UUID: a well-formed reply, value cut at 256",
             [send(b"bgapi echo x\nJob-UUID: " + b"j" * 300 + b"\n\n")],
             [{"what": "bgapi reply with a 256-byte Job-UUID",
               "names": ["Content-Type", "Reply-Text", "Job-UUID"],
               "match": {"Content-Type": "command/reply", "Reply-Text": r"\+OK Job-UUID: j{256}",
                         "Job-UUID": r"j{256}"}}]),
        case("auth_10000_subclasses", O, "event plain CUSTOM with 10000 subclass names",
             [send(b"event plain CUSTOM " + b" ".join(b"hostile::sub%d" % i for i in range(10000)) + b"\n\n")],
             [reply("+OK event listener enabled plain")], ignore_events=True),
        case("auth_5000_filters", O, "5000 filters on one connection, one reply each",
             [send(b"".join(b"filter X-Hostile-%d v\n\n" % i for i in range(5000)))],
             [reply("+OK filter added. [X-Hostile-%d]=[v]" % i) for i in range(5000)], within_ms=10000),
        case("auth_4000_pipelined", O, "4000 pipelined api echo commands in one write, replies in order",
             [send(b"".join(b"api echo %d\n\n" % i for i in range(4000)))],
             [api(b"%d" % i) for i in range(4000)], within_ms=10000),
    ]


def _content_length():
    C = "content-length"
    out = []

    def cl(name, value, body, packets, end="open", desc=None, tail=b""):
        out.append(case(f"cl_{name}", C, desc or f"Content-Length: {value!r} with a {len(body)}-byte body",
                        [send(b"api echo cl\nContent-Length: " + value + b"\n\n" + body + tail)],
                        packets, end))

    ok = [api(b"cl")]
    cl("zero", b"0", b"", ok)
    cl("minus_zero", b"-0", b"", ok)
    cl("abc", b"abc", b"", ok, desc="non-numeric Content-Length means no body")
    cl("hex", b"0x10", b"", ok, desc="0x10 is atoi 0: no body")
    cl("exp", b"1e9", b"x", ok, desc="1e9 is atoi 1: a 1-byte body")
    cl("leading_spaces", b"  5", b"12345", ok)
    cl("plus", b"+5", b"12345", ok)
    cl("trailing_garbage", b"5abc", b"12345", ok)
    cl("trailing_space", b"5 ", b"12345", ok)
    cl("leading_tab", b"\t5", b"12345", ok, desc="a TAB before the digits: atoi skips it")
    cl("leading_zeros", b"00005", b"12345", ok)
    cl("minus_one", b"-1", b"", [GOODBYE], "closed", desc="negative Content-Length closes the connection")
    cl("minus_big", b"-99999999999999999999", b"", [GOODBYE], "closed")
    cl("int_min_minus_one", b"-2147483649", b"", [GOODBYE], "closed")
    cl("over_16MiB", b"16777217", b"", [GOODBYE], "closed", desc="one byte over the 16 MiB limit")
    cl("2_pow_31", b"2147483648", b"", [GOODBYE], "closed")
    cl("2_pow_32", b"4294967296", b"", [GOODBYE], "closed")
    cl("2_pow_32_plus_5", b"4294967301", b"12345", [GOODBYE], "closed",
       desc="2^32+5 must not wrap to 5")
    cl("huge", b"99999999999999999999", b"", [GOODBYE], "closed")
    cl("16MiB_short_body", b"16777216", b"0123456789", [], "pending",
       desc="16 MiB announced, 10 bytes sent: the server waits for the rest")
    cl("100_short_body", b"100", b"0123456789", [], "pending",
       desc="100 announced, 10 sent: the server waits (no reply yet)")
    cl("body_with_commands", b"21", b"\n\napi echo injected\n\n", ok,
       desc="a body holding a command is consumed, never run")
    cl("short_lie", b"3", b"abc", ok + [NOT_FOUND], tail=b"def\n\n",
       desc="Content-Length smaller than what follows: the rest is parsed as a command")
    cl("nul_before_digits", b"\x005", b"", ok, desc="a NUL before the digits: atoi 0, no body")
    cl("nul_after_digits", b"5\x00", b"12345", ok, desc="a NUL after the digits: 5")
    cl("high_before_digits", b"\xff5", b"", ok, desc="a high byte before the digits: atoi 0, no body")
    out += [
        case("cl_empty_value", C, "`Content-Length:` with no value stores nothing: no body",
             [send(b"api echo cl\nContent-Length:\n\n")], ok),
        case("cl_space_value", C, "`Content-Length: ` (only a space) stores nothing: no body",
             [send(b"api echo cl\nContent-Length: \n\n")], ok),
        case("cl_no_space", C, "`Content-Length:5` without a space",
             [send(b"api echo cl\nContent-Length:5\n\n12345")], ok),
        case("cl_lowercase", C, "lowercase content-length is honoured",
             [send(b"api echo cl\ncontent-length: 5\n\n12345")], ok),
        case("cl_uppercase", C, "uppercase CONTENT-LENGTH is honoured",
             [send(b"api echo cl\nCONTENT-LENGTH: 5\n\n12345")], ok),
        case("cl_space_before_colon", C, "`Content-Length : 5` is another header name: no body",
             [send(b"api echo cl\nContent-Length : 5\n\n")], ok),
        case("cl_two_headers", C, "two Content-Length headers: two bodies are read",
             [send(b"api echo cl\nContent-Length: 2\nContent-Length: 3\n\nabxyz")], ok),
        case("cl_second_negative", C, "a valid Content-Length then a negative one",
             [send(b"api echo cl\nContent-Length: 2\nContent-Length: -1\n\nab")], [GOODBYE], "closed"),
        case("cl_long_then_rest", C, "100 announced, 10 sent, nothing; then the other 90",
             [send(b"api echo cl\nContent-Length: 100\n\n" + b"0" * 10), silence(300),
              send(b"1" * 90)], ok),
        case("cl_long_then_half_close", C, "100 announced, 10 sent, then half-close: goodbye, no reply",
             [send(b"api echo cl\nContent-Length: 100\n\n" + b"0" * 10), silence(200), shut_wr()],
             [GOODBYE], "closed"),
        case("cl_unauth_body", C, "an unknown command with a body before auth",
             [send(b"x\nContent-Length: 5\n\nhello")], [NOT_FOUND], auth=False),
        case("cl_unauth_negative", C, "a negative Content-Length before auth",
             [send(b"auth ClueCon\nContent-Length: -5\n\n")], [GOODBYE], "closed", auth=False),
        case("cl_sendevent_nul_body", C, "sendevent with a body of NUL bytes",
             [send(b"sendevent CUSTOM\nEvent-Subclass: hostile::cl\nContent-Length: 4\n\n\x00\x00\x00\x00")],
             [SENDEVENT_OK]),
        case("cl_1MiB_body", C, "api with a 1 MiB body (ignored by api)",
             [send(b"api echo cl\nContent-Length: 1048576\n\n" + b"\xff" * 1048576)], ok),
    ]
    return out


def _nul_high():
    N = "nul-high-bytes"
    out = []
    # Every command word, broken by a NUL in front or a high byte inside: the prefix test
    # fails, so each is an unknown command; the connection goes on.
    words = [b"api status", b"bgapi status", b"event plain CUSTOM hostile::x", b"nixevent CUSTOM",
             b"noevents", b"filter Event-Name X", b"sendevent CUSTOM",
             b"sendmsg 00000000-0000-0000-0000-000000000000", b"log info", b"nolog", b"linger",
             b"nolinger", b"myevents 00000000-0000-0000-0000-000000000000", b"divert_events on",
             b"exit", b"getvar x", b"resume", b"connect"]
    for w in words:
        word = w.split(b" ")[0].decode()
        out.append(case(f"nul_before_{word}", N, f"NUL before `{w.decode()}`",
                        [send(b"\x00" + w + b"\n\n")], [NOT_FOUND]))
        out.append(case(f"high_inside_{word}", N, f"0xFF after the first letter of `{w.decode()}`",
                        [send(w[:1] + b"\xff" + w[1:] + b"\n\n")], [NOT_FOUND]))
    for w in [b"auth ClueCon", b"userauth 1000@default:1234", b"exit"]:
        word = w.split(b" ")[0].decode()
        out.append(case(f"unauth_nul_before_{word}", N, f"NUL before `{w.decode()}` before auth",
                        [send(b"\x00" + w + b"\n\n")], [NOT_FOUND], auth=False))
        out.append(case(f"unauth_high_inside_{word}", N, f"0x80 inside `{w.decode()}` before auth",
                        [send(w[:2] + b"\x80" + w[2:] + b"\n\n")], [NOT_FOUND], auth=False))
    out += [
        case("api_no_space_nul", N, "`api\\0status`: api needs its space",
             [send(b"api\x00status\n\n")], [NOT_FOUND]),
        case("bgapi_nul_space", N, "`bgapi\\0 status`: bgapi needs its space",
             [send(b"bgapi\x00 status\n\n")], [NOT_FOUND]),
        case("api_args_nul", N, "api whose argument holds NUL bytes: one well-framed response",
             [send(b"api echo a\x00b\x00c\n\n")], [api_re(rb".*")]),
        case("api_name_nul", N, "api whose command name is a NUL: one well-framed response",
             [send(b"api \x00status\n\n")], [api_re(rb"-ERR .*Command not found!\n|-ERR no reply\n")]),
        case("api_echo_high_bytes", N, "api echo of bytes 0x80-0xFF comes back unchanged",
             [send(b"api echo " + bytes(range(0x80, 0x100)) + b"\n\n")],
             [api(bytes(range(0x80, 0x100)))]),
        case("api_echo_utf8", N, "api echo of UTF-8 comes back unchanged",
             [send("api echo é€𝄞\n\n".encode())], [api("é€𝄞".encode())]),
        case("api_echo_invalid_utf8", N, "api echo of invalid UTF-8 comes back unchanged",
             [send(b"api echo \xc3\x28\xe2\x28\xa1\xf0\x90\x28\xbc\n\n")],
             [api(b"\xc3\x28\xe2\x28\xa1\xf0\x90\x28\xbc")]),
        case("api_echo_controls", N, "api echo of control bytes 0x01-0x1F except CR/LF",
             [send(b"api echo " + bytes(b for b in range(1, 32) if b not in (10, 13)) + b"\n\n")],
             [api(bytes(b for b in range(1, 32) if b not in (10, 13)))]),
        case("api_echo_del_esc", N, "api echo of DEL and an ANSI escape",
             [send(b"api echo \x7f\x1b[2J\x1b]0;t\x07\n\n")], [api(b"\x7f\x1b[2J\x1b]0;t\x07")]),
        case("all_bytes_line", N, "a command line of every byte value except CR and LF",
             [send(bytes(b for b in range(256) if b not in (10, 13)) + b"\n\n")], [NOT_FOUND]),
        case("only_nul_line", N, "a command line of one NUL", [send(b"\x00\n\n")], [NOT_FOUND]),
        case("only_nuls_4k", N, "a command line of 4096 NULs", [send(b"\x00" * 4096 + b"\n\n")],
             [NOT_FOUND]),
        case("only_high_line", N, "a command line of high bytes", [send(b"\xff\xfe\xfd\x80\n\n")],
             [NOT_FOUND]),
        case("unauth_only_nul", N, "a NUL-only command before auth", [send(b"\x00\n\n")],
             [NOT_FOUND], auth=False),
        case("unauth_nuls_64k", N, "60000 NULs as a command before auth",
             [send(b"\x00" * 60000 + b"\n\n")], [NOT_FOUND], auth=False),
        case("nul_header_name", N, "a header named NUL", [send(b"api echo a\n\x00: b\n\n")], [api(b"a")]),
        case("high_header_name", N, "a header name of high bytes", [send(b"api echo a\n\xff\xfe: b\n\n")],
             [api(b"a")]),
        case("colon_only_headers", N, "header lines `:`, `: v` and `:::` (empty names)",
             [send(b"api echo a\n:\n: v\n:::\n\n")], [api(b"a")]),
        case("nul_line_in_terminator", N, "`\\n\\0\\n` does not end a block; a later LF does",
             [send(b"api echo a\n\x00\n"), silence(250), send(b"\n")], [api(b"a")]),
        case("sendevent_binary_header", N, "sendevent with NUL and high bytes in a header value",
             [send(b"sendevent CUSTOM\nEvent-Subclass: hostile::bin\nX-Bin: \x00\x01\xff\n\n")],
             [SENDEVENT_OK]),
        case("sendevent_binary_name", N, "sendevent with a binary header name",
             [send(b"sendevent CUSTOM\nEvent-Subclass: hostile::bin\n\x00\xff\x80: v\n\n")],
             [SENDEVENT_OK]),
        case("sendevent_binary_subclass", N, "sendevent with a binary Event-Subclass",
             [send(b"sendevent CUSTOM\nEvent-Subclass: \x00\xff\n\n")], [SENDEVENT_OK]),
        case("sendevent_nul_word", N, "`sendevent\\0CUSTOM` is still sendevent (prefix)",
             [send(b"sendevent\x00CUSTOM\n\n")], [SENDEVENT_OK]),
        case("filter_binary_value", N, "filter with a binary value: one reply",
             [send(b"filter Event-Name \x00\xff\n\n")],
             [reply_re(r"\+OK filter added\. \[Event-Name\]=\[.*\]")]),
        case("event_nul_token", N, "event with a NUL inside the only event name",
             [send(b"event plain CUS\x00TOM\n\n")], [reply("-ERR no keywords supplied")]),
        case("event_high_tokens", N, "event whose names are all high bytes",
             [send(b"event plain \xff\xfe \x80\n\n")], [reply("-ERR no keywords supplied")]),
        case("log_high_level", N, "log with a high-byte level", [send(b"log \xff\n\n")],
             [reply("-ERR invalid log level")]),
        case("log_nul_level", N, "log with a NUL level", [send(b"log \x00\n\n")],
             [reply("-ERR invalid log level")]),
        case("sendmsg_binary_uuid", N, "sendmsg to a binary uuid",
             [send(b"sendmsg \x00\xff\n\n")], [reply_re(r"-ERR invalid session id \[.*\]")]),
        case("sendmsg_binary_session_id", N, "sendmsg with a binary Session-ID header",
             [send(b"sendmsg\nSession-ID: \xff\x00\xfe\ncall-command: hangup\n\n")],
             [reply_re(r"-ERR invalid session id \[.*\]")]),
        case("nixevent_high", N, "nixevent with high-byte names", [send(b"nixevent \xff\n\n")],
             [reply("-ERR no keywords supplied")]),
        case("exit_nul_suffix", N, "`exit\\0` is still exit (prefix)", [send(b"exit\x00\n\n")],
             [reply("+OK bye"), GOODBYE], "closed"),
        case("unauth_password_nul", N, "password with a NUL in the middle",
             [send(b"auth Clue\x00Con\n\n")], [INVALID, GOODBYE], "closed", auth=False),
        case("unauth_password_high", N, "password with a trailing 0xFF",
             [send(b"auth ClueCon\xff\n\n")], [INVALID, GOODBYE], "closed", auth=False),
        case("unauth_userauth_binary", N, "userauth with binary user and domain",
             [send(b"userauth \x00@\xff:x\n\n")], [INVALID, GOODBYE], "closed", auth=False),
    ]
    return out


def _missing_blank():
    M = "missing-blank-line"
    A = [api(b"a")]
    return [
        case("lf_only_once", M, "one LF: the server waits; a second LF completes it",
             [send(b"api echo a\n"), silence(250), send(b"\n")], A),
        case("no_line_break", M, "no line break at all: the server waits",
             [send(b"api echo a"), silence(250), send(b"\n\n")], A),
        case("crlf_once", M, "one CRLF: the server waits; a second CRLF completes it",
             [send(b"api echo a\r\n"), silence(250), send(b"\r\n")], A),
        case("space_line", M, "a line of one space is not a blank line",
             [send(b"api echo a\n \n"), silence(250), send(b"\n")], A),
        case("tab_line", M, "a line of one TAB is not a blank line",
             [send(b"api echo a\n\t\n"), silence(250), send(b"\n")], A),
        case("lone_crs", M, "lone CRs never end a block",
             [send(b"api echo a\r\r\r\r"), silence(250), send(b"\n\n")], A),
        case("header_no_blank", M, "a header and no blank line",
             [send(b"api echo a\nX-H: v\n"), silence(250), send(b"\n")], A),
        case("pipelined_no_blank", M, "three commands separated by single LFs are one block",
             [send(b"api echo a\napi echo b\napi echo c\n"), silence(250), send(b"\n")], A),
        case("lf_cr_lf", M, "`\\n\\r\\n` ends a block", [send(b"api echo a\n\r\n")], A),
        case("cr_lf_lf", M, "`\\r\\n\\n` ends a block", [send(b"api echo a\r\n\n")], A),
        case("lf_cr_cr_lf", M, "`\\n\\r\\r\\n` ends a block (CR does not reset the LF count)",
             [send(b"api echo a\n\r\r\n")], A),
        case("crlf_cr_crlf", M, "`\\r\\n\\r\\r\\n` ends a block", [send(b"api echo a\r\n\r\r\n")], A),
        case("cr_line_between_headers", M, "a CR-only line ends the block; the next header is a new command",
             [send(b"api echo a\nX: 1\n\r\nY: 2\n\n")], [api(b"a\nX: 1"), NOT_FOUND]),
        case("mixed_endings", M, "an LF line before a CR is merged into the command",
             [send(b"api echo mixed\nX-A: 1\r\n\r\n")], [api(b"mixed\nX-A: 1")]),
        case("second_unterminated", M, "a complete command then an unterminated one",
             [send(b"api echo a\n\napi echo b\n")], A, "pending"),
        case("only_line_breaks", M, "4000 CRLFs and nothing else: ignored",
             [send(b"\r\n" * 4000), silence(250)], []),
        case("line_breaks_then_command", M, "leading CR/LF bytes are skipped",
             [send(b"\r\n\r\n\n\n\r\rapi echo a\n\n")], A),
        case("half_close_unterminated", M, "an unterminated command then half-close: goodbye, not run",
             [send(b"api echo a\n"), silence(200), shut_wr()], [GOODBYE], "closed"),
        case("unauth_auth_lf_once", M, "auth with one LF: the server waits",
             [send(b"auth ClueCon\n"), silence(250), send(b"\n")], [ACCEPTED], auth=False,
             probe_authed=True),
        case("unauth_auth_unterminated_close", M, "auth without line break, then half-close",
             [send(b"auth ClueCon"), silence(200), shut_wr()], [GOODBYE], "closed", auth=False),
        case("unauth_pending", M, "an unterminated line before auth: nothing happens yet",
             [send(b"auth ClueCon\n \n")], [], "pending", auth=False),
    ]


def _half_close():
    H = "half-close"
    return [
        case("hc_unauth_nothing", H, "half-close right after the greeting",
             [shut_wr()], [GOODBYE], "closed", auth=False),
        case("hc_unauth_partial_auth", H, "half-close in the middle of auth",
             [send(b"auth Clue"), shut_wr()], [GOODBYE], "closed", auth=False),
        case("hc_unauth_auth", H, "auth then half-close: reply, then goodbye",
             [send(b"auth ClueCon\n\n"), shut_wr()], [ACCEPTED, GOODBYE], "closed", auth=False),
        case("hc_unauth_auth_api", H, "auth and api pipelined, then half-close",
             [send(b"auth ClueCon\n\napi echo x\n\n"), shut_wr()], [ACCEPTED, api(b"x"), GOODBYE],
             "closed", auth=False),
        case("hc_unauth_wrong", H, "wrong password then half-close",
             [send(b"auth nope\n\n"), shut_wr()], [INVALID, GOODBYE], "closed", auth=False),
        case("hc_unauth_unknown", H, "unknown command then half-close",
             [send(b"x\n\n"), shut_wr()], [NOT_FOUND, GOODBYE], "closed", auth=False),
        case("hc_auth_nothing", H, "authenticated, then half-close", [shut_wr()], [GOODBYE], "closed"),
        case("hc_api", H, "api then half-close", [send(b"api echo hi\n\n"), shut_wr()],
             [api(b"hi"), GOODBYE], "closed"),
        case("hc_api_slow", H, "a 300 ms api then half-close: the reply still comes first",
             [send(b"api msleep 300\n\n"), shut_wr()], [api(b"+OK"), GOODBYE], "closed"),
        case("hc_api_slow_then_fast", H, "slow and fast api pipelined, half-close: both, in order",
             [send(b"api msleep 200\n\napi echo after\n\n"), shut_wr()],
             [api(b"+OK"), api(b"after"), GOODBYE], "closed"),
        case("hc_bgapi", H, "bgapi then half-close", [send(b"bgapi echo x\n\n"), shut_wr()],
             [BGAPI_OK, GOODBYE], "closed"),
        case("hc_exit", H, "exit then half-close", [send(b"exit\n\n"), shut_wr()],
             [reply("+OK bye"), GOODBYE], "closed"),
        case("hc_partial_command", H, "a partial command then half-close: not run",
             [send(b"api status"), shut_wr()], [GOODBYE], "closed"),
        case("hc_partial_body", H, "a partial body then half-close: not run",
             [send(b"api echo a\nContent-Length: 10\n\nabc"), shut_wr()], [GOODBYE], "closed"),
        case("hc_pipelined_then_partial", H, "two commands and a partial one, half-close",
             [send(b"api echo x\n\napi echo y\n\napi echo z\n"), shut_wr()],
             [api(b"x"), api(b"y"), GOODBYE], "closed"),
        case("hc_100_pipelined", H, "100 pipelined api then half-close: 100 replies in order",
             [send(b"".join(b"api echo %d\n\n" % i for i in range(100))), shut_wr()],
             [api(b"%d" % i) for i in range(100)] + [GOODBYE], "closed", within_ms=5000),
        case("hc_event_subscribed", H, "subscribed to ALL, then half-close",
             [send(b"event plain ALL\n\n"), shut_wr()],
             [reply("+OK event listener enabled plain"), GOODBYE], "closed", ignore_events=True),
        case("hc_log_subscribed", H, "log debug, then half-close",
             [send(b"log debug\n\n"), shut_wr()],
             [reply("+OK log level debug [7]"), GOODBYE], "closed", ignore_events=True),
        case("exit_after_slow_api", H, "exit pipelined after a 300 ms api: the api reply, bye, goodbye; nothing after",
             [send(b"api msleep 300\n\nexit\n\napi echo no\n\n")],
             [api(b"+OK"), reply("+OK bye"), GOODBYE], "closed"),
        case("exit_then_pipelined", H, "commands pipelined after exit are not run",
             [send(b"exit\n\napi echo x\n\nevent plain ALL\n\n")], [reply("+OK bye"), GOODBYE], "closed"),
        case("hc_large_output", H, "five 1 MB api outputs then half-close: all of them, then goodbye",
             [send((b"api echo " + b"L" * 1000000 + b"\n\n") * 5), shut_wr()],
             [api(b"L" * 1000000)] * 5 + [GOODBYE], "closed", within_ms=8000),
        case("rst_mid_command", H, "RST in the middle of a command",
             [send(b"api echo never\nX-A: "), sleep(50), close(reset=True)], [], "none"),
        case("rst_during_slow_api", H, "RST while a 200 ms api runs (its reply goes nowhere)",
             [send(b"api msleep 200\n\n"), sleep(20), close(reset=True), sleep(300)], [], "none"),
        case("rst_subscribed_all", H, "RST while subscribed to ALL and logs",
             [send(b"event plain ALL\n\nlog debug\n\n"), sleep(50), close(reset=True)], [], "none"),
        case("close_unread_output", H, "2 MB of api output requested, then close without reading",
             [send((b"api echo " + b"o" * 20000 + b"\n\n") * 100),
              sleep(50), close()], [], "none"),
        case("rst_unauth_partial", H, "RST in the middle of auth",
             [send(b"auth Clu"), close(reset=True)], [], "none", auth=False),
    ]


def _split():
    S = "split-packets"
    out = []
    cmd = b"api echo abc\n\n"
    for k in range(1, len(cmd)):
        out.append(case(f"split2_at_{k}", S, f"`api echo abc` split in two at byte {k}",
                        [send(cmd[:k]), sleep(20), send(cmd[k:])], [api(b"abc")]))
    out += [
        case("bytewise_auth", S, "auth sent one byte per packet", [send(b"auth ClueCon\n\n", chunk=1, delay_ms=2)],
             [ACCEPTED], auth=False, probe_authed=True),
        case("bytewise_api", S, "api sent one byte per packet",
             [send(b"api echo split\n\n", chunk=1, delay_ms=2)], [api(b"split")]),
        case("bytewise_crlf", S, "a CRLF command one byte per packet",
             [send(b"api echo crlf\r\n\r\n", chunk=1, delay_ms=2)], [api(b"crlf")]),
        case("split_crlf_terminator", S, "the final CR and LF in separate packets",
             [send(b"api echo a\r\n\r"), sleep(30), send(b"\n")], [api(b"a")]),
        case("bytewise_body", S, "a Content-Length body one byte per packet, then a command",
             [send(b"api echo cl\nContent-Length: 10\n\n"), send(b"0123456789", chunk=1, delay_ms=3),
              send(b"api echo next\n\n")], [api(b"cl"), api(b"next")]),
        case("split_content_length_name", S, "the Content-Length header split inside its name",
             [send(b"api echo cl\nContent-Len"), sleep(20), send(b"gth: 5\n\n12"), sleep(20),
              send(b"345api echo next\n\n")], [api(b"cl"), api(b"next")]),
        case("chunks7_pipelined", S, "three pipelined commands in 7-byte packets",
             [send(b"api echo 1\n\napi echo 2\n\napi echo 3\n\n", chunk=7, delay_ms=2)],
             [api(b"1"), api(b"2"), api(b"3")]),
        case("bytewise_sendevent", S, "sendevent with headers one byte per packet",
             [send(b"sendevent CUSTOM\nEvent-Subclass: hostile::split\nX-A: 1\n\n", chunk=1, delay_ms=1)],
             [SENDEVENT_OK]),
        case("bytewise_wrong_password", S, "a wrong password one byte per packet",
             [send(b"auth wrong\n\n", chunk=1, delay_ms=2)], [INVALID, GOODBYE], "closed", auth=False),
        case("split_exit", S, "exit in three packets", [send(b"ex"), sleep(20), send(b"it\n"), sleep(20),
                                                          send(b"\n")],
             [reply("+OK bye"), GOODBYE], "closed"),
        case("pause_mid_line", S, "a 400 ms pause in the middle of a line (no idle timeout after auth)",
             [send(b"api echo sl"), sleep(400), send(b"ow\n\n")], [api(b"slow")]),
        case("split_leading_breaks", S, "leading CR/LF bytes spread over packets",
             [send(b"\r"), sleep(10), send(b"\n"), sleep(10), send(b"\r\n"), sleep(10),
              send(b"api echo x\n\n")], [api(b"x")]),
        case("chunked_unauth_70k", S, "a 70000-byte line before auth in 1 KiB packets",
             [send(b"z" * 70000, chunk=1024, delay_ms=1)], [GOODBYE], "closed", auth=False),
        case("chunked_unauth_65_lines", S, "65 lines before auth, one per packet",
             [send(b"x\n" + b"".join(b"H%d: v\n" % i for i in range(64)), chunk=6, delay_ms=1)],
             [GOODBYE], "closed", auth=False),
        case("bytewise_two_commands_one_write_each", S, "100 commands, each in its own packet",
             [send(b"".join(b"api echo %d\n\n" % i for i in range(100)), chunk=13, delay_ms=0)],
             [api(b"%d" % i) for i in range(100)], within_ms=5000),
    ]
    return out


def _flood():
    F = "connection-flood"
    return [
        case("flood_300_held", F, "300 connections at once, all greeted and held; canary meanwhile",
             [flood(300, concurrency=50, hold=True, end="open"), canary(), probe()], [],
             exclusive=True, timeout_s=30),
        case("flood_300_close_now", F, "300 connections closed right after connect, nothing read",
             [flood(300, concurrency=50, close_now=True, greeting=False), canary()], [],
             exclusive=True),
        case("flood_200_reset", F, "200 connections reset (RST) right after connect",
             [flood(200, concurrency=50, reset=True, send=b"", greeting=False), canary()], [],
             exclusive=True),
        case("flood_100_api_own_reply", F, "100 concurrent authenticated api echo: each gets its own reply",
             [flood(100, concurrency=100, auth=True, send=b"api echo own-%d\n\n", fmt=True,
                    packets=[api(b"own-%d")], end="open")], [],
             exclusive=True),
        case("flood_40_slow_api", F, "40 concurrent 100 ms api commands: all answered",
             [flood(40, concurrency=40, auth=True, send=b"api msleep 100\n\n",
                    packets=[api_re(rb"\+OK|-ERR too many api commands queued, try again later\n")],
                    end="open")], [], exclusive=True),
        case("flood_100_subscribe_exit", F, "100 connections subscribe to ALL and exit",
             [flood(100, concurrency=50, auth=True, send=b"event plain ALL\n\nexit\n\n",
                    packets=[reply("+OK event listener enabled plain"), reply("+OK bye"), GOODBYE],
                    end="closed", ignore_events=True), canary()], [], exclusive=True),
        case("flood_100_half_command_close", F, "100 connections send half a command and close",
             [flood(100, concurrency=50, auth=True, send=b"api echo half\nX-A: 1\n", end="none"),
              canary()], [], exclusive=True),
        case("flood_100_oversized_unauth", F, "100 connections each send 70 KB of garbage before auth",
             [flood(100, concurrency=25, send=b"g" * 70000, packets=[GOODBYE], end="closed"), canary()],
             [], exclusive=True),
        case("flood_200_held_unauth_pending", F, "200 connections each with an unfinished auth line",
             [flood(200, concurrency=50, send=b"auth Clue", hold=True, end="open"), canary(), probe()],
             [], exclusive=True),
    ]


def _brute():
    B = "auth-brute-force"
    wrong = [
        ("lowercase", b"auth cluecon"), ("uppercase", b"auth CLUECON"), ("short", b"auth ClueCo"),
        ("long", b"auth ClueConX"), ("trailing_space", b"auth ClueCon "),
        ("two_spaces", b"auth  ClueCon"), ("tab_before", b"auth \tClueCon"),
        ("tab_after", b"auth ClueCon\t"), ("empty", b"auth "), ("cyrillic_o", "auth ClueCоn".encode()),
        ("repeated", b"auth " + b"ClueCon" * 1000), ("url_encoded", b"auth %43lueCon"),
        ("quoted", b"auth \"ClueCon\""), ("upper_prefix_wrong", b"AUTH wrong"),
        ("userauth_wrong", b"userauth 1000@default:wrong"), ("userauth_empty", b"userauth @:"),
        ("userauth_unknown", b"userauth nobody@nowhere:ClueCon"), ("userauth_no_domain", b"userauth x"),
        ("userauth_colon_only", b"userauth :ClueCon@"), ("sql_like", b"auth ' OR '1'='1"),
        ("format_string", b"auth %s%s%s%n%n"), ("newline_in_header", b"auth wrong\nX-Pass: ClueCon"),
    ]
    out = [case(f"wrong_{n}", B, f"wrong credentials {d[:40]!r}", [send(d + b"\n\n")],
                [INVALID, GOODBYE], "closed", auth=False) for n, d in wrong]
    out += [
        case("auth_no_space", B, "`auth` alone is not an auth attempt", [send(b"auth\n\n")],
             [NOT_FOUND], auth=False),
        case("right_crlf", B, "the right password with CRLF works", [send(b"auth ClueCon\r\n\r\n")],
             [ACCEPTED], auth=False, probe_authed=True),
        case("right_upper_prefix", B, "`AUTH ClueCon` works (prefix is case-insensitive)",
             [send(b"AUTH ClueCon\n\n")], [ACCEPTED], auth=False, probe_authed=True),
        case("wrong_then_pipelined", B, "wrong password with api and the right auth pipelined after it",
             [send(b"auth wrong\n\napi echo x\n\nauth ClueCon\n\n")], [INVALID, GOODBYE], "closed",
             auth=False),
        case("fifty_in_one_write", B, "50 auth attempts in one write: the first one ends it",
             [send(b"".join(b"auth guess%d\n\n" % i for i in range(50)))], [INVALID, GOODBYE], "closed",
             auth=False),
        case("unknown_then_wrong", B, "an unknown command, then a wrong password",
             [send(b"x\n\n"), expect(NOT_FOUND), send(b"auth wrong\n\n")], [INVALID, GOODBYE], "closed",
             auth=False),
        case("auth_twice_pipelined", B, "auth twice in one write: the second is an unknown command",
             [send(b"auth ClueCon\n\nauth ClueCon\n\n")], [ACCEPTED, NOT_FOUND], auth=False,
             probe_authed=True),
        case("auth_after_auth", B, "auth with a wrong password once authenticated is an unknown command",
             [send(b"auth wrong\n\n")], [NOT_FOUND]),
        case("brute_200", B, "200 connections guessing passwords, 20 at a time; then the right one works",
             [flood(200, concurrency=20, send=b"auth guess-%d\n\n", fmt=True, packets=[INVALID, GOODBYE],
                    end="closed"), canary(), connect("after", auth=True), probe("after")], [],
             exclusive=True),
        case("brute_userauth_100", B, "100 connections guessing userauth passwords",
             [flood(100, concurrency=20, send=b"userauth 1000@default:guess%d\n\n", fmt=True,
                    packets=[INVALID, GOODBYE], end="closed"), canary(), connect("after", auth=True),
              probe("after")], [], exclusive=True),
    ]
    return out


# ---- limits the server enforces when started with the matching flags ------------------

def _slowloris():
    S = "slowloris"
    args = ["--auth-timeout-ms", "500"]
    LOGIN = ["--auth-timeout-ms", "300", "--login-timeout-ms", "600"]
    kw = dict(requires="--auth-timeout-ms", server_args=args, auth=False, within_ms=1500)
    return [
        case("idle_after_greeting", S, "says nothing after the greeting: closed after the auth timeout",
             [silence(300)], [DISCONNECT], "closed", **kw),
        case("bytewise_auth_too_slow", S, "auth one byte per 100 ms (1.4 s): closed at 500 ms",
             [send(b"auth ClueCon\n\n", chunk=1, delay_ms=100)], [DISCONNECT], "closed", **kw),
        case("partial_line_forever", S, "`auth Clue` and nothing more",
             [send(b"auth Clue"), silence(300)], [DISCONNECT], "closed", **kw),
        case("header_block_never_ends", S, "a header every 100 ms, never a blank line",
             [send(b"auth ClueCon\n" + b"X-H: v\n" * 12, chunk=7, delay_ms=100)], [DISCONNECT], "closed",
             **kw),
        case("line_breaks_trickle", S, "a CRLF every 100 ms (leading blank lines) is no progress",
             [send(b"\r\n" * 12, chunk=2, delay_ms=100)], [DISCONNECT], "closed", **kw),
        case("body_never_ends", S, "auth with Content-Length 10 and 3 body bytes",
             [send(b"auth ClueCon\nContent-Length: 10\n\nabc")], [DISCONNECT], "closed", **kw),
        case("unknown_command_then_idle", S,
             "with only --auth-timeout-ms an unknown command stops the clock, as in FreeSWITCH: stays open",
             [send(b"api status\n\n"), expect(NOT_FOUND), silence(800)], [], "open",
             **{**kw, "within_ms": 2000}),
        case("login_unknown_command_then_idle", S,
             "--login-timeout-ms alone: an unknown command does not stop the clock: closed",
             [send(b"api status\n\n"), expect(NOT_FOUND)], [DISCONNECT], "closed",
             **{**kw, "requires": "--login-timeout-ms", "server_args": ["--login-timeout-ms", "500"]}),
        case("login_bytewise_auth_too_slow", S,
             "--login-timeout-ms alone: auth one byte per 100 ms: closed at 500 ms",
             [send(b"auth ClueCon\n\n", chunk=1, delay_ms=100)], [DISCONNECT], "closed",
             **{**kw, "requires": "--login-timeout-ms", "server_args": ["--login-timeout-ms", "500"]}),
        case("login_unknown_commands_trickle", S,
             "--login-timeout-ms 600: an unknown command every 100 ms never logs in: closed",
             [send(b"x\n\n" * 12, chunk=3, delay_ms=100)],
             [NOT_FOUND] * 3 + [optional(NOT_FOUND)] * 9 + [DISCONNECT], "closed",
             **{**kw, "requires": ["--login-timeout-ms", "--auth-timeout-ms"], "server_args": LOGIN}),
        case("login_after_unknown_command", S,
             "--login-timeout-ms 600: an unknown command, then idle: closed",
             [send(b"api status\n\n"), expect(NOT_FOUND), silence(300)], [DISCONNECT], "closed",
             **{**kw, "requires": ["--login-timeout-ms", "--auth-timeout-ms"], "server_args": LOGIN}),
        case("login_in_time_stays", S, "--login-timeout-ms 600: auth at 50 ms: stays open past 600 ms",
             [sleep(50), send(b"auth ClueCon\n\n"), expect(ACCEPTED), silence(800)], [], "open",
             probe_authed=True,
             **{**kw, "within_ms": 2000, "requires": ["--login-timeout-ms", "--auth-timeout-ms"],
                "server_args": LOGIN}),
        case("auth_in_time_stays", S, "auth within the timeout: stays open well past it",
             [sleep(200), send(b"auth ClueCon\n\n"), expect(ACCEPTED), silence(800)], [], "open",
             probe_authed=True, **{**kw, "within_ms": 2000}),
        case("bytewise_auth_fast_enough", S, "auth one byte per 10 ms (140 ms): accepted, stays",
             [send(b"auth ClueCon\n\n", chunk=1, delay_ms=10), expect(ACCEPTED), silence(700)], [], "open",
             probe_authed=True, **{**kw, "within_ms": 2000}),
        case("slowloris_50", S, "50 connections dribbling auth bytes: all closed at the timeout",
             [flood(50, concurrency=50, send=b"auth ClueCon\n\n", chunk=1, delay_ms=100,
                    packets=[DISCONNECT], end="closed", within_ms=2500), canary()],
             [DISCONNECT], "closed", exclusive=True, **kw),
    ]


def _max_connections():
    F = "connection-flood"
    args = ["--max-connections", "6"]
    kw = dict(requires="--max-connections", server_args=args, exclusive=True)
    # The canary and the runner's event sender hold two slots, the case's main connection a third.
    return [
        case("max_connections_one_over", F,
             "with 6 allowed and 6 open, the 7th gets a rude rejection and is closed; the others go on",
             [connect("h1", auth=True), connect("h2", auth=True), connect("h3", auth=True),
              connect("x", greeting=False),
              expect(RUDE_ANY, optional(DISCONNECT), conn="x"), closed(conn="x"),
              probe("h1"), probe("h3"), canary(), close("h3"), sleep(300), connect("y"),
              probe("y", authed=False)],
             [], **kw),
        case("max_connections_no_slot_leak", F,
             "100 connections for 3 free slots, 97 refused; once the 3 close, exactly 3 fit again",
             [flood(100, concurrency=20, hold=True, accepted_min=3, accepted_max=3,
                    reject=[RUDE_ANY, optional(DISCONNECT)], end="open"), release(), sleep(300),
              connect("y1", auth=True), connect("y2", auth=True), connect("y3", auth=True),
              connect("y4", greeting=False), expect(RUDE_ANY, optional(DISCONNECT), conn="y4"),
              closed(conn="y4"), probe("y1"), probe("y3")],
             [], **kw),
        case("max_connections_refused_while_sending", F,
             "30 connections that send auth and 300 KB at once: 3 accepted, 27 still read their refusal",
             [flood(30, concurrency=30, send_first=True, send=b"auth ClueCon\n\n" + b"x" * 300000,
                    hold=True, accepted_min=3, accepted_max=3, reject=[RUDE_ANY, optional(DISCONNECT)],
                    packets=[ACCEPTED], end="open"), release(), sleep(300), canary(), probe()],
             [], **kw),
        case("max_connections_flood_50", F, "50 connections with 3 slots free: exactly 3 accepted",
             [flood(50, concurrency=50, hold=True, accepted_min=3, accepted_max=3,
                    reject=[RUDE_ANY, optional(DISCONNECT)], end="open"), canary(), probe()],
             [], **kw),
    ]


def _connection_rate():
    F = "connection-flood"
    args = ["--connection-rate-per-ip", "20", "--log-level", "warning"]
    kw = dict(requires="--connection-rate-per-ip", server_args=args, exclusive=True, capture_log=True)
    return [
        case("rate_60_in_a_second", F,
             "60 connections in well under a second with 20/s allowed: the extra ones are refused",
             [sleep(1100),
              flood(60, concurrency=60, hold=True, accepted_min=15, accepted_max=20, accepted_per_s=20,
                    reject=[RUDE_TOO_MANY, optional(DISCONNECT)], end="open"),
              connect("other_ip", auth=True, source="127.0.0.2"), probe("other_ip"),
              sleep(1100), connect("later", auth=True), probe("later")],
             [], **kw),
        case("rate_refused_while_sending", F,
             "40 connections that send auth and 300 KB at once: the refused ones still read their refusal",
             [sleep(1100),
              flood(40, concurrency=40, send_first=True, send=b"auth ClueCon\n\n" + b"x" * 300000,
                    hold=True, accepted_min=15, accepted_max=20, accepted_per_s=20,
                    reject=[RUDE_TOO_MANY, optional(DISCONNECT)], packets=[ACCEPTED], end="open"),
              release(), canary(), sleep(1100), connect("later", auth=True), probe("later")],
             [], **kw),
        case("rate_500_refused_log_lines", F,
             "500 connections in a burst: at most a handful of log lines about it",
             [sleep(1100), mark("t"),
              flood(500, concurrency=100, accepted_min=15, accepted_max=20, accepted_per_s=20,
                    reject=[RUDE_TOO_MANY, optional(DISCONNECT)], end="none"),
              log_lines_at_most(10), sleep(1100), connect("later", auth=True), probe("later")],
             [], **kw),
    ]


def _command_rate():
    R = "command-rate"
    args = ["--command-rate", "20"]
    kw = dict(requires="--command-rate", server_args=args, exclusive=True)
    return [
        case("rate_60_pipelined_api", R,
             "60 pipelined api echo at 20/s: all answered, in order, over at least ~2 s; others unaffected",
             [mark("t0"), send(b"".join(b"api echo r%d\n\n" % i for i in range(60))),
              connect("other", auth=True), mark("t1"), send(b"api echo other\n\n", conn="other"),
              expect(api(b"other"), conn="other", within_ms=500),
              expect(*[api(b"r%d" % i) for i in range(60)], within_ms=6000, min_ms=1500, since="t0")],
             [], **kw),
        case("rate_60_then_half_close", R,
             "60 pipelined api at 20/s, then half-close: all 60 replies, then the goodbye",
             [mark("t0"), send(b"".join(b"api echo h%d\n\n" % i for i in range(60))), shut_wr(),
              expect(*[api(b"h%d" % i) for i in range(60)], within_ms=6000, min_ms=1500, since="t0")],
             [GOODBYE], "closed", **kw),
        case("rate_60_pipelined_replies", R, "60 pipelined noevents at 20/s: 60 replies, none refused",
             [mark("t0"), send(b"noevents\n\n" * 60),
              expect(*[reply("-ERR not listening for events")] * 60, within_ms=6000, min_ms=1500,
                     since="t0")],
             [], **kw),
    ]


def _slow_consumer_main():
    Q = "slow-consumer"
    return [
        case("unread_replies", Q, "2000 api echo of 4 KB, nothing read for 1 s: then all replies, in order",
             [send(b"".join(b"api echo %d-" % i + b"r" * 4000 + b"\n\n" for i in range(2000))),
              sleep(1000)],
             [api(b"%d-" % i + b"r" * 4000) for i in range(2000)], within_ms=10000, exclusive=True),
        case("unread_events_below_limit", Q,
             "a subscriber reads nothing while 2000 1 KiB events are sent: then it gets all, in order",
             [send(b"event plain CUSTOM hostile::slow\n\n"),
              expect(reply("+OK event listener enabled plain")),
              connect("sender", auth=True),
              send(b"".join(b"sendevent CUSTOM\nEvent-Subclass: hostile::slow\nX-Seq: %d\n"
                            b"Content-Length: 1024\n\n" % i + b"s" * 1024 for i in range(2000)),
                   conn="sender"),
              expect(*[SENDEVENT_OK] * 2000, conn="sender", within_ms=10000), sleep(300),
              {"op": "expect_events", "conn": "main", "subclass": "hostile::slow", "count": 2000,
               "within_ms": 10000}],
             [], exclusive=True),
    ]


def _line_endings():
    L = "line-endings"
    nxt = b"api echo next\n\n"
    one_line = r"[^\n]*"
    return [
        case("inject_filter_add", L, "filter value `a<LF>X-Injected: yes` (the line ends at the CR)",
             [send(b"filter Event-Name a\nX-Injected: yes\r\n\r\n" + nxt)],
             [reply_re(r"\+OK filter added\. " + one_line), api(b"next")]),
        case("inject_filter_delete", L, "filter delete with a value holding an LF",
             [send(b"filter delete Event-Name a\nX-Injected: yes\r\n\r\n" + nxt)],
             [reply_re(r"\+OK filter deleted\. " + one_line), api(b"next")]),
        case("inject_sendmsg_uuid", L, "sendmsg to a uuid holding an LF",
             [send(b"sendmsg x\nX-Injected: yes\r\n\r\n" + nxt)],
             [reply_re(r"-ERR invalid session id " + one_line), api(b"next")]),
        case("inject_sendmsg_session_id", L, "sendmsg with a Session-ID value holding an LF",
             [send(b"sendmsg\r\nSession-ID: x\nX-Injected: yes\r\n\r\n" + nxt)],
             [reply_re(r"-ERR invalid session id " + one_line), api(b"next")]),
        case("inject_bgapi_job_uuid", L, "bgapi with a Job-UUID holding an LF",
             [send(b"bgapi echo x\r\nJob-UUID: evil\nX-Injected: yes\r\n\r\n" + nxt)],
             [{"what": "one well-formed bgapi reply", "names": ["Content-Type", "Reply-Text", "Job-UUID"],
               "match": {"Content-Type": "command/reply", "Reply-Text": r"\+OK Job-UUID: " + one_line,
                         "Job-UUID": one_line}}, api(b"next")]),
        case("inject_filter_content_length", L,
             "filter value `a<LF>Content-Length: 5`: the reply must not announce a body",
             [send(b"filter Event-Name a\nContent-Length: 5\r\n\r\n" + nxt)],
             [reply_re(r"\+OK filter added\. " + one_line), api(b"next")]),
        case("mixed_sendevent", L, "sendevent whose header value holds an LF: one reply",
             [send(b"sendevent CUSTOM\r\nEvent-Subclass: hostile::inj\nX-Injected: yes\r\n\r\n" + nxt)],
             [SENDEVENT_OK, api(b"next")]),
        case("mixed_api_header", L, "api whose header value holds an LF: one response",
             [send(b"api echo a\r\nX-H: 1\nX-Injected: yes\r\n\r\n" + nxt)], [api(b"a"), api(b"next")]),
        case("mixed_lf_then_crlf_command", L, "an LF line before the CRLF one is part of the command",
             [send(b"api echo a\nb\r\n\r\n")], [api(b"a\nb")]),
    ]


def _regex_filter():
    X = "regex-filter"
    bomb = b"sendevent CUSTOM\nEvent-Subclass: hostile::redos\nX-Redos: " + b"a" * 5000 + b"b\n\n"
    filters = b"filter X-Redos /(a+)+$/\n\n" * 10
    added = reply("+OK filter added. [X-Redos]=[/(a+)+$/]")
    return [
        case("regex_filter_works", X, "a regex filter lets through only the events it matches",
             [send(b"event plain CUSTOM hostile::rx\n\nfilter X-Rx /^ok-[0-9]+$/\n\n"),
              expect(reply("+OK event listener enabled plain"),
                     reply("+OK filter added. [X-Rx]=[/^ok-[0-9]+$/]")),
              connect("sender", auth=True),
              send(b"sendevent CUSTOM\nEvent-Subclass: hostile::rx\nX-Rx: bad\nX-Seq: 9\n\n"
                   b"sendevent CUSTOM\nEvent-Subclass: hostile::rx\nX-Rx: ok-1\nX-Seq: 0\n\n", conn="sender"),
              expect(SENDEVENT_OK, SENDEVENT_OK, conn="sender"),
              {"op": "expect_events", "conn": "main", "subclass": "hostile::rx", "count": 1,
               "within_ms": 2000}],
             [], exclusive=True),
        case("regex_filter_backtracking", X,
             "10 catastrophic regex filters and one event they must test: others' events not held up",
             [send(b"event plain ALL\n\n" + filters),
              expect(reply("+OK event listener enabled plain"), *[added] * 10),
              connect("bomber", auth=True), send(bomb, conn="bomber"), sleep(100),
              canary(within_ms=500),
              expect(SENDEVENT_OK, conn="bomber", within_ms=30000)],
             [], ignore_events=True, exclusive=True, timeout_s=40),
    ]


def _slow_consumer():
    Q = "slow-consumer"
    args = ["--event-queue-bytes", "262144"]
    body = b"e" * 8192
    flood_cmd = (b"sendevent CUSTOM\nEvent-Subclass: hostile::flood\nContent-Length: 8192\n\n" + body)
    kw = dict(requires="--event-queue-bytes", server_args=args, exclusive=True, ignore_events=True)
    # The flooder waits for each 100 replies before the next 100, so that what the server
    # holds is the stalled subscriber's queue, not the flooder's unread input.
    paced = []
    for _ in range(30):
        paced += [send(flood_cmd * 100, conn="flooder"),
                  expect(*[SENDEVENT_OK] * 100, conn="flooder", within_ms=5000)]
    paced_n = []
    for k in range(30):
        paced_n += [send(b"".join(b"sendevent CUSTOM\nEvent-Subclass: hostile::flood\nX-N: %d\n"
                                  b"Content-Length: 8192\n\n" % (k * 100 + i) + body for i in range(100)),
                         conn="flooder"),
                    expect(*[SENDEVENT_OK] * 100, conn="flooder", within_ms=5000)]
    paced_log = []
    for _ in range(30):
        paced_log += [send((b"api log info " + b"L" * 8000 + b"\n\n") * 100, conn="flooder"),
                      expect(*[api(b"+OK\n")] * 100, conn="flooder", within_ms=5000)]
    return [
        case("subscriber_stops_reading", Q,
             "a subscriber to ALL stops reading while 3000 8 KiB events fly: bounded memory, then the kill notice",
             [send(b"event plain ALL\n\n"), expect(reply("+OK event listener enabled plain")),
              connect("flooder", auth=True)] + paced + [canary(), rss_growth_at_most(8 * 1024)],
             [KILLED], "closed", within_ms=10000, timeout_s=40, **kw),
        case("log_subscriber_stops_reading", Q,
             "a `log debug` client stops reading while 3000 8 KB log lines are made: the kill notice",
             [send(b"log debug\n\n"), expect(reply("+OK log level debug [7]")),
              connect("flooder", auth=True)] + paced_log + [canary(), rss_growth_at_most(8 * 1024)],
             [LOG_KILLED], "closed", within_ms=10000, timeout_s=40, **kw),
        case("gap_notices_stalled_subscriber", Q,
             "with gap_notices on, a stalled subscriber is not killed: every event is delivered or counted in a gap notice",
             [send(b"gap_notices on\n\nevent plain CUSTOM hostile::flood\n\n"),
              expect(reply("+OK gap notices on"), reply("+OK event listener enabled plain")),
              connect("flooder", auth=True)] + paced_n
             + [canary(), rss_growth_at_most(8 * 1024),
                send(b"sendevent CUSTOM\nEvent-Subclass: hostile::flood\nX-N: marker\n\n", conn="flooder"),
                expect(SENDEVENT_OK, conn="flooder"),
                {"op": "expect_accounted", "conn": "main", "count": 3000, "min_dropped": 1,
                 "within_ms": 10000}],
             [], "open", timeout_s=40, **{**kw, "ignore_events": False}),
        case("subscriber_stops_reading_custom", Q,
             "a subscriber to one CUSTOM subclass stops reading: the canary keeps up, then the kill notice",
             [send(b"event plain CUSTOM hostile::flood\n\n"),
              expect(reply("+OK event listener enabled plain")),
              connect("flooder", auth=True)] + paced + [canary(), rss_growth_at_most(8 * 1024)],
             [KILLED], "closed", within_ms=10000, timeout_s=40, **kw),
    ]


def build():
    cases = (_oversized() + _content_length() + _nul_high() + _missing_blank() + _half_close()
             + _split() + _flood() + _brute() + _slowloris() + _max_connections()
             + _connection_rate() + _command_rate() + _slow_consumer_main() + _slow_consumer() + _regex_filter()
             + _line_endings())
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate case names: {dup}"
    for c in cases:
        assert c["category"] in CATEGORIES, c["name"]
    return cases
