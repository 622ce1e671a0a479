"""InfoGAN's 10-way categorical code as an unsupervised digit classifier (Chen et al. 2016, Section 7.1:
~95% on MNIST): accuracy on the digits test split after matching code values to labels one to one
(Hungarian matching, ``scipy.optimize.linear_sum_assignment``), for ``run_configs/infogan_digits.yaml``.

A code only counts when the model learns it without labels, so the figure is reported per seed (InfoGAN is
known to land on a permutation-equivalent but sometimes merged clustering on a bad seed). Target >= 95%.
For scale, the script also clusters the raw training pixels with k-means (10 clusters, scikit-learn) and
scores the test split the same way: on MNIST k-means gets about 55% against InfoGAN's 95%.

    python benchmarks/infogan_digits.py --seeds 3 --epochs 100 --json benchmarks/results/infogan_digits.json

``--config infogan_mnist --set data.path=DIR`` runs the paper's MNIST set-up instead (any folder holding
the four MNIST IDX files; the test split there is scored, and k-means uses the same data), and
``--config infogan_mnist_subset`` the set-up for the 4,000-image subset of ``benchmarks/mnist_subset.py``:

    python benchmarks/infogan_digits.py --config infogan_mnist_subset --first-seed 8 --seeds 3 \
        --set data.path=DIR --runs-dir runs/infogan_subset

Every evaluation's code accuracy and code information (Q's label-free estimate of I(c; x) on the training
images) goes to the JSON. With ``--set train.keep=most_informative`` each run keeps the weights of its most
informative evaluation, and the summary adds the restart chosen the same way (the seed whose kept weights
have the highest code information): model selection that never looks at a label.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rlgen.data.images import load_image_set
from rlgen.errors import RlgenError
from rlgen.generative.kind_infogan import matched_accuracy
from rlgen.kinds import load_run_config

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import ROOT, train_config  # noqa: E402

REPORTED = ("seed", "code_accuracy", "code_information", "best_epoch", "classifier_score", "frechet_distance",
            "mode_coverage", "wall_s")  # fmt: skip
TRACKED = ("epoch", "code_accuracy", "code_information", "live_code_accuracy", "live_code_information")
"""Per evaluation; the live_ columns (Q without averaging) exist with model.d_ema_decay > 0."""


def evaluations(run: Path) -> list[dict[str, float]]:
    """The run's evaluated epochs from progress.csv: epoch, code accuracy, code information (and the live Q's)."""
    with open(run / "progress.csv") as fh:
        rows = [row for row in csv.DictReader(fh) if row.get("code_accuracy")]
    return [{"epoch": int(row["epoch"]), **{key: float(row[key]) for key in TRACKED[1:] if row.get(key)}}
            for row in rows]  # fmt: skip


def kmeans_accuracy(seed: int, dataset: str = "digits", path: str | None = None) -> float:
    """k-means on the raw training pixels, test images assigned to the nearest centre, matched to labels."""
    from sklearn.cluster import KMeans

    train, test = load_image_set(dataset, "train", path), load_image_set(dataset, "test", path)
    flat = {
        name: part.images.reshape(len(part.images), -1).astype(float)
        for name, part in (("train", train), ("test", test))
    }
    kmeans = KMeans(10, n_init=10, random_state=seed).fit(flat["train"])
    return matched_accuracy(kmeans.predict(flat["test"]), test.labels, 10)


@contextlib.contextmanager
def runs_folder(keep: Path | None) -> Iterator[Path]:
    """``keep`` (created if missing), or a temporary folder removed afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--epochs", type=int, help="default: the config's train.epochs")
    parser.add_argument("--config", default="infogan_digits", help="run config name in run_configs/")
    parser.add_argument("--set", action="append", default=[], help="extra config overrides")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs-dir", type=Path, help="keep the runs here (confusion matrices, traversals, "
                        "checkpoints to resume with rlgen train --resume); default: a temporary folder")  # fmt: skip
    args = parser.parse_args()
    seeds, rows = range(args.first_seed, args.first_seed + args.seeds), []
    overrides = [*([] if args.epochs is None else [f"train.epochs={args.epochs}"]), *args.set]
    # loaded up front so that a bad key fails before the first run, not after hours of training
    config = load_run_config(ROOT / "run_configs" / f"{args.config}.yaml", overrides=overrides)
    with runs_folder(args.runs_dir) as folder:
        for seed in seeds:
            metrics = train_config(args.config, seed, overrides, folder)
            row = {key: metrics.get(key) for key in REPORTED}
            rows.append({**row, "evaluations": evaluations(Path(metrics["run"]))})
            print(json.dumps(rows[-1]), flush=True)
    accuracies = [row["code_accuracy"] for row in rows]
    print("\n| seed | code accuracy | wall s |\n|---|---|---|")
    for row in rows:
        print(f"| {row['seed']} | {100 * row['code_accuracy']:.1f}% | {row['wall_s']:.0f} |")
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    print(f"| mean | {100 * statistics.mean(accuracies):.1f}% ± {100 * spread:.1f} | |")
    chosen = max(rows, key=lambda row: row["code_information"] or 0.0)
    print(
        f"the restart with the most code information (seed {chosen['seed']}, {chosen['code_information']:.3f} "
        f"nats): {100 * chosen['code_accuracy']:.1f}%"
    )
    kmeans = [kmeans_accuracy(seed, config.data.dataset, config.data.path) for seed in seeds]
    per_seed = ", ".join(f"{100 * a:.1f}" for a in kmeans)
    print(f"k-means on raw pixels, same seeds: {100 * statistics.mean(kmeans):.1f}% ({per_seed})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "config": args.config,
                    "epochs": config.train.epochs,
                    "overrides": args.set,
                    "runs": rows,
                    "kmeans": kmeans,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    try:
        main()
    except RlgenError as err:  # e.g. a kept run that already exists: one line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
