"""Run progress on stderr: episodes done, running SR, elapsed time, ETA and the current step of each running
episode. On a terminal one line is redrawn in place, and once a second by a background thread, so the clock
moves during a long LLM episode; elsewhere (a log file, CI) a plain line is printed at most every
``interval_s`` seconds. The final line is always printed.

Thread-safe: parallel workers call :meth:`RunProgress.episode_started`, :meth:`~RunProgress.step` and
:meth:`~RunProgress.episode_finished` from their own threads, each with its own episode key.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ("RunProgress", "format_duration")


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class RunProgress:
    def __init__(
        self,
        total: int,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval_s: float = 30.0,
        refresh_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        width: int = 20,
    ) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = enabled
        self.live = enabled and callable(isatty) and bool(isatty())
        self.interval_s = interval_s
        self.clock = clock
        self.width = width
        self._lock = threading.RLock()
        self._started = clock()
        self._last_plain = self._started
        self._done = 0
        self._successes = 0
        self._ran = 0  # finished in this process (not skipped by a resume): what the ETA is based on
        self._running: dict[str, tuple[str, int]] = {}  # key -> (label, current step)
        self._drawn = 0
        self._stop = threading.Event()
        self._refresh_s = refresh_s
        self._ticker: threading.Thread | None = None
        if self.live and refresh_s > 0:
            self._start_ticker()

    def _start_ticker(self) -> None:
        self._ticker = threading.Thread(target=self._tick, args=(self._refresh_s,), daemon=True)
        self._ticker.start()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No redrawing thread during the block, then one again: parallel workers fork there, and a forked
        child inherits the locks a running thread holds (the line's, stderr's) but not the thread."""
        ticker = self._ticker
        if ticker is None or self._stop.is_set():
            yield
            return
        self._stop.set()
        ticker.join()
        try:
            yield
        finally:
            self._stop = threading.Event()
            self._start_ticker()

    # ---- events ------------------------------------------------------------------------------------------
    def episode_started(self, key: str, label: str = "") -> None:
        with self._lock:
            self._running[key] = (label or key, 0)
            self._changed()

    def step(self, key: str, step: int) -> None:
        with self._lock:
            label, _ = self._running.get(key, (key, 0))
            self._running[key] = (label, step)
            self._changed()

    def episode_finished(self, key: str, *, success: bool, skipped: bool = False) -> None:
        """``skipped``: finished in an earlier process (a resumed run); counts for SR, not for the ETA."""
        with self._lock:
            self._running.pop(key, None)
            self._done += 1
            self._successes += bool(success)
            self._ran += not skipped
            self._changed()

    def log(self, text: str) -> None:
        """A message (``--verbose`` steps) that must not be torn by the redrawn line."""
        with self._lock:
            self._clear()
            self.stream.write(text.rstrip("\n") + "\n")
            self._draw()
            self.stream.flush()

    def finish(self, line: str) -> None:
        self.close()
        with self._lock:
            self._clear()
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()

    # ---- drawing -----------------------------------------------------------------------------------------
    def status(self) -> str:
        """The progress line, e.g. ``[#####.....] 12/50 SR 58.3% | 0:01:02, ETA 0:04:10 | base/13 step 7``."""
        with self._lock:
            now = self.clock()
            elapsed = now - self._started
            filled = self.width * self._done // self.total if self.total else self.width
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {self._done}/{self.total}"
            sr = f"SR {100 * self._successes / self._done:.1f}%" if self._done else "SR -"
            left = self.total - self._done
            if left == 0:
                eta = "done"
            elif self._ran:
                eta = f"ETA {format_duration(elapsed / self._ran * left)}"
            else:
                eta = "ETA ?"
            running = ", ".join(f"{label} step {step}" for label, step in self._running.values())
            line = f"{bar} {sr} | {format_duration(elapsed)} elapsed, {eta}"
            return f"{line} | {running}" if running else line

    def _changed(self) -> None:
        if self.live:
            self._draw()
            self.stream.flush()
        elif self.enabled and self.clock() - self._last_plain >= self.interval_s:
            self._last_plain = self.clock()
            self.stream.write("robomem: " + self.status() + "\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.live or self._stop.is_set():
            return
        line = self.status()
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + line.ljust(self._drawn))
        self._drawn = len(line)

    def _clear(self) -> None:
        if self.live and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                self._draw()
                self.stream.flush()
