"""Sampling time per 32x32x3 image (256 levels): VAE + IAF posterior vs PixelCNN, same process, same threads.

The IAF paper (Kingma et al. 2016, Section 5.2) reports IAF sampling ~1000x faster than PixelCNN on
32x32 CIFAR-10: a VAE decodes an image in one pass, PixelCNN needs one network pass per pixel (1,024
here). Both models are built from ``run_configs/vae_iaf_digits.yaml`` and ``run_configs/pixelcnn_digits.yaml``
(architecture as configured; the likelihood switched to the logistic mixture for 256 levels) at
3x32x32. Weights are untrained: the time of a pass does not depend on their values. Each model draws
``--batch`` images ``--repeats`` times; the table gives the median time per image and the ratio.

PixelCNN's sampler computes each pass over only the rows that can reach the current pixel
(``PixelCNN.row_params``); ``pixelcnn_whole_image`` times the same model with every pass over the whole
image (the sampler before that change), on the same draws, to give that speed-up as a same-process ratio.

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
def whole_image_sample(model: torch.nn.Module, n: int) -> torch.Tensor:
    """PixelCNN sampling with every one of the H * W passes over the whole image (the baseline)."""
    c, height, width = model.image_shape
    x = torch.zeros(n, c, height, width, dtype=torch.long)
    for i in range(height):
        for j in range(width):
            x[:, :, i : i + 1, j : j + 1] = model.head.sample(model.params(x)[:, :, i : i + 1, j : j + 1], c)
    return x


@torch.no_grad()
def seconds_per_image(model: torch.nn.Module, batch: int, repeats: int, sample=None) -> list[float]:  # noqa: ANN001
    sample = sample or (lambda n: model.sample(n))
    sample(1)  # warm-up (allocations, lazy initialisation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        images = sample(batch)
        times.append((time.perf_counter() - start) / batch)
        assert images.shape == (batch, *SHAPE)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--whole-image", action="store_true", help="also time the whole-image sampler (slow)")
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
    if args.whole_image:
        model = build("pixelcnn")
        times = seconds_per_image(model, args.batch, args.repeats, lambda n: whole_image_sample(model, n))
        rows["pixelcnn_whole_image"] = {"seconds_per_image": statistics.median(times), "all": times,
                                        "parameters": rows["pixelcnn"]["parameters"]}  # fmt: skip
        print(json.dumps({"pixelcnn_whole_image": rows["pixelcnn_whole_image"]}), flush=True)
    ratio = rows["pixelcnn"]["seconds_per_image"] / rows["vae_iaf"]["seconds_per_image"]
    print(f"\n{'model':<20} {'ms per image':>13} {'parameters':>11}   (torch threads {torch.get_num_threads()})")
    for name, row in rows.items():
        print(f"{name:<20} {1000 * row['seconds_per_image']:>13.3f} {row['parameters']:>11}")
    print(f"PixelCNN / VAE+IAF: {ratio:.0f}x")
    window = None
    if "pixelcnn_whole_image" in rows:
        window = rows["pixelcnn_whole_image"]["seconds_per_image"] / rows["pixelcnn"]["seconds_per_image"]
        print(f"PixelCNN whole-image passes / receptive-field passes: {window:.1f}x")
    if args.json:
        payload = {"command": " ".join(sys.argv), "rows": rows, "ratio": ratio, "window_speedup": window,
                   "threads": torch.get_num_threads()}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
