#!/usr/bin/env python3
"""Issue 14's targets, measured on the real binary in tmux against a feed of 10^8 entries.

    scripts/bench-helpers/scale.py [--bin PATH] [--latency MS] [--seeks N] [--scroll ROWS]

Runs `dicomtui --demo` (the procedural feed of 100,000,000 entries, the newest at now, computed
on demand in the same process) with `--demo-faults latency=MS` (default 50 ms on every answer),
and reports:

- first screen: from launch (which includes starting the emulator and minting the demo token)
  to the newest entry selected with the load at rest; the peer, measured the same way in the
  same run, is the 2,000-entry demo (`--demo-entries 2000`, read whole): the ratio says how
  much slower a feed 50,000 times as large opens;
- the activity timeline: from launch to the strip drawn, and the requests its probes took
  (from the activity view, `a`);
- seeks: `:SEQ` to random sequences and `:TIME` to random times, each from Enter to the list
  showing the entry asked for (the status line's `seq N`), median and worst;
- memory: the process's resident set (VmRSS, and its peak VmHWM) after the seeks, then after
  scrolling down through --scroll rows from the feed's first entry (`g`, then PgDn), which
  reads newer neighbourhoods as the view comes near the end of the list.

The resident figures include the emulator, which runs in the same process with --demo.
Times come from polling the pane every 10 ms: their resolution is about that.
"""
import argparse, random, re, statistics, subprocess, sys, time

SESSION = "dicomtui-scale"


def tmux(*args):
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen():
    return tmux("capture-pane", "-t", SESSION, "-p").splitlines()


def status(lines):
    # The status line is the one above the hint bar (the last line).
    return lines[-2] if len(lines) >= 2 else ""


def wait(predicate, timeout, what):
    start = time.time()
    while time.time() - start < timeout:
        lines = screen()
        if predicate(lines):
            return time.time(), lines
        time.sleep(0.01)
    sys.exit(f"timed out after {timeout} s waiting for {what}:\n" + "\n".join(screen()))


def selected_sequence(lines):
    m = re.search(r"seq ([0-9,]+) \(", status(lines))
    return int(m.group(1).replace(",", "")) if m else None


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                fields[k] = int(v.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=".build/release/dicomtui")
    p.add_argument("--latency", type=int, default=50)
    p.add_argument("--seeks", type=int, default=20)
    p.add_argument("--scroll", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=14)
    a = p.parse_args()
    rng = random.Random(a.seed)

    def first_screen_of(extra):
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        start = time.time()
        tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "30",
             f"exec {a.bin} --demo --demo-live 0 --demo-faults latency={a.latency} --no-mouse {extra}")
        t, _ = wait(lambda l: "idle, at the end of the feed" in status(l) and "(100 %)" in status(l), 60, "the newest entries")
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        return t - start

    # The peer: a small feed, read whole (median of 3, as the large one below is once).
    small = statistics.median(first_screen_of("--demo-entries 2000") for _ in range(3))
    large = statistics.median(first_screen_of("") for _ in range(3))

    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    launched = time.time()
    tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "30",
         f"exec {a.bin} --demo --demo-live 0 --demo-faults latency={a.latency} --no-mouse")
    pid = int(tmux("display", "-p", "-t", SESSION, "#{pane_pid}").strip())
    try:
        t, lines = wait(lambda l: "idle, at the end of the feed" in status(l) and "(100 %)" in status(l), 60, "the newest entries")
        first_screen = t - launched
        newest = selected_sequence(lines)
        t, _ = wait(lambda l: len(l) > 3 and "probing" not in l[3] and "Activity" not in l[3], 60, "the timeline")
        timeline = t - launched
        tmux("send-keys", "-t", SESSION, "a")
        _, lines = wait(lambda l: any("points from" in x for x in l), 10, "the activity view")
        probe_line = next(x for x in lines if "points from" in x)
        requests = re.search(r"([0-9,]+) requests?", probe_line)
        tmux("send-keys", "-t", SESSION, "Escape")

        seeks = []
        for i in range(a.seeks):
            if i % 2 == 0:
                target = rng.randrange(1, newest)
                text = str(target)
                check = lambda l, target=target: (selected_sequence(l) or 0) >= target and "finding" not in status(l) \
                    and (selected_sequence(l) or 0) - target < 10_000
            else:
                days = rng.uniform(0.1, 400)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days * 86400))
                text = stamp
                before = selected_sequence(screen())
                check = lambda l, before=before: selected_sequence(l) not in (None, before) and "finding" not in status(l)
            tmux("send-keys", "-t", SESSION, ":")
            tmux("send-keys", "-t", SESSION, "-l", text)
            start = time.time()
            tmux("send-keys", "-t", SESSION, "Enter")
            t, _ = wait(check, 30, f"the seek to {text}")
            seeks.append(t - start)
        rss_seeks, _ = memory(pid)

        tmux("send-keys", "-t", SESSION, "g")
        wait(lambda l: selected_sequence(l) == 1, 30, "the first entry")
        scroll_start = time.time()
        while (selected_sequence(screen()) or 0) < a.scroll:
            tmux("send-keys", "-t", SESSION, *(["NPage"] * 200))
            time.sleep(0.05)
        scroll = time.time() - scroll_start
        rss_scroll, peak = memory(pid)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)

    print(f"feed: 100,000,000 entries (procedural), {a.latency} ms added to every answer, {a.bin}")
    print(f"first screen of the newest entries, from launch: {large:.2f} s (median of 3; {first_screen:.2f} s in the run below)"
          f" vs {small:.2f} s for the 2,000-entry demo read whole: ratio {large / small:.2f}")
    print(f"activity timeline drawn, from launch: {timeline:.2f} s; probes: {requests.group(1) if requests else '?'} requests")
    print(f"seeks ({len(seeks)}): median {statistics.median(seeks):.2f} s, worst {max(seeks):.2f} s")
    print(f"resident after the seeks: {rss_seeks:.0f} MiB")
    print(f"scrolled through {a.scroll:,} entries from the first in {scroll:.0f} s; resident then {rss_scroll:.0f} MiB, peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
