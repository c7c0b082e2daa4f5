#!/usr/bin/env python3
"""esl-cli against a real eventsocketd: one-shot -x (text and --json), errors and exit codes,
and the interactive console through a pseudo terminal (API commands, Tab completion, /event
with an event arriving, /exit).

Usage: esl_cli_test.py <esl-cli> <eventsocketd> <conf dir>
"""
import os
import pty
import select
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../support"))
from script_checks import check, finish, free_port  # noqa: E402

ESL_CLI, DAEMON, CONF = sys.argv[1:4]


EMPTY_HOME = tempfile.mkdtemp()  # no ~/.esl-cli: the flags alone decide


def run_cli(*args, timeout=20):
    return subprocess.run([ESL_CLI, "-P", str(PORT), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HOME": EMPTY_HOME})


PORT = free_port()
daemon = subprocess.Popen([DAEMON, "--conf", CONF, "--listen-ip", "127.0.0.1", "--listen-port",
                           str(PORT), "--log-level", "err"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    # One-shot commands.
    r = run_cli("-x", "echo hello", "-x", "status")
    check(r.returncode == 0, f"-x echo/status exit code {r.returncode}: {r.stderr}")
    check(r.stdout.startswith("hello\n"), f"-x echo hello printed {r.stdout[:80]!r}")
    check("UP " in r.stdout, "-x status printed no UP line")

    r = run_cli("-x", "no_such_command")
    check(r.returncode == 1, f"unknown command exit code {r.returncode}")
    check("-ERR no_such_command Command not found!" in r.stdout, f"unknown command: {r.stdout!r}")

    r = run_cli("--json", "-x", "echo hi")
    check(r.stdout == '{"command":"echo hi","ok":true,"reply":"hi"}\n', f"--json: {r.stdout!r}")

    r = run_cli("-x", "/event plain CHANNEL_CREATE")
    check(r.stdout == "+OK event listener enabled plain\n", f"/event: {r.stdout!r}")

    r = run_cli("-p", "wrong", "-x", "status")
    check(r.returncode == 2, f"wrong password exit code {r.returncode}")
    check("authentication refused: -ERR invalid" in r.stderr, f"wrong password: {r.stderr!r}")

    r = subprocess.run([ESL_CLI, "-P", str(free_port()), "-x", "status"], capture_output=True,
                       text=True, timeout=20, env={**os.environ, "HOME": EMPTY_HOME})
    check(r.returncode == 2 and "cannot connect" in r.stderr, f"nobody listening: {r.stderr!r}")

    # Profiles from ~/.esl-cli: [default] then the named one; flags win.
    home_profiles = tempfile.mkdtemp()
    with open(os.path.join(home_profiles, ".esl-cli"), "w") as f:
        f.write("; comment\n[default]\nhost => 127.0.0.1\npassword => wrong\n"
                f"[lab]\nport => {PORT}\npassword => ClueCon\n")
    env = {**os.environ, "HOME": home_profiles}
    r = subprocess.run([ESL_CLI, "lab", "-x", "echo via-profile"], capture_output=True,
                       text=True, timeout=20, env=env)
    check(r.returncode == 0 and r.stdout == "via-profile\n", f"profile lab: {r.stdout!r} {r.stderr!r}")
    r = subprocess.run([ESL_CLI, "-P", str(PORT), "-x", "echo x"], capture_output=True,
                       text=True, timeout=20, env=env)
    check(r.returncode == 2 and "authentication refused" in r.stderr,
          f"[default] password applies: {r.stderr!r}")
    r = subprocess.run([ESL_CLI, "lab", "-p", "wrong", "-x", "echo x"], capture_output=True,
                       text=True, timeout=20, env=env)
    check(r.returncode == 2, "a flag does not win over the profile")
    r = subprocess.run([ESL_CLI, "nosuch", "-x", "echo x"], capture_output=True, text=True,
                       timeout=20, env=env)
    check(r.returncode == 2 and "no profile [nosuch]" in r.stderr, f"unknown profile: {r.stderr!r}")

    # The interactive console through a pseudo terminal.
    home = tempfile.mkdtemp()
    master, slave = pty.openpty()
    cli = subprocess.Popen([ESL_CLI, "-P", str(PORT)], stdin=slave, stdout=slave, stderr=slave,
                           env={**os.environ, "HOME": home, "TERM": "dumb"}, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker, timeout=10):
        global seen
        end = time.time() + timeout
        while marker.encode() not in seen and time.time() < end:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        found = marker.encode() in seen
        if found:
            seen = seen[seen.index(marker.encode()) + len(marker):]
        return found

    check(read_until("> "), "no prompt")
    os.write(master, b"echo interactive-ok\r")
    check(read_until("interactive-ok\r\n") or read_until("interactive-ok"), "echo in the console")
    os.write(master, b"uptim\t\r")  # Tab completes the API name from `show api`
    check(read_until("uptime"), "Tab did not complete 'uptim' to 'uptime'")
    check(read_until("> "), "no prompt after uptime")
    os.write(master, b"/event plain CUSTOM cli::test\r")
    check(read_until("+OK event listener enabled plain"), "/event in the console")
    subprocess.run([ESL_CLI, "-P", str(PORT), "-x", "event CUSTOM cli::test Marker=from-x"],
                   capture_output=True, timeout=20, env={**os.environ, "HOME": EMPTY_HOME})
    check(read_until("Marker: from-x"), "the event was not printed")
    os.write(master, b"/help\r")
    check(read_until("/nolog"), "/help")
    os.write(master, b"/exit\r")
    try:
        code = cli.wait(timeout=10)
    except subprocess.TimeoutExpired:
        cli.kill()
        code = None
    check(code == 0, f"/exit code {code}")
    check(os.path.exists(os.path.join(home, ".esl-cli_history")), "no history file written")
finally:
    daemon.terminate()
    daemon.wait(timeout=10)

finish("esl-cli: all checks passed")
