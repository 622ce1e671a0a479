"""Run directories, atomic file writes and the checkpoint store.

A run directory ``<output_dir>/<name>__<seed>__<timestamp>/`` holds everything needed to evaluate
or resume a run::

    config.yaml        the resolved config (debug block and overrides applied)
    command.txt        every command line that trained into this directory
    meta.json          package versions, start time, host
    progress.csv, tb/  metrics (CSV and TensorBoard)
    evaluations.csv    periodic evaluations (timesteps, mean/std return, success rate)
    checkpoints/       step_<N>/ and best_<N>/ directories; latest.json and best.json point at them
    policy.zip ...     final artefacts written at the end of training
    plots/             learning curves and other figures

Checkpoints are written into a temporary directory that is renamed into place, then a small pointer
file is replaced atomically, so an interrupted write never leaves a corrupt "latest" checkpoint.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rlgen.config import dump_yaml
from rlgen.errors import RlgenError

CONFIG_FILE = "config.yaml"
_VERSIONED_PACKAGES = ("rlgen", "torch", "stable-baselines3", "sb3-contrib", "gymnasium", "mujoco", "numpy")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` (for writers that need a path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Checkpoint:
    """One complete checkpoint directory and the environment step it was taken at."""

    path: Path
    step: int


def _suffix(name: str) -> int:
    """0 for ``step_N``, k for ``step_N.k``."""
    _, _, k = name.partition(".")
    return int(k) if k.isdigit() else 0


def _checkpoint_order(path: Path) -> tuple[str, int]:
    """Checkpoint folders oldest first: by step, then by suffix (``step_N.10`` after ``step_N.2``)."""
    return path.name.split(".")[0], _suffix(path.name)


class CheckpointStore:
    """Checkpoint directories with atomically updated ``latest`` and ``best`` pointers."""

    def __init__(self, root: Path, keep: int = 2):
        self.root = root
        self.keep = keep

    def save(self, step: int, write: Callable[[Path], None], *, tag: str = "latest") -> Checkpoint:
        """Write a checkpoint with ``write(directory)`` and point ``tag`` (latest or best) at it."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            write(tmp)
            final = self._fresh_name(f"{'best' if tag == 'best' else 'step'}_{step:012d}")
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        pointer = {"dir": final.name, "step": step, "time": time.time()}
        atomic_write_text(self.root / f"{tag}.json", json.dumps(pointer))
        self._prune()
        return Checkpoint(final, step)

    def _fresh_name(self, name: str) -> Path:
        """``name``, or ``name.1``, ``name.2`` ... when a checkpoint of that step is already there (a Ctrl-C
        checkpoint mid-epoch shares its epoch number with the one before it): the one a pointer names is never
        removed before the pointer moves, so a kill in between leaves a usable checkpoint."""
        taken = [_suffix(p.name) for p in self.root.glob(name + "*") if p.name.split(".")[0] == name]
        return self.root / (f"{name}.{max(taken) + 1}" if taken else name)

    def get(self, tag: str = "latest") -> Checkpoint | None:
        """The checkpoint ``tag`` points at, or None when there is none."""
        pointer = self.root / f"{tag}.json"
        if not pointer.is_file():
            return None
        try:
            info = json.loads(pointer.read_text())
            path = self.root / info["dir"]
            step = int(info["step"])
        except (ValueError, KeyError, TypeError, OSError) as err:
            raise RlgenError(f"corrupt checkpoint pointer {pointer}: {err}") from None
        if not path.is_dir():
            raise RlgenError(f"checkpoint {path} named by {pointer} is missing")
        return Checkpoint(path, step)

    def _prune(self) -> None:
        pinned = {c.path.name for c in (self.get("latest"), self.get("best")) if c is not None}
        periodic = sorted((p for p in self.root.glob("step_*") if p.is_dir()), key=_checkpoint_order)
        for path in periodic[: -self.keep]:
            if path.name not in pinned:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob("best_*"):
            if path.name not in pinned:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(".tmp-*"):  # left by a writer that was killed outright
            shutil.rmtree(path, ignore_errors=True)


class RunDir:
    """A run directory: where a run's config, metrics, checkpoints and artefacts live."""

    def __init__(self, path: str | Path, keep_checkpoints: int = 2):
        self.path = Path(path)
        self.checkpoints = CheckpointStore(self.path / "checkpoints", keep=keep_checkpoints)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def plots(self) -> Path:
        path = self.path / "plots"
        path.mkdir(exist_ok=True)
        return path

    @classmethod
    def create(cls, *, output_dir: str | Path, name: str, seed: int, run_dir: str | Path | None = None) -> RunDir:
        """Make a fresh run directory; an existing non-empty ``run_dir`` is refused (nothing is overwritten)."""
        if run_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = Path(output_dir) / f"{name}__{seed}__{stamp}"
            suffix = 1
            while path.exists():
                suffix += 1
                path = Path(output_dir) / f"{name}__{seed}__{stamp}-{suffix}"
        else:
            path = Path(run_dir)
            if path.exists() and any(path.iterdir()):
                raise RlgenError(
                    f"run directory {path} already exists and is not empty; "
                    f"continue it with --resume {path} or choose another --run-dir"
                )
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """Open an existing run directory (for resume or evaluation)."""
        path = Path(path)
        if not path.is_dir():
            raise RlgenError(f"run directory not found: {path}")
        if not (path / CONFIG_FILE).is_file():
            raise RlgenError(f"{path} is not an rlgen run directory (no {CONFIG_FILE} inside)")
        return cls(path)

    def write_start(self, config: dict[str, Any], argv: Sequence[str]) -> None:
        """Record the resolved config, the command line and package versions."""
        atomic_write_text(self.config_file, dump_yaml(config))
        self.append_command(argv)
        meta = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": socket.gethostname(),
            "python": platform.python_version(),
            "versions": _versions(),
        }
        atomic_write_text(self.path / "meta.json", json.dumps(meta, indent=2))

    def append_command(self, argv: Sequence[str]) -> None:
        """Append the command as a user would retype it: ``argv`` holds the CLI's arguments, so the program is
        ``rlgen`` whether it was started as ``rlgen``, ``python -m rlgen`` or from a benchmark script."""
        with open(self.path / "command.txt", "a", encoding="utf-8") as fh:
            fh.write(shlex.join(["rlgen", *argv]) + "\n")


def _versions() -> dict[str, str]:
    out = {}
    for name in _VERSIONED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
