"""Glow with ``share_coupling: true`` vs false on digits: coupling parameters, training memory, time per
training step and test bits/dim.

Sharing (cf. NanoFlow, Lee et al. 2020, arXiv 2006.06280) keeps one coupling network per level and gives
each flow step a small learned embedding; the 2018 OpenAI talk this option follows reported matching
bits/dim at 3% of the memory and 33% faster. Targets here: <= 10% of the coupling parameters, >= 1.3x
faster per step, bits/dim within 2%.

- parameters: of the coupling networks (and of the whole model);
- memory: parameters + gradients + Adam's two moments (4 x 4 bytes per parameter), and the peak RSS
  growth of a subprocess that builds the model and takes ``--steps`` training steps (activations included);
- time per step: forward + backward + Adam at batch 64, the two models alternated in blocks of 10 steps
  in this process, median over blocks;
- bits/dim: ``run_configs/glow_digits.yaml`` trained ``--epochs`` epochs per seed (the likelihood
  benchmark's in-process runner), with and without sharing.

    python benchmarks/shared_coupling.py --seeds 3 --epochs 40
    python benchmarks/shared_coupling.py --seeds 3 --epochs 40 --set model.steps=16
    python benchmarks/shared_coupling.py --seeds 3 --epochs 40 --set model.steps=16 --set model.step_heads=true \
        --shared-set model.steps=8    # iso-quality: fewer shared steps against the separate flow

The last form answers the talk's claim as it was put (matching bits/dim, faster): with ``--shared-set`` the
shared flow may have fewer steps than the separate one, and the bits/dim column says whether it still matches.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from rlgen.data.images import load_image_set
from rlgen.kinds import kind_module, load_run_config
from rlgen.models.flows.coupling import CouplingNet

sys.path.insert(0, str(Path(__file__).parent))
from likelihood_digits import train_one  # noqa: E402 - the benchmarks folder is not a package

ROOT = Path(__file__).resolve().parents[1]
BATCH = 64


OVERRIDES: list[str] = []  # --set, for every model
SHARED_OVERRIDES: list[str] = []  # --shared-set, for the shared model only


def model_overrides(shared: bool) -> list[str]:
    extra = ["model.share_coupling=true", *SHARED_OVERRIDES] if shared else ["model.share_coupling=false"]
    return [*OVERRIDES, *extra]


def build(shared: bool) -> torch.nn.Module:
    config = load_run_config(ROOT / "run_configs" / "glow_digits.yaml", overrides=model_overrides(shared))
    train = load_image_set("digits", "train")
    return kind_module("flow").build_model(config, train.shape, train.levels)


def coupling_parameters(model: torch.nn.Module) -> int:
    nets = [m for m in model.modules() if isinstance(m, CouplingNet)]
    return sum(p.numel() for net in {id(n): n for n in nets}.values() for p in net.parameters())


def training_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> None:
    loss, _ = model.loss(x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def step_times(blocks: int, block: int) -> dict[bool, float]:
    images, _ = load_image_set("digits", "train").tensors()
    x = images[:BATCH]
    runs = {}
    for shared in (False, True):
        torch.manual_seed(0)
        model = build(shared)
        runs[shared] = (model, torch.optim.Adam(model.parameters(), lr=1e-3))
        training_step(*runs[shared], x)  # data-dependent init + warm-up
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(blocks):
        for shared, (model, optimizer) in runs.items():
            start = time.perf_counter()
            for _ in range(block):
                training_step(model, optimizer, x)
            times[shared].append((time.perf_counter() - start) / block)
    return {shared: statistics.median(t) for shared, t in times.items()}


def memory_probe(shared: bool, steps: int) -> None:
    """Run in a subprocess: print the peak RSS growth (bytes) while building and training the model."""
    images, _ = load_image_set("digits", "train").tensors()
    torch.manual_seed(0)
    with open("/proc/self/statm") as fh:
        before = int(fh.read().split()[1]) * resource.getpagesize()
    model = build(shared)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        training_step(model, optimizer, images[:BATCH])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(peak - before)


def peak_rss_growth(shared: bool, steps: int) -> int:
    cmd = [sys.executable, __file__, "--memory-probe", str(shared).lower(), "--steps", str(steps)]
    cmd += [arg for override in OVERRIDES for arg in ("--set", override)]
    cmd += [arg for override in SHARED_OVERRIDES for arg in ("--shared-set", override)]
    return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=20, help="timing blocks of 10 steps per model")
    parser.add_argument("--steps", type=int, default=20, help="training steps of the memory probe")
    parser.add_argument("--memory-probe", choices=("true", "false"), help=argparse.SUPPRESS)
    parser.add_argument("--set", action="append", default=[], help="config override for both, e.g. model.steps=16")
    parser.add_argument("--shared-set", action="append", default=[],
                        help="override for the shared model only, e.g. model.steps=8 (iso-quality)")  # fmt: skip
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    OVERRIDES.extend(args.set)
    SHARED_OVERRIDES.extend(args.shared_set)
    torch.set_num_threads(1)
    if args.memory_probe:
        memory_probe(args.memory_probe == "true", args.steps)
        return
    rows = {}
    for shared in (False, True):
        model = build(shared)
        params = sum(p.numel() for p in model.parameters())
        rows[shared] = {
            "coupling_parameters": coupling_parameters(model),
            "parameters": params,
            "training_state_mb": 16 * params / 2**20,
            "peak_rss_growth_mb": peak_rss_growth(shared, args.steps) / 2**20,
        }
    for shared, seconds in step_times(args.blocks, 10).items():
        rows[shared]["seconds_per_step"] = seconds
    with tempfile.TemporaryDirectory() as tmp:
        for shared in (False, True):
            folder, overrides = Path(tmp), model_overrides(shared)
            bpd = [train_one("glow", s, args.epochs, folder, overrides)["bits_per_dim"] for s in range(args.seeds)]
            rows[shared]["test_bits_per_dim"] = bpd
            print(json.dumps({"shared": shared, **rows[shared]}), flush=True)
    plain, shared = rows[False], rows[True]
    print(f"\n{'':<28} {'separate':>12} {'shared':>12} {'shared/separate':>16}")
    for key in ("coupling_parameters", "parameters", "training_state_mb", "peak_rss_growth_mb", "seconds_per_step"):
        print(f"{key:<28} {plain[key]:>12.4g} {shared[key]:>12.4g} {shared[key] / plain[key]:>16.3f}")
    bpd_plain, bpd_shared = plain["test_bits_per_dim"], shared["test_bits_per_dim"]
    mean_plain, mean_shared = statistics.mean(bpd_plain), statistics.mean(bpd_shared)
    print(
        f"{'test bits/dim (mean)':<28} {mean_plain:>12.4f} {mean_shared:>12.4f} {mean_shared / mean_plain:>16.3f}"
        f"   (± {statistics.pstdev(bpd_plain):.3f} / {statistics.pstdev(bpd_shared):.3f})"
    )
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "separate": plain, "shared": shared}, indent=2))


if __name__ == "__main__":
    main()
