#!/usr/bin/env python3
"""Runs fashion_mnist on a pseudo-terminal of a given width and checks that no progress line
is wider than the terminal, and that on a pipe it writes plain lines (no carriage returns).

  progress_width.py PROGRAM COLUMNS [program arguments...]
"""
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios


def run_on_pty(argv, columns):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal; no COLUMNS, so the ioctl must answer
        os.environ.pop("COLUMNS", None)
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


def main():
    program, columns, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    # The parent sizes the terminal right after the fork; the first redraw comes only after
    # the data set is loaded, long after.
    code, out = run_on_pty([program] + args, columns)
    if code != 0:
        sys.exit(f"{program} exited with {code}:\n{out}")
    text = re.sub(r"\x1b\[K", "", out)
    drawn = [seg for line in text.split("\n") for seg in line.replace("\r\n", "\n").split("\r")]
    progress = [s for s in drawn if s.startswith("epoch ") and "%" in s]
    if not progress:
        sys.exit(f"no progress line drawn on the terminal:\n{out}")
    too_wide = [s for s in progress if len(s) >= columns]
    if too_wide:
        sys.exit(f"{len(too_wide)} progress lines are {columns} columns or wider, e.g. "
                 f"{too_wide[0]!r} ({len(too_wide[0])})")
    if "\r" not in out:
        sys.exit("on a terminal the progress line is not redrawn in place")
    print(f"{len(progress)} progress lines on a {columns}-column terminal, the widest "
          f"{max(len(s) for s in progress)}: {progress[-1]!r}")

    piped = subprocess.run([program] + args, capture_output=True, text=True, check=True).stdout
    if "\r" in piped or "\x1b" in piped:
        sys.exit("into a pipe the program still redraws lines")
    plain = [l for l in piped.splitlines() if l.startswith("epoch ") and "samples/s" in l]
    if not plain:
        sys.exit(f"into a pipe no plain progress lines:\n{piped}")
    print(f"into a pipe: {len(plain)} plain lines, e.g. {plain[-1]!r}")


if __name__ == "__main__":
    main()
