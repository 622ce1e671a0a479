"""SB3 logger set-up for a run directory: stdout table, CSV that survives resume, TensorBoard."""

from __future__ import annotations

import sys
from pathlib import Path

from stable_baselines3.common.logger import (
    CSVOutputFormat,
    HumanOutputFormat,
    KVWriter,
    Logger,
    TensorBoardOutputFormat,
)

METRICS_FILE = "progress.csv"


class AppendingCSVOutputFormat(CSVOutputFormat):
    """SB3's CSV writer, but a resumed run appends to the existing file instead of truncating it."""

    def __init__(self, filename: str | Path):
        path = Path(filename)
        if path.is_file() and path.stat().st_size > 0:
            self.file = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed by Logger.close()
            header = self.file.readline().rstrip("\n")
            self.keys = header.split(",") if header else []
            self.file.seek(0, 2)
            self.separator, self.quotechar = ",", '"'
        else:
            super().__init__(str(path))


def make_logger(run_path: Path, *, stdout: bool) -> Logger:
    """A logger writing ``progress.csv`` and ``tb/`` in the run directory (and a table to stdout)."""
    formats: list[KVWriter] = [
        AppendingCSVOutputFormat(run_path / METRICS_FILE),
        TensorBoardOutputFormat(str(run_path / "tb")),
    ]
    if stdout:
        formats.insert(0, HumanOutputFormat(sys.stdout))
    return Logger(str(run_path), formats)
