"""VIME vs the same algorithm without the bonus on the sparse tasks, over several seeds.

For each task, trains ``run_configs/vime_<task>.yaml`` and ``run_configs/baseline_<task>.yaml`` (same
algorithm, hyperparameters and seeds) with ``rlgen train --seed S``, then reads each run's
``progress.csv`` and ``evaluations.csv``. A seed "reaches the goal" when any training episode (stochastic
policy, SB3's ``rollout/success_rate``) or any evaluation episode (deterministic policy) succeeded; the
success rate is the mean over the last ``--last`` evaluations, and the training success rate is that of
the last 100 training episodes at the end.

    python benchmarks/vime_sparse.py --tasks sparse_mountaincar --seeds 10
    python benchmarks/vime_sparse.py --tasks sparse_cartpole_swingup --seeds 5 --set train.total_timesteps=500000

To split a sweep over processes, give each its own ``--methods`` and/or ``--first-seed``/``--seeds`` and
a common ``--runs-dir``; a run directory that this script already finished is summarised, not retrained,
so the last call (``--methods vime baseline``) reports the whole sweep.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train(config: Path, seed: int, run_dir: Path, overrides: list[str]) -> float:
    cmd = [sys.executable, "-m", "rlgen", "train", str(config), "--seed", str(seed), "--run-dir", str(run_dir)]
    for item in overrides:
        cmd += ["--set", item]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def read_column(path: Path, column: str) -> list[float]:
    with open(path, newline="") as fh:
        return [float(row[column]) for row in csv.DictReader(fh) if row.get(column)]


def summarise(run_dir: Path, last: int) -> tuple[bool, float, float]:
    """(reached the goal, mean eval success over the last evaluations, final training success rate)."""
    evals = read_column(run_dir / "evaluations.csv", "success_rate") or [0.0]
    training = read_column(run_dir / "progress.csv", "rollout/success_rate") or [0.0]
    reached = max(evals) > 0 or max(training) > 0
    return reached, sum(evals[-last:]) / len(evals[-last:]), training[-1]


def run_seed(config: Path, seed: int, run_dir: Path, overrides: list[str]) -> float:
    """Train unless `run_dir` already holds a finished run; returns the seconds its training took."""
    timing = run_dir / "benchmark_wall_s.txt"
    if (run_dir / "policy.zip").is_file() and timing.is_file():
        return float(timing.read_text())
    seconds = train(config, seed, run_dir, overrides)
    timing.write_text(f"{seconds:.1f}\n")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["sparse_mountaincar"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["vime", "baseline"], choices=["vime", "baseline"])
    parser.add_argument("--runs-dir", type=Path, help="keep the run directories here (default: a temp dir)")
    parser.add_argument("--last", type=int, default=3, help="evaluations averaged for the success rate")
    parser.add_argument("--set", action="append", default=[], help="override for both methods")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs_dir or Path(tmp)
        for task in args.tasks:
            for method in args.methods:
                config = ROOT / "run_configs" / f"{method}_{task}.yaml"
                reached, rates, finals, seconds = 0, [], [], 0.0
                for seed in seeds:
                    run_dir = runs / f"{task}-{method}-{seed}"
                    seconds += run_seed(config, seed, run_dir, args.set)
                    ok, rate, final = summarise(run_dir, args.last)
                    reached += ok
                    rates.append(rate)
                    finals.append(final)
                row = {
                    "task": task,
                    "method": method,
                    "seeds": list(seeds),
                    "reached_goal": reached,
                    "mean_eval_success_last": sum(rates) / len(rates),
                    "mean_final_training_success": sum(finals) / len(finals),
                    "wall_s": seconds,
                    "per_seed_eval_success_last": rates,
                    "per_seed_final_training_success": finals,
                }
                rows.append(row)
                print(
                    f"{task:<26} {method:<9} goal {reached}/{args.seeds}  eval success (last {args.last}) "
                    f"{row['mean_eval_success_last']:.2f}  training success {row['mean_final_training_success']:.2f}  "
                    f"wall {seconds:.0f}s",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
