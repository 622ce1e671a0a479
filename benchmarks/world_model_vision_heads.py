"""Does V's z carry the track? World Models' V trained on collected CarRacing frames with different
likelihood heads and learning rates, scored by what a controller can use: active latent units, how far the
posterior means move across an episode, and the noise-free reconstruction's error.

The paper's code trains V with a squared error on [0, 1] pixels (``likelihood: l2``, a fixed-variance
Gaussian); a learned-scale head (``logistic``, ``gaussian``) can explain the frames as pixel noise early in
training and leave z unused. Each variant is ``--set`` overrides of ``run_configs/world_model_carracing.yaml``
separated by commas; frames come from a world-model run's ``frames/`` or ``rlgen collect --frames``.

    python benchmarks/world_model_vision_heads.py --frames RUN/frames --folder /tmp/heads \\
        --variant vision.epochs=2,vision.likelihood=logistic --variant vision.epochs=2,vision.likelihood=l2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import ROOT  # noqa: E402

from rlgen.agents.world_model.vision import load_vision, train_vision  # noqa: E402
from rlgen.data.frame_shards import FrameShards  # noqa: E402
from rlgen.kinds import load_run_config  # noqa: E402
from rlgen.plots import save_image_grid  # noqa: E402
from rlgen.runs import RunDir  # noqa: E402

CONFIG = ROOT / "run_configs" / "world_model_carracing.yaml"


def episode_frames(shards: FrameShards, every: int = 25) -> torch.Tensor:
    """Every ``every``-th frame of the first test episode (after the opening zoom), as integer levels."""
    frames = shards.load_episode(shards.split("test")[0])["frames"]
    return torch.from_numpy(frames[50::every]).long()


@torch.no_grad()
def latent_report(vision: torch.nn.Module, x: torch.Tensor, out: Path) -> dict[str, float]:
    mean, log_std = vision.posterior_params(x)
    reconstruction = vision.decode_typical(mean)
    save_image_grid(torch.cat([x[:8], reconstruction[:8], x[8:16], reconstruction[8:16]]), 256, out)
    return {
        "posterior_mean_spread": float(mean.std(0).mean()),
        "posterior_sigma": float(log_std.exp().mean()),
        "reconstruction_mse_255": float(((reconstruction.float() - x.float()) ** 2).mean()),
    }


def run_variant(frames: Path, folder: Path, overrides: list[str]) -> dict:
    config = load_run_config(CONFIG, overrides=[f"collect.path={frames}", *overrides])
    run = RunDir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    train_vision(config, run, frames)
    wall = time.perf_counter() - start
    shards = FrameShards.open(frames)
    vision = load_vision(config, run, shards.shape)
    report = latent_report(vision, episode_frames(shards), folder / "typical_reconstructions.png")
    metrics = json.loads((folder / "vision" / "metrics.json").read_text())
    return {"overrides": overrides, "wall_s": wall, **report, "vision": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=Path, required=True, help="a frame-shard folder")
    parser.add_argument("--folder", type=Path, required=True, help="one V run per variant goes here")
    parser.add_argument("--variant", action="append", required=True, help="comma-separated --set overrides")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    for index, variant in enumerate(args.variant):
        results.append(run_variant(args.frames, args.folder / f"v{index}", variant.split(",")))
        print(json.dumps(results[-1]), flush=True)
    print("| variant | active units | posterior-mean spread | reconstruction MSE (0-255) | wall s |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {' '.join(r['overrides'])} | {r['vision']['active_units']} | {r['posterior_mean_spread']:.2f} "
              f"| {r['reconstruction_mse_255']:.0f} | {r['wall_s']:.0f} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
