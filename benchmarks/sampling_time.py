"""Sampling time per 32x32x3 image (256 levels): VAE + IAF posterior vs PixelCNN, same process, same threads.

The IAF paper (Kingma et al. 2016, Section 5.2) reports IAF sampling ~1000x faster than PixelCNN on
32x32 CIFAR-10: a VAE decodes an image in one pass, PixelCNN needs one network pass per pixel (1,024
here). Both models are built from ``run_configs/vae_iaf_digits.yaml`` and ``run_configs/pixelcnn_digits.yaml``
(architecture as configured; the likelihood switched to the logistic mixture for 256 levels) at
3x32x32. Weights are untrained: the time of a pass does not depend on their values. Each model draws
``--batch`` images ``--repeats`` times; the table gives the median time per image and the ratio.

    python benchmarks/sampling_time.py --batch 16 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from rlgen.kinds import kind_module, load_run_config

ROOT = Path(__file__).resolve().parents[1]
SHAPE, LEVELS = (3, 32, 32), 256
MODELS = {
    "vae_iaf": ("vae_iaf_digits.yaml", ["model.likelihood=logistic_mixture", "model.latent_dim=32"]),
    "pixelcnn": ("pixelcnn_digits.yaml", ["model.likelihood=logistic_mixture"]),
}


def build(name: str) -> torch.nn.Module:
    config_file, overrides = MODELS[name]
    config = load_run_config(ROOT / "run_configs" / config_file, overrides=overrides)
    return kind_module(config.kind).build_model(config, SHAPE, LEVELS).eval()


@torch.no_grad()
def seconds_per_image(model: torch.nn.Module, batch: int, repeats: int) -> list[float]:
    model.sample(1)  # warm-up (allocations, lazy initialisation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        images = model.sample(batch)
        times.append((time.perf_counter() - start) / batch)
        assert images.shape == (batch, *SHAPE)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = {}
    for name in MODELS:
        model = build(name)
        times = seconds_per_image(model, args.batch, args.repeats)
        rows[name] = {
            "seconds_per_image": statistics.median(times),
            "all": times,
            "parameters": sum(p.numel() for p in model.parameters()),
        }
        print(json.dumps({name: rows[name]}), flush=True)
    ratio = rows["pixelcnn"]["seconds_per_image"] / rows["vae_iaf"]["seconds_per_image"]
    print(f"\n{'model':<10} {'ms per image':>13} {'parameters':>11}   (torch threads {torch.get_num_threads()})")
    for name, row in rows.items():
        print(f"{name:<10} {1000 * row['seconds_per_image']:>13.3f} {row['parameters']:>11}")
    print(f"PixelCNN / VAE+IAF: {ratio:.0f}x")
    if args.json:
        payload = {"command": " ".join(sys.argv), "rows": rows, "ratio": ratio, "threads": torch.get_num_threads()}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
