"""Progress reporting every long loop shares: a tqdm bar when the output is a terminal, CSV progress rows."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any


def progress_bar(total: int, desc: str, unit: str, *, initial: int = 0, enabled: bool = True):  # noqa: ANN201
    """A tqdm bar on stderr, or None when disabled or stderr is not a terminal (logs, CI)."""
    if not (enabled and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc)


def append_csv_row(path: Path, row: dict[str, Any], columns: tuple[str, ...]) -> None:
    """Append one row (missing columns left empty), writing the header when the file is new."""
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        if new:
            writer.writeheader()
        writer.writerow({key: row.get(key, "") for key in columns})
