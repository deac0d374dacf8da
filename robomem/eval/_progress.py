"""A dependency-free one-line progress bar on stderr. It only draws on a terminal (redirected logs stay
clean), but the final line is always printed."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ("ProgressBar",)


class ProgressBar:
    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None, width: int = 24):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.live = enabled and callable(isatty) and bool(isatty())
        self.width = width
        self._drawn = 0

    def update(self, done: int, label: str = "") -> None:
        if not self.live:
            return
        filled = self.width * done // self.total if self.total else self.width
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {label}".rstrip()
        # Pad with spaces so a shorter line fully covers the previous one.
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(line)

    def finish(self, line: str) -> None:
        if self.live and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
        self.stream.write(line + "\n")
        self.stream.flush()
