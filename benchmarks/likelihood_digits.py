"""Test bits/dim (17 levels) on the digits test set: per-pixel categorical baseline, VAE (IW-NLL), VAE+IAF
(IW-NLL), two-layer VAE+IAF with bidirectional inference (IW-NLL), RealNVP, Glow (per-step and shared
coupling networks), PixelCNN; the same number of epochs for every model, several seeds.

Each model is ``rlgen train run_configs/<model>_digits.yaml --seed S --set train.epochs=E`` (in-process);
the reported figure is ``metrics.json``'s test bits/dim: the exact NLL for PixelCNN and the categorical
baseline, the one-sample dequantised bound for the flows, and the importance-weighted NLL (k = 100) for
the VAEs (their ELBO is reported too). The baseline is an independent 17-way categorical per pixel fitted
by counting on the training set (add-one smoothing).

    python benchmarks/likelihood_digits.py --seeds 3 --epochs 50
    python benchmarks/likelihood_digits.py --models glow pixelcnn --seeds 1 --epochs 2   # smoke run

With ``--set data.validation=0.1 --set train.eval_every=5`` every model is trained on 90% of the training
images and keeps the weights of the epoch with the best validation bits/dim (model selection without the
test set); each row then also gives that epoch.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from rlgen.data.images import load_image_set

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import train_config  # noqa: E402 - the benchmarks folder is not a package

MODELS = ["vae", "vae_iaf", "vae_ladder", "realnvp", "glow", "glow_shared", "pixelcnn"]


def categorical_baseline() -> float:
    train, test = load_image_set("digits", "train"), load_image_set("digits", "test")
    counts = np.ones((*train.shape, train.levels))  # add-one smoothing
    for level in range(train.levels):
        counts[..., level] += (train.images == level).sum(0)
    probs = counts / counts.sum(-1, keepdims=True)
    picked = np.take_along_axis(probs[None], test.images[..., None].astype(np.int64), axis=-1)[..., 0]
    return float(-np.log(picked).sum(axis=(1, 2, 3)).mean() / (np.prod(train.shape) * math.log(2)))


def train_one(model: str, seed: int, epochs: int, tmp: Path, overrides: list[str]) -> dict:
    metrics = train_config(f"{model}_digits", seed, [f"train.epochs={epochs}", *overrides], tmp, threads=None)
    iw = [v for k, v in metrics.items() if k.startswith("test_iw_nll")]
    return {
        "model": model,
        "seed": seed,
        "bits_per_dim": iw[0] if iw else metrics["test_bits_per_dim"],
        "elbo_bits_per_dim": metrics["test_bits_per_dim"] if iw else None,
        "best_epoch": metrics.get("best_epoch"),
        "parameters": metrics["parameters"],
        "wall_s": metrics["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--set", action="append", default=[], help="override for every model")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            for seed in range(args.seeds):
                rows.append(train_one(model, seed, args.epochs, Path(tmp), args.set))
                print(json.dumps(rows[-1]), flush=True)
    baseline = categorical_baseline()
    print(f"\n{'model':<22} {'test bits/dim':>16} {'ELBO':>7} {'params':>9} {'wall/seed':>10}")
    print(f"{'per-pixel categorical':<22} {baseline:>16.3f}")
    for model in args.models:
        mine = [r for r in rows if r["model"] == model]
        bpd = [r["bits_per_dim"] for r in mine]
        elbo = [r["elbo_bits_per_dim"] for r in mine if r["elbo_bits_per_dim"] is not None]
        print(
            f"{model:<22} {statistics.mean(bpd):>9.3f} ± {statistics.pstdev(bpd):<5.3f}"
            f"{statistics.mean(elbo) if elbo else float('nan'):>7.3f} {mine[0]['parameters']:>9} "
            f"{statistics.mean(r['wall_s'] for r in mine):>9.0f}s"
        )
    if args.json:
        payload = {"command": " ".join(sys.argv), "baseline_categorical": baseline, "rows": rows}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
