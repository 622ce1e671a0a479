"""InfoGAN's 10-way categorical code as an unsupervised digit classifier (Chen et al. 2016, Section 7.1:
~95% on MNIST): accuracy on the digits test split after matching code values to labels one to one
(Hungarian matching, ``scipy.optimize.linear_sum_assignment``), for ``run_configs/infogan_digits.yaml``.

A code only counts when the model learns it without labels, so the figure is reported per seed (InfoGAN is
known to land on a permutation-equivalent but sometimes merged clustering on a bad seed). Target >= 95%.

    python benchmarks/infogan_digits.py --seeds 3 --epochs 100 --json benchmarks/results/infogan_digits.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import train_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--set", action="append", default=[], help="extra config overrides")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.seeds):
            metrics = train_config("infogan_digits", seed, [f"train.epochs={args.epochs}", *args.set], Path(folder))
            rows.append({key: metrics.get(key) for key in ("seed", "code_accuracy", "classifier_score",
                                                          "frechet_distance", "mode_coverage", "wall_s")})
            print(json.dumps(rows[-1]), flush=True)
    accuracies = [row["code_accuracy"] for row in rows]
    print("\n| seed | code accuracy | wall s |\n|---|---|---|")
    for row in rows:
        print(f"| {row['seed']} | {100 * row['code_accuracy']:.1f}% | {row['wall_s']:.0f} |")
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    print(f"| mean | {100 * statistics.mean(accuracies):.1f}% ± {100 * spread:.1f} | |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"epochs": args.epochs, "overrides": args.set, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
