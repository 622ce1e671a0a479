"""VIME vs the same algorithm without the bonus on the sparse tasks, over several seeds.

For each task, trains ``run_configs/vime_<task>.yaml`` and ``run_configs/baseline_<task>.yaml`` (same
algorithm, hyperparameters and seeds) with ``rlgen train --seed S``, then reads each run's
``progress.csv`` and ``evaluations.csv``. A seed "reaches the goal" when any training episode (stochastic
policy, SB3's ``rollout/success_rate``) or any evaluation episode (deterministic policy) succeeded; the
success rate is the mean over the last ``--last`` evaluations, and the training success rate is that of
the last 100 training episodes at the end.

    python benchmarks/vime_sparse.py --tasks sparse_mountaincar --seeds 10
    python benchmarks/vime_sparse.py --tasks sparse_cartpole_swingup --seeds 5 --set train.total_timesteps=500000
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["sparse_mountaincar"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--last", type=int, default=3, help="evaluations averaged for the success rate")
    parser.add_argument("--set", action="append", default=[], help="override for both methods")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            for method in ("vime", "baseline"):
                config = ROOT / "run_configs" / f"{method}_{task}.yaml"
                reached, rates, finals, seconds = 0, [], [], 0.0
                for seed in range(args.seeds):
                    run_dir = Path(tmp) / f"{task}-{method}-{seed}"
                    seconds += train(config, seed, run_dir, args.set)
                    ok, rate, final = summarise(run_dir, args.last)
                    reached += ok
                    rates.append(rate)
                    finals.append(final)
                row = {
                    "task": task,
                    "method": method,
                    "seeds": args.seeds,
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
