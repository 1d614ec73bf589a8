#!/usr/bin/env python3
"""The UI benchmarks of scripts/bench: the real binary (ncurses) in a pseudo-terminal.

  ui.py session DICOMTUI URL --entries N [--keys SPEC] [--idle S] [--rows R --cols C]
      Opens `DICOMTUI --url URL --from-start --no-mouse` in a pty of R x C (default 40 x 120), waits
      until the status line says the N entries are loaded and the process has gone quiet, then prints:
        rss KB                       VmRSS of the UI, loaded and idle
        idle CPU_SECONDS SECONDS     user + system time (/proc/PID/stat) over S seconds of idleness
        key LABEL GROUP FIRST LAST   for each key of SPEC: seconds from writing the key to the pty
                                     to the first byte of output, and to the last byte before the
                                     output stays quiet for QUIET seconds (the frame has settled)
  ui.py floor --keys SPEC
      The harness's own floor: the same keys written to `cat` in a raw pty of the same size, timed
      the same way (write to the first byte back); prints `key LABEL floor FIRST LAST`.
  ui.py first-frame DICOMTUI ARGS...
      Seconds from starting `DICOMTUI ARGS...` to the first screen that shows the header and a row
      of the list (the output is fed to a terminal emulator, pyte, to know what is on screen).

SPEC is the key script shared with `dicomtui-bench ui-keys`: whitespace-separated tokens, each
`KEY` or `KEY*COUNT`; KEY is a character or one of PgDn PgUp Home End Down Up Enter BS Ctrl-u.
Every key of it should change the screen: a key that changes nothing writes nothing, and is left out.
Needs pyte (scripts/bench installs it in its venv). The token comes from DICOMTUI_AZ (a fake az).
"""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

KEYS = {  # what a terminal (xterm) sends for each named key
    "PgDn": b"\x1b[6~", "PgUp": b"\x1b[5~", "Home": b"\x1b[H", "End": b"\x1b[F",
    "Down": b"\x1b[B", "Up": b"\x1b[A", "Enter": b"\r", "BS": b"\x7f", "Ctrl-u": b"\x15",
}
QUIET = 0.15


def parse_keys(spec):
    """[(label, bytes)] from SPEC; the group of a key is decided by where it is typed."""
    out = []
    for token in spec.split():
        name, _, count = token.partition("*")
        data = KEYS.get(name, name.encode())
        out += [(name, data)] * int(count or 1)
    return out


class Pty:
    def __init__(self, argv, rows, cols, env=None):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        e = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        e.update(env or {})
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=e, start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.screen = None

    def attach_screen(self, rows, cols):
        import pyte
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)

    def read(self, timeout):
        """Bytes available within `timeout` seconds (b"" if none), and when they were read."""
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return b"", None
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        now = time.perf_counter()
        if data and self.screen is not None:
            self.stream.feed(data)
        if not data:
            raise EOFError("the UI exited")
        return data, now

    def drain(self, quiet):
        """Reads until nothing comes for `quiet` seconds; returns when the last byte came (or None)."""
        last = None
        while True:
            data, at = self.read(quiet)
            if not data:
                return last
            last = at

    def write(self, data):
        os.write(self.master, data)

    def lines(self):
        return self.screen.display if self.screen else []

    def close(self):
        try:
            self.write(b"q")
            self.proc.wait(timeout=5)
        except Exception:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()
        os.close(self.master)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def session(argv):
    exe, url = argv[0], argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    n = int(opts["--entries"])
    rows, cols = int(opts.get("--rows", 40)), int(opts.get("--cols", 120))
    p = Pty([exe, "--url", url, "--from-start", "--no-mouse"], rows, cols)
    p.attach_screen(rows, cols)
    want = re.compile(r"idle, at the end of the feed · ([\d,]+) loaded")
    deadline = time.time() + 600
    while True:
        p.read(0.2)
        m = next((want.search(l) for l in p.lines() if want.search(l)), None)
        if m and int(m.group(1).replace(",", "")) == n:
            break
        if time.time() > deadline:
            sys.exit("ui.py: the UI did not finish loading:\n" + "\n".join(p.lines()))
    # Loaded: let it settle (the last frames, the flash), then measure memory and idleness.
    p.drain(1.0)
    print("rss", rss_kb(p.proc.pid), flush=True)
    idle = float(opts.get("--idle", 0))
    if idle:
        c0, t0 = cpu_seconds(p.proc.pid), time.perf_counter()
        end = t0 + idle
        while time.perf_counter() < end:
            p.read(end - time.perf_counter())   # keep the pty drained (a countdown may redraw)
        print("idle", f"{cpu_seconds(p.proc.pid) - c0:.3f}", f"{time.perf_counter() - t0:.3f}", flush=True)
    group = "nav"
    for label, data in parse_keys(opts.get("--keys", "")):
        if label == "/":
            group = "filter"
        p.drain(0.05)
        t0 = time.perf_counter()
        p.write(data)
        got, first = p.read(5.0)
        if not got:
            # Nothing on screen changed (the key script should not have such keys).
            print(f"ui.py: no output within 5 s after key {label!r}; left out", file=sys.stderr)
            continue
        last = p.drain(QUIET) or first
        print("key", label, group, f"{first - t0:.6f}", f"{last - t0:.6f}", flush=True)
    p.close()


def floor(argv):
    opts = dict(zip(argv[0::2], argv[1::2]))
    p = Pty(["sh", "-c", "stty raw -echo && echo ready && exec cat"], 40, 120)
    while b"ready" not in p.read(5.0)[0]:
        pass
    for label, data in parse_keys(opts.get("--keys", "")):
        p.drain(0.02)
        t0 = time.perf_counter()
        p.write(data)
        got, first = p.read(5.0)
        if not got:
            sys.exit("ui.py: cat wrote nothing back")
        last = first
        while sum(1 for _ in got) < len(data):   # a key of several bytes: wait for all of them
            more, last = p.read(1.0)
            got += more
        print("key", label, "floor", f"{first - t0:.6f}", f"{last - t0:.6f}", flush=True)
    os.killpg(p.proc.pid, signal.SIGTERM)
    p.proc.wait()
    os.close(p.master)


def first_frame(argv):
    rows, cols = 40, 120
    p = Pty(argv, rows, cols)
    p.attach_screen(rows, cols)
    row = re.compile(r"^\s*\d[\d,]* ")
    deadline = p.started + 120
    while time.perf_counter() < deadline:
        _, at = p.read(0.5)
        if at is None:
            continue
        lines = p.lines()
        if "dicomtui" in lines[0] and "SEQ" in lines[3] and row.match(lines[4]):
            print(f"{at - p.started:.6f}")
            p.close()
            return
    p.close()
    sys.exit("ui.py: no frame with rows within 120 s")


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 64
    {"session": session, "floor": floor, "first-frame": first_frame}[argv[0]](argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
