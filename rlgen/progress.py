"""Progress reporting every long loop shares: a tqdm bar when the output is a terminal, CSV progress rows."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any


def progress_bar(total: int, desc: str, unit: str, *, initial: int = 0, enabled: bool = True):  # noqa: ANN201
    """A tqdm bar on stderr, or None when disabled or stderr is not a terminal (logs, CI)."""
    if not (enabled and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc)


class Heartbeat:
    """Says when ``interval`` seconds have passed since it last did (or since it was made): a loop whose
    rows come rarely (a long epoch) reports its progress in between."""

    def __init__(self, interval: float = 60.0):
        self.interval, self.last = interval, time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True


def append_csv_row(path: Path, row: dict[str, Any], columns: tuple[str, ...]) -> None:
    """Append one row (missing columns left empty), writing the header when the file is new. An existing
    file keeps its own header (a run resumed by a newer rlgen that logs more columns): the row is written
    under it, and columns the header lacks are left out."""
    new = not path.exists()
    if not new:
        with open(path, newline="") as fh:
            columns = tuple(next(csv.reader(fh), None) or columns)
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        if new:
            writer.writeheader()
        writer.writerow({key: row.get(key, "") for key in columns})
