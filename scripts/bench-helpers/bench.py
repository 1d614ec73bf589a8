#!/usr/bin/env python3
"""Helpers of scripts/bench (not part of scripts/test or CI).

  bench.py token                          a JWT the emulator accepts (aud = the DICOM audience, exp in 4 h);
                                          unsigned, like every token the emulator checks by default
  bench.py pyloop URL TOKEN [--metadata]  the Python contender: a requests session paging /v2/changefeed by
                                          offset (200 per page, json-decoded) until a short page; prints entries
  bench.py pages N [--metadata]           the page paths a full read of an N-entry v2 feed asks for (for wrk)
  bench.py report RESULTS OUT.md INFO     medians and ratios from the results file: prints the table, writes OUT.md
                                          (the UI's figures too: lines from ui.py and dicomtui-bench ui-keys)
"""
import base64
import json
import statistics
import sys
import time

AUDIENCE = "https://dicom.healthcareapis.azure.com"
LIMIT = 200


def b64(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token():
    now = int(time.time())
    claims = {"aud": AUDIENCE, "iss": "https://sts.windows.net/72f988bf-0000-4000-8000-00000000bench/",
              "iat": now, "nbf": now, "exp": now + 4 * 3600,
              "tid": "72f988bf-0000-4000-8000-00000000bench", "oid": "0b6c8ad4-0000-4000-8000-00000000bench",
              "upn": "bench@contoso.example", "name": "Bench"}
    print(b64({"typ": "JWT", "alg": "RS256", "kid": "bench"}) + "." + b64(claims) + "." + "c2lnbmF0dXJl")


def page_path(offset, metadata):
    return f"/v2/changefeed?offset={offset}&limit={LIMIT}&includeMetadata={'true' if metadata else 'false'}"


def pyloop(url, tok, metadata):
    import requests
    session = requests.Session()
    session.headers.update({"Authorization": "Bearer " + tok, "Accept": "application/json"})
    offset, entries = 0, 0
    while True:
        r = session.get(url.rstrip("/") + page_path(offset, metadata), timeout=60)
        r.raise_for_status()
        page = json.loads(r.content) if r.status_code != 204 and r.content else []
        entries += len(page)
        if len(page) < LIMIT:
            break
        offset += LIMIT
    print(entries)


def pages(n, metadata):
    for offset in range(0, n, LIMIT):
        print(page_path(offset, metadata))


# --- report -------------------------------------------------------------------------------------

CASES = [  # key, title
    ("loop", "loopback, no metadata"),
    ("loop-meta", "loopback, with metadata"),
    ("lat", "50 ms per request, no metadata"),
    ("lat-meta", "50 ms per request, with metadata"),
]
CONTENDERS = [  # key, title
    ("dicomtui", "`dicomtui feed > /dev/null`"),
    ("inproc", "in-process fetcher (`dicomtui-bench fetch-url`)"),
    ("curl", "curl loop, one process per page"),
    ("python", "Python `requests` session loop"),
    ("wrk", "server limit (`wrk`, same pages)"),
]


def fmt(x, digits=0):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def p99(xs):
    xs = sorted(xs)
    return xs[0] if len(xs) < 2 else statistics.quantiles(xs, n=100, method="inclusive")[98]


UI_ROWS = [  # key, title, which time (first frame or finished)
    ("nav", "moving: j, k, PgDn, PgUp, G, g, ↓", 4, "finished frame"),
    ("filter", "filter: `/`, typing, Backspace, Ctrl-u", 3, "first frame"),
    ("filter", "filter: `/`, typing, Backspace, Ctrl-u", 4, "finished frame (every row examined)"),
]


def ui_report(keys, ui_rss, ui_idle, ui_first):
    """The UI's section: key to frame, first frame of --demo, idle CPU, memory per entry."""
    out = []
    if keys:
        n = ui_rss[0] if ui_rss else None
        out.append(f"## The UI{f' with {n:,} entries loaded' if n else ''}\n")
        out.append("Key press to frame, in milliseconds (median and 99th percentile of the presses). In-memory: "
                   "`dicomtui-bench ui-keys`, the app state loaded page by page through `update(.pageLoaded)` "
                   "(the app's merge path), then each key through `update` and `MainScreen.render` into a "
                   "`MemoryTerminal` (a 40 x 120 screen), timed in process. ncurses: the release binary in a "
                   "40 x 120 pseudo-terminal against the emulator (`scripts/bench-helpers/ui.py`), timed from "
                   "writing the key to the terminal to the first byte of output (first frame) and to the last "
                   "byte before the output stays quiet for 150 ms (finished frame): curses, the pty and the "
                   "reader included. A filter examines 25,000 rows per step between frames, so its finished "
                   "frame comes after every row was examined. Target (issue 13): median at most 1 ms.\n")
        out.append("| keys | presses | time | in-memory median | in-memory p99 | ncurses median | ncurses p99 | ncurses / in-memory (median) |")
        out.append("|---|---:|---|---:|---:|---:|---:|---:|")
        for group, title, col, what in UI_ROWS:
            mem = [k[col] * 1000 for k in keys.get(("inmem", group), [])]
            cur = [k[col] * 1000 for k in keys.get(("ncurses", group), [])]
            if not mem and not cur:
                continue
            cells = []
            for xs in (mem, cur):
                cells += [f"{statistics.median(xs):.2f}", f"{p99(xs):.2f}"] if xs else ["—", "—"]
            ratio = f"{statistics.median(cur) / statistics.median(mem):.1f}" if mem and cur and statistics.median(mem) > 0 else "—"
            out.append(f"| {title} | {max(len(mem), len(cur))} | {what} | " + " | ".join(cells) + f" | {ratio} |")
        floor = [k[4] * 1000 for k in keys.get(("floor", "floor"), [])]
        if floor:
            out.append(f"| the harness's floor: the same keys to `cat` in a raw pty (a key's bytes back) | {len(floor)} | "
                       f"bytes back | — | — | {statistics.median(floor):.2f} | {p99(floor):.2f} | — |")
        out.append("")
    rows = []
    if ui_first:
        rows.append(f"| first frame of `dicomtui --demo` (exec to the header and the first row on screen; median of {len(ui_first)}) "
                    f"| {statistics.median(ui_first) * 1000:,.0f} ms | — |")
    if ui_idle:
        cpu, secs = ui_idle
        rows.append(f"| idle CPU, loaded, no follow (user + system, /proc/PID/stat, over {secs:.0f} s) | {cpu:.2f} s | 0 |")
    if ui_rss:
        n, empty, full = ui_rss
        if n:
            rows.append(f"| resident memory per entry, whole process (VmRSS loaded {full / 1024:.1f} MB − empty feed "
                        f"{empty / 1024:.1f} MB) / {n:,} | {(full - empty) * 1024 / n:,.0f} bytes | 150 |")
    if rows:
        out.append("| UI figure | measured | target |")
        out.append("|---|---:|---:|")
        out += rows
        out.append("")
    return out


def report(results_path, out_path, info_path):
    info = dict(line.rstrip("\n").split("=", 1) for line in open(info_path) if "=" in line)
    fetch, cases, cpu, rss, ir, notes = {}, {}, {}, {}, {}, []
    keys, ui_rss, ui_idle, ui_first = {}, None, None, []
    for line in open(results_path):
        f = line.split()
        if not f:
            continue
        if f[0] == "case":            # case KEY ENTRIES PARALLEL ROUNDS
            cases[f[1]] = (int(f[2]), f[3], int(f[4]))
        elif f[0] == "fetch":         # fetch CASE CONTENDER ROUND ENTRIES SECONDS
            fetch.setdefault((f[1], f[2]), []).append(int(f[4]) / float(f[5]))
        elif f[0] == "cpu":           # cpu CASE ROUND ENTRIES CPU_SECONDS MAXRSS_KB
            cpu.setdefault(f[1], []).append((int(f[3]), float(f[4])))
            rss.setdefault(f[1] + ":" + f[3], []).append(int(f[5]))
        elif f[0] == "rss":           # rss LABEL ENTRIES MAXRSS_KB
            rss.setdefault(f[1] + ":" + f[2], []).append(int(f[3]))
        elif f[0] == "stage":         # stage LABEL STAGE ENTRIES_PER_PAGE CPU_US_PER_ENTRY IR_PER_ENTRY|-
            ir.setdefault(f[1], {})[f[2]] = (int(f[3]), float(f[4]), None if f[5] == "-" else float(f[5]))
        elif f[0] == "uikey":         # uikey inmem|ncurses LABEL GROUP FIRST_S LAST_S
            keys.setdefault((f[1], f[3]), []).append((f[1], f[2], f[3], float(f[4]), float(f[5])))
        elif f[0] == "uirss":         # uirss ENTRIES EMPTY_KB FULL_KB
            ui_rss = (int(f[1]), int(f[2]), int(f[3]))
        elif f[0] == "uiidle":        # uiidle CPU_SECONDS SECONDS
            ui_idle = (float(f[1]), float(f[2]))
        elif f[0] == "uifirst":       # uifirst SECONDS
            ui_first.append(float(f[1]))
        elif f[0] == "note":
            notes.append(" ".join(f[1:]))

    out = []
    if fetch:
        out += fetch_report(cases, fetch, cpu, rss, ir)
    out += ui_report(keys, ui_rss, ui_idle, ui_first)
    if notes:
        out.extend("- " + n for n in notes)
    table = "\n".join(out)
    print(table)
    write(out_path, info, table)


def fetch_report(cases, fetch, cpu, rss, ir):
    out = []
    out.append("## Fetch throughput (entries/s, median of the rounds)\n")
    out.append("| case | entries | rounds | " + " | ".join(t for _, t in CONTENDERS)
               + " | dicomtui / python | dicomtui / curl loop | dicomtui / server limit |")
    out.append("|---|---:|---:|" + "---:|" * (len(CONTENDERS) + 3))
    for key, title in CASES:
        if key not in cases:
            continue
        n, par, rounds = cases[key]
        med = {c: (statistics.median(fetch[(key, c)]) if (key, c) in fetch else None) for c, _ in CONTENDERS}
        def ratio(a, b):
            return f"{med[a] / med[b]:.2f}" if med.get(a) and med.get(b) else "—"
        out.append(f"| {title} | {n:,} | {rounds} | " + " | ".join(fmt(med[c]) for c, _ in CONTENDERS)
                   + f" | {ratio('dicomtui', 'python')} | {ratio('dicomtui', 'curl')} | {ratio('dicomtui', 'wrk')} |")
    out.append("")
    out.append("## CPU per entry (user + system time of `dicomtui feed`, median of the rounds)\n")
    out.append("| case | entries | CPU s | µs per entry |")
    out.append("|---|---:|---:|---:|")
    for key, title in CASES:
        if key in cpu:
            n = cpu[key][0][0]
            s = statistics.median(c for _, c in cpu[key])
            out.append(f"| {title} | {n:,} | {s:.2f} | {s / n * 1e6:.1f} |")
    if ir:
        out.append("")
        out.append("Each stage a page goes through, alone (`dicomtui-bench page-stage STAGE` on one saved 200-entry "
                   "page): decode (`ChangeFeedClient.decodePage`), ingest (the UI's `update` with the page), write "
                   "(`feed`'s NDJSON writer, metadata included). CPU per entry (median of 3 runs), and instructions per "
                   "entry from `valgrind --tool=callgrind` (the difference between 1 and 1 + k runs, so start-up cancels "
                   "out). The issue's targets for decode + ingest: 3 µs an entry without metadata, 20 µs with.\n")
        out.append("| page | entries per page | decode µs | ingest µs | write µs | decode + ingest µs | target µs "
                   "| decode instructions | ingest instructions | write instructions |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, stages in ir.items():
            n = next(iter(stages.values()))[0]
            us = {s: stages[s][1] for s in stages}
            per = {s: stages[s][2] for s in stages}
            target = 3 if label == "no-metadata" else 20
            both = us.get("decode", 0) + us.get("ingest", 0)
            out.append(f"| {label} | {n} | {us.get('decode', 0):.2f} | {us.get('ingest', 0):.2f} | {us.get('write', 0):.2f} "
                       f"| {both:.2f} | {target} | {fmt(per.get('decode'))} | {fmt(per.get('ingest'))} | {fmt(per.get('write'))} |")
    out.append("")
    out.append("## Peak resident memory of `dicomtui feed` (`/usr/bin/time -f %M`)\n")
    out.append("| run | entries | peak RSS | bytes per entry |")
    out.append("|---|---:|---:|---:|")
    order = [key for key, _ in CASES]
    for label in sorted(rss, key=lambda k: (order.index(k.split(":")[0]), int(k.split(":")[1]))):
        if not label.startswith("loop"):
            continue
        name, n = label.split(":")
        kb = statistics.median(rss[label])
        title = dict(CASES).get(name, name)
        out.append(f"| {title} | {int(n):,} | {kb / 1024:.1f} MB | {kb * 1024 / int(n):,.0f} |")
    out.append("")
    return out


def write(out_path, info, table):
    header = f"""# Benchmarks

Written by `scripts/bench` (`scripts/bench --quick` for a smoke run); rerun it to replace this file.
Every comparison is a ratio between contenders measured in the same run, against the same emulator
(`dicomtui emulator`, v2, 200 entries per page, a JWT checked as the service does), the contenders
interleaved (A B C … A B C …) and each figure the median of the rounds. Absolute numbers move with
the machine and with whatever else runs on it (this one is shared); the ratios are what to compare.

- date: {info.get('date')}
- commit: {info.get('commit')}
- machine: {info.get('cpu')}, {info.get('cores')} cores, {info.get('ram')} RAM; {info.get('os')}
- toolchain: {info.get('swift')}; release build
- load average at start / end: {info.get('load_start')} / {info.get('load_end')}
- mode: {info.get('mode')}; whole run {info.get('elapsed')}

Contenders: `dicomtui feed --url URL [--metadata] > /dev/null` (the release binary, token from a fake
`az`, defaults: requests in flight adaptive, 4 to 32); the same fetcher in process, entries counted and dropped
(`dicomtui-bench fetch-url`, adaptive too); the seed's way, a bash loop running one `curl -s -H
"Authorization: Bearer …"` per page and stopping at an empty page; a Python `requests` session loop
that `json`-decodes each page and stops at a short page (both one request at a time, as written by
hand); and `wrk` at 32 connections (the most dicomtui keeps in flight) cycling through the same page URLs for a
fixed time: what the emulator can serve. Timings of the first four are wall clock around the whole
process (start-up included; the in-process fetcher times itself).

"""
    # The hand-kept record of changes measured (## Before and after, to the end) survives a rerun.
    kept = ""
    try:
        with open(out_path) as fh:
            old = fh.read()
        marker = "\n## Before and after"
        if marker in old:
            kept = old[old.index(marker):]
    except OSError:
        pass
    with open(out_path, "w") as fh:
        fh.write(header + table + "\n" + kept)


def main(argv):
    if not argv:
        print(__doc__)
        return 64
    cmd = argv[0]
    if cmd == "token":
        token()
    elif cmd == "pyloop":
        pyloop(argv[1], argv[2], "--metadata" in argv)
    elif cmd == "pages":
        pages(int(argv[1]), "--metadata" in argv)
    elif cmd == "report":
        report(argv[1], argv[2], argv[3])
    else:
        print(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
