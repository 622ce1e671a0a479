"""Ablation of the improved GAN training techniques on digits, like Table 3 of Salimans et al. 2016
(arXiv 1606.03498): the DCGAN baseline, each technique switched on alone (its ``run_configs/gan_<technique>_
digits.yaml``), and the techniques together, all at the same budget and seeds.

Reported per variant (mean ± std over seeds): the digits classifier score (the Inception-score analogue,
higher is better, 10 at most), the Frechet distance on the classifier's features (lower is better), mode
coverage (fraction of the 10 digit classes generated) and wall time.

"All together" is the Salimans et al. set plus label noise and minibatch std; unrolling (Metz et al. 2017) is
a separate row ("all + unrolled"), because unrolling through minibatch discrimination costs ~5x per step.

    python benchmarks/gan_techniques.py --seeds 3 --epochs 100 --json benchmarks/results/gan_techniques.json
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

SINGLE_TECHNIQUES = {
    "feature matching (L2)": "gan_feature_matching_digits",
    "minibatch discrimination": "gan_minibatch_discrimination_digits",
    "historical averaging": "gan_historical_averaging_digits",
    "virtual batch norm": "gan_virtual_batch_norm_digits",
    "one-sided label smoothing": "gan_label_smoothing_digits",
    "label noise": "gan_label_noise_digits",
    "minibatch std": "gan_minibatch_std_digits",
    "unrolled (3 steps)": "gan_unrolled_digits",
    "DiffAugment (translation)": "gan_diff_augment_digits",
}
ALL_TOGETHER = [
    "techniques.feature_matching=l2",
    "techniques.minibatch_discrimination=true",
    "techniques.historical_averaging=1.0e-4",
    "techniques.virtual_batch_norm=true",
    "techniques.label_smoothing=0.9",
    "techniques.label_noise=0.05",
    "techniques.minibatch_std=true",
]
UNROLLED = ["techniques.unrolled_steps=3", "techniques.unrolled_lr=1.0e-2"]
METRICS = ("classifier_score", "frechet_distance", "mode_coverage", "wall_s")


def variants() -> dict[str, tuple[str, list[str]]]:
    """Row name -> (run config, extra overrides), in table order."""
    rows = {"baseline (DCGAN)": ("gan_dcgan_digits", [])}
    rows.update({name: (config, []) for name, config in SINGLE_TECHNIQUES.items()})
    rows["all together"] = ("gan_dcgan_digits", ALL_TOGETHER)
    rows["all + unrolled"] = ("gan_dcgan_digits", ALL_TOGETHER + UNROLLED)
    return rows


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {spread:.2f}"


def print_table(results: dict[str, list[dict]]) -> None:
    print("\n| variant | digits score (higher better) | Frechet distance (lower better) | mode coverage | wall s |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        cells = [mean_std([run[key] for run in runs]) for key in METRICS[:3]]
        wall = statistics.mean(run["wall_s"] for run in runs)
        print(f"| {name} | {' | '.join(cells)} | {wall:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--only", help="comma-separated row names to run (default: every row)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    chosen = variants()
    if args.only:
        wanted = [name.strip() for name in args.only.split(",")]
        unknown = [name for name in wanted if name not in chosen]
        if unknown:
            parser.error(f"unknown rows {unknown}; choose from {list(chosen)}")
        chosen = {name: chosen[name] for name in wanted}
    budget = [f"train.epochs={args.epochs}", f"train.eval_every={args.epochs}", f"train.checkpoint_every={args.epochs}"]
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (config, overrides) in chosen.items():
            for seed in range(args.seeds):
                metrics = train_config(config, seed, budget + overrides, Path(folder))
                row = {"variant": name, "seed": seed, **{key: metrics[key] for key in METRICS}}
                results.setdefault(name, []).append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    args.json.parent.mkdir(parents=True, exist_ok=True)
                    args.json.write_text(json.dumps({"epochs": args.epochs, "results": results}, indent=2))
    print_table(results)


if __name__ == "__main__":
    main()
