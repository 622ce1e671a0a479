"""What InfoGAN's label-free selection would have kept had training stopped earlier.

Reads a results JSON whose runs list every evaluation (``code_accuracy`` and ``code_information``, as
``benchmarks/results/infogan_mnist_190_epochs.json`` does) and prints, for each stopping epoch, the code
accuracy of the evaluation ``train.keep: most_informative`` keeps: the one with the most code information
up to that epoch. ``--window K`` scores each evaluation by the mean code information of the last K
evaluations instead. Labels only enter the printed accuracy, never the choice.

    python benchmarks/infogan_stop_epoch.py benchmarks/results/infogan_mnist_190_epochs.json --from 130
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def kept_accuracy(evaluations: list[dict], stop_epoch: int, window: int) -> float:
    """The code accuracy of the evaluation the selection keeps when training stops at ``stop_epoch``.

    Each evaluation is scored by the mean code information of itself and up to ``window - 1`` evaluations
    before it (the first few average fewer). Ties keep the earliest, as the trainer's ``BestWeights`` does.
    """
    seen = [e for e in evaluations if e["epoch"] <= stop_epoch]
    if not seen:
        raise ValueError(f"no evaluation at or before epoch {stop_epoch}")
    information = [e["code_information"] for e in seen]
    scores = [statistics.fmean(information[max(0, i - window + 1) : i + 1]) for i in range(len(seen))]
    best = max(range(len(seen)), key=lambda i: (scores[i], -i))
    return seen[best]["code_accuracy"]


def read_curves(path: Path) -> dict[int, list[dict]]:
    """Each seed's evaluations, checked for the three fields the selection reads."""
    runs = json.loads(path.read_text())["runs"]
    curves = {run["seed"]: run["evaluations"] for run in runs}
    if not curves or not all(curves.values()):
        raise ValueError("no runs, or a run without evaluations")
    for curve in curves.values():
        for evaluation in curve:
            for field in ("epoch", "code_accuracy", "code_information"):
                if not isinstance(evaluation.get(field), (int, float)):
                    raise ValueError(f"an evaluation lacks a numeric {field!r}")
    return curves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results JSON with runs[].evaluations[]")
    parser.add_argument("--from", dest="first", type=int, default=0, help="first stopping epoch to print")
    parser.add_argument("--window", type=int, default=1, help="evaluations averaged into the score")
    args = parser.parse_args(argv)
    if args.window < 1:
        parser.error(f"--window must be at least 1, got {args.window}")
    try:
        curves = read_curves(args.results)
        epochs = sorted({e["epoch"] for curve in curves.values() for e in curve if e["epoch"] >= args.first})
        table = [(stop, [kept_accuracy(curve, stop, args.window) for curve in curves.values()]) for stop in epochs]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        print(f"error: {args.results} is not a results JSON with runs[].evaluations[]: {error}", file=sys.stderr)
        return 2
    print("stop epoch | " + " | ".join(f"seed {seed}" for seed in curves) + " | mean")
    for stop, kept in table:
        cells = " | ".join(f"{100 * accuracy:.1f}%" for accuracy in kept)
        print(f"{stop} | {cells} | {100 * statistics.fmean(kept):.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
