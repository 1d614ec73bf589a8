#!/usr/bin/env python3
"""Runs a command in a private tmux server, optionally types keys, and renders the pane to a PNG.

    scripts/screenshot.py --out screenshots/demo.png --cols 100 --rows 30 \
        --wait-for "idle, at the end" --keys j j j -- .build/debug/dicomtui --demo

Needs: tmux, fonts-dejavu-core, fonts-noto-cjk (Debian); pyte, pillow, fonttools (PyPI).
The pane is captured with colours (capture-pane -e -N), replayed into a pyte screen and
painted cell by cell: wide (CJK) glyphs span two cells and use the CJK font.
"""
import argparse, os, shlex, subprocess, sys, tempfile, time, unicodedata

import pyte
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
LATIN_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SIZE = 16
# A dark 16-colour palette (black, red, green, yellow, blue, magenta, cyan, white, then bright).
PALETTE = ["1e1e1e", "cd3131", "0dbc79", "e5e510", "2472c8", "bc3fbc", "11a8cd", "e5e5e5",
           "666666", "f14c4c", "23d18b", "f5f543", "3b8eea", "d670d6", "29b8db", "ffffff"]
NAMES = ["black", "red", "green", "brown", "blue", "magenta", "cyan", "white"]
FG, BG = "d4d4d4", "1e1e1e"


def tmux(sock, *args, check=True):
    return subprocess.run(["tmux", "-u", "-L", sock, *args], check=check, capture_output=True, text=True).stdout


def colour(value, default):
    if value == "default":
        return default
    if value in NAMES:
        return PALETTE[NAMES.index(value)]
    if value.startswith("bright") and value[6:] in NAMES:
        return PALETTE[8 + NAMES.index(value[6:])]
    if len(value) == 6:
        return value
    return default


def render(lines, cols, rows, out):
    screen = pyte.Screen(cols, rows)
    stream = pyte.Stream(screen)
    for y, line in enumerate(lines[:rows]):
        # Absolute positioning per row: no wrap or scroll artefacts; SGR state carries over.
        stream.feed(f"\x1b[{y + 1};1H" + line.replace("\x1b[4:3m", "\x1b[4m"))
    latin, bold = ImageFont.truetype(LATIN, SIZE), ImageFont.truetype(LATIN_BOLD, SIZE)
    cjk = ImageFont.truetype(CJK, SIZE, index=0)
    cmap = TTFont(LATIN, lazy=True).getBestCmap()
    ascent, descent = latin.getmetrics()
    cw, ch = int(latin.getlength("M")), ascent + descent
    img = Image.new("RGB", (cols * cw + 16, rows * ch + 16), "#" + BG)
    draw = ImageDraw.Draw(img)
    for y in range(rows):
        row = screen.buffer[y]
        x = 0
        while x < cols:
            c = row[x]
            wide = c.data and unicodedata.east_asian_width(c.data[0]) in "WF"
            span = 2 if wide else 1
            fg, bg = colour(c.fg, FG), colour(c.bg, BG)
            if c.reverse:
                fg, bg = bg, fg
            px, py = 8 + x * cw, 8 + y * ch
            draw.rectangle([px, py, px + span * cw - 1, py + ch - 1], fill="#" + bg)
            text = c.data or " "
            if text.strip():
                if text == "█":
                    draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill="#" + fg)
                else:
                    font = cjk if wide or ord(text[0]) not in cmap else (bold if c.bold else latin)
                    w = font.getlength(text)
                    draw.text((px + (span * cw - w) / 2, py), text, font=font, fill="#" + fg)
            if c.underscore:
                draw.line([px, py + ch - 2, px + span * cw - 1, py + ch - 2], fill="#" + fg)
            x += span
    img.save(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--wait-for", action="append", default=[], help="text that must be on screen first")
    ap.add_argument("--keys", nargs="*", default=[], help="tmux key names to send after the wait")
    ap.add_argument("--then-wait-for", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    sock = f"shots-{os.getpid()}"
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("set -g default-terminal tmux-256color\nset -g status off\n")
    conf.close()
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    subprocess.run(["tmux", "-u", "-L", sock, "-f", conf.name, "new-session", "-d", "-s", "shot",
                    "-x", str(a.cols), "-y", str(a.rows), shlex.join(cmd)], check=True, env=env)
    try:
        def wait(texts):
            deadline = time.time() + a.timeout
            while time.time() < deadline:
                screen = tmux(sock, "capture-pane", "-p", "-t", "shot")
                if all(t in screen for t in texts):
                    time.sleep(0.3)
                    return
                time.sleep(0.1)
            sys.exit(f"timed out waiting for {texts}:\n{screen}")
        wait(a.wait_for)
        for k in a.keys:
            tmux(sock, "send-keys", "-t", "shot", k)
            time.sleep(0.05)
        wait(a.then_wait_for)
        raw = tmux(sock, "capture-pane", "-p", "-e", "-N", "-t", "shot")
        render(raw.split("\n"), a.cols, a.rows, a.out)
        print(f"wrote {a.out}")
    finally:
        tmux(sock, "kill-server", check=False)
        os.unlink(conf.name)


if __name__ == "__main__":
    main()
