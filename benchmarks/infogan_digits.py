"""InfoGAN's 10-way categorical code as an unsupervised digit classifier (Chen et al. 2016, Section 7.1:
~95% on MNIST): accuracy on the digits test split after matching code values to labels one to one
(Hungarian matching, ``scipy.optimize.linear_sum_assignment``), for ``run_configs/infogan_digits.yaml``.

A code only counts when the model learns it without labels, so the figure is reported per seed (InfoGAN is
known to land on a permutation-equivalent but sometimes merged clustering on a bad seed). Target >= 95%.
For scale, the script also clusters the raw training pixels with k-means (10 clusters, scikit-learn) and
scores the test split the same way: on MNIST k-means gets about 55% against InfoGAN's 95%.

    python benchmarks/infogan_digits.py --seeds 3 --epochs 100 --json benchmarks/results/infogan_digits.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from rlgen.data.images import load_image_set
from rlgen.generative.kind_infogan import matched_accuracy

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import train_config  # noqa: E402

REPORTED = ("seed", "code_accuracy", "classifier_score", "frechet_distance", "mode_coverage", "wall_s")


def kmeans_accuracy(seed: int) -> float:
    """k-means on the raw training pixels, test images assigned to the nearest centre, matched to labels."""
    from sklearn.cluster import KMeans

    train, test = load_image_set("digits", "train"), load_image_set("digits", "test")
    flat = {
        name: part.images.reshape(len(part.images), -1).astype(float)
        for name, part in (("train", train), ("test", test))
    }
    kmeans = KMeans(10, n_init=10, random_state=seed).fit(flat["train"])
    return matched_accuracy(kmeans.predict(flat["test"]), test.labels, 10)


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
            rows.append({key: metrics.get(key) for key in REPORTED})
            print(json.dumps(rows[-1]), flush=True)
    accuracies = [row["code_accuracy"] for row in rows]
    print("\n| seed | code accuracy | wall s |\n|---|---|---|")
    for row in rows:
        print(f"| {row['seed']} | {100 * row['code_accuracy']:.1f}% | {row['wall_s']:.0f} |")
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    print(f"| mean | {100 * statistics.mean(accuracies):.1f}% ± {100 * spread:.1f} | |")
    kmeans = [kmeans_accuracy(seed) for seed in range(args.seeds)]
    per_seed = ", ".join(f"{100 * a:.1f}" for a in kmeans)
    print(f"k-means on raw pixels, same seeds: {100 * statistics.mean(kmeans):.1f}% ({per_seed})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"epochs": args.epochs, "overrides": args.set, "runs": rows, "kmeans": kmeans}, indent=2)
        )


if __name__ == "__main__":
    main()
