"""A status line on a terminal while boots run: which boots, how many tests so far, how long.

Shown only when stderr is a terminal (and not with -v, whose lines would
interleave with it): ``grading: 9/16 boots, running ch5/2G-4 (412 tests),
ch5/64M-4 (380 tests), 12.4 s``. It is redrawn in place a few times a
second and erased before anything else is printed and at the end, so what
stays on the screen, and everything written to a file or a pipe, is the
report alone. The test count is read from each running boot's serial log
(lines of KTAP results, nested ones included).
"""

import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

RESULT_RE = re.compile(rb"^[ \t]*(?:not )?ok \d", re.MULTILINE)
INTERVAL = 0.25


class Progress:
    """The status line; every method is a no-op when @p enabled is false."""

    def __init__(self, enabled: bool, stream: TextIO | None = None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._lock = threading.RLock()
        self._running: dict[str, Path] = {}
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (bytes read, results seen)
        self._done = 0
        self._total = 0
        self._note = ""
        self._shown = False
        self._paused = 0
        self._start = time.monotonic()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start redrawing."""
        if self.enabled:
            self._start = time.monotonic()
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop redrawing and erase the line."""
        self._quit.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._erase()

    def note(self, text: str) -> None:
        """Show @p text (a build, say) while no boot runs."""
        with self._lock:
            self._note = text

    def queued(self) -> None:
        """One more boot to run."""
        with self._lock:
            self._total += 1

    def started(self, key: str, log: Path) -> None:
        """Boot @p key started; its serial output goes to @p log."""
        with self._lock:
            self._running[key] = log
            self._counts[key] = (0, 0)

    def finished(self, key: str) -> None:
        """Boot @p key ended."""
        with self._lock:
            self._running.pop(key, None)
            self._done += 1

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Erase the line while the caller prints (a chapter's report)."""
        with self._lock:
            self._paused += 1
            self._erase()
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def line(self) -> str:
        """The status line as it stands."""
        with self._lock:
            running = [f"{key} ({self._tests(key, log)} tests)" for key, log in self._running.items()]
            elapsed = time.monotonic() - self._start
            if not running and self._note:
                return f"grading: {self._note}, {elapsed:.1f} s"
            what = f", running {', '.join(running)}" if running else ""
            return f"grading: {self._done}/{self._total} boots{what}, {elapsed:.1f} s"

    def _tests(self, key: str, log: Path) -> int:
        """KTAP results in @p log so far (read incrementally)."""
        offset, seen = self._counts.get(key, (0, 0))
        try:
            with open(log, "rb") as file:
                file.seek(offset)
                data = file.read()
        except OSError:
            return seen
        cut = data.rfind(b"\n") + 1  # whole lines only
        seen += len(RESULT_RE.findall(data[:cut]))
        self._counts[key] = (offset + cut, seen)
        return seen

    def _loop(self) -> None:
        """Redraw every INTERVAL seconds until stopped."""
        while not self._quit.wait(INTERVAL):
            with self._lock:
                if not self._paused:
                    self._draw(self.line())

    def _draw(self, text: str) -> None:
        """Replace the line with @p text, cut to the terminal's width."""
        width = _columns(self.stream)
        self.stream.write("\r" + text[: width - 1] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def _erase(self) -> None:
        """Erase the line if it is shown."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def _columns(stream: TextIO) -> int:
    """The terminal's width (80 if it cannot be told)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


def wanted(stream: TextIO, verbose: bool) -> bool:
    """Show progress on @p stream: only on a terminal that is not 'dumb', and not with -v."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not verbose and os.environ.get("TERM", "") != "dumb"
