"""Helpers the benchmark scripts share: train a run config in this process and read its metrics."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch

from rlgen.kinds import kind_module, load_run_config
from rlgen.runs import RunDir

ROOT = Path(__file__).resolve().parents[1]


def train_config(config_name: str, seed: int, overrides: list[str], folder: Path, *, threads: int | None = 1) -> dict:
    """Train ``run_configs/<config_name>.yaml`` with ``--seed seed`` and the overrides; returns metrics.json plus
    ``wall_s``. One torch thread by default: these small models run fastest that way on a shared machine
    (``threads=None`` keeps torch's setting)."""
    if threads is not None:
        torch.set_num_threads(threads)
    config = load_run_config(ROOT / "run_configs" / f"{config_name}.yaml",
                             overrides=["train.progress_bar=false", *overrides], seed=seed)  # fmt: skip
    name = f"{config_name}-{seed}-{hashlib.sha1(repr(overrides).encode()).hexdigest()[:8]}"  # stable across processes
    run = RunDir.create(output_dir=folder, name=name, seed=seed, run_dir=folder / name)
    start = time.perf_counter()
    kind_module(config.kind).train(config, run)
    metrics = json.loads((run.path / "metrics.json").read_text())
    return {**metrics, "wall_s": time.perf_counter() - start, "seed": seed, "run": str(run.path)}
