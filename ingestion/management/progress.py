"""Progress of a long command on stderr: one line per step, redrawn in place as it advances."""

from __future__ import annotations

import time
from typing import Any


class StepProgress:
    """``progress(what, done, total)``: `spool  [##########··········]  51%  1.2 s`."""

    WIDTH = 20

    def __init__(self, stream: Any, *, every: float = 0.2) -> None:
        self.stream, self.every = stream, every
        self.step, self.started, self.drawn_at = "", time.monotonic(), 0.0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if what != self.step:
            if self.step:
                self.stream.write("\n")
            self.step, self.started, self.drawn_at = what, now, 0.0
        elif now - self.drawn_at < self.every and done < total:
            return
        self.drawn_at = now
        share = done / total if total else 1.0
        bar = "#" * round(share * self.WIDTH) + "·" * (self.WIDTH - round(share * self.WIDTH))
        self.stream.write(f"\r{what:<12} [{bar}] {share:4.0%}  {done:>12,}/{total:<12,} {now - self.started:6.1f} s")
        self.stream.flush()

    def close(self) -> None:
        if self.step:
            self.stream.write("\n")
            self.stream.flush()
