"""Graceful stop: SIGINT/SIGTERM become a flag the training loops check, so they save before exiting."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any


class StopRequest:
    """Turns SIGINT/SIGTERM into a flag that training checks each step (context manager)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.signum = signum
