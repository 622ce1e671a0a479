"""World Models on CarRacing-v3 at a small stated budget: V + M + C, the V-only (z-only) ablation and the
PixelCNN-conditioned encoder, each scored on held-out tracks; plus the throughput of candidate evaluation
with 1 vs 2 worker processes and the V + M + C overhead per step relative to the raw env step.

The three variants share the collected frames; the z-only run also reuses the full run's V (the ablation
changes only what C sees), the PixelCNN run trains its own V and M. Scores are the CMA-ES mean's return on
tracks 0 .. N-1 (seeds never used in training), as ``rlgen evaluate RUN --episodes N`` computes them.

    python benchmarks/world_model_carracing.py --episodes 40 --vision-epochs 3 --generations 20 \\
        --population 8 --tracks 100 --json benchmarks/results/world_model_carracing.json

With ``--frames DIR`` (from ``rlgen collect --frames``) the runs train on those frames instead of collecting,
and ``--variants pixelcnn`` alone trains no full run. ``--set KEY=VALUE`` overrides the config of every
variant (e.g. ``--variants pixelcnn --set vision.aux_weight=100``).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_runs import ROOT  # noqa: E402

from rlgen.agents.world_model import train  # noqa: E402
from rlgen.agents.world_model.evolution import load_controller_params  # noqa: E402
from rlgen.agents.world_model.workers import close_worker, play_task, setup_worker  # noqa: E402
from rlgen.config import to_dict  # noqa: E402
from rlgen.kinds import load_run_config, load_saved_config  # noqa: E402
from rlgen.parallel import make_executor  # noqa: E402
from rlgen.runs import RunDir  # noqa: E402

CONFIG = ROOT / "run_configs" / "world_model_carracing.yaml"


def make_run(folder: Path, name: str, overrides: list[str]) -> tuple[object, RunDir]:
    """A new run, or the existing one of that name in ``folder`` (resumed: finished stages are skipped)."""
    if (folder / name / "config.yaml").is_file():
        run = RunDir.open(folder / name)
        return load_saved_config(run.config_file), run
    config = load_run_config(CONFIG, overrides=overrides)
    run = RunDir.create(output_dir=folder, name=name, seed=0, run_dir=folder / name)
    run.write_start(to_dict(config), ["benchmark", name, *overrides])
    return config, run


def timed_train(config, run: RunDir) -> float:  # noqa: ANN001
    start = time.perf_counter()
    train(config, run)
    return time.perf_counter() - start


def score(run: RunDir, tracks: int, workers: int) -> dict[str, float]:
    """The final CMA-ES mean on tracks 0 .. tracks-1 (parallel workers; the same numbers as rlgen evaluate)."""
    params = load_controller_params(run, "final")
    start = time.perf_counter()
    executor = make_executor("process", workers, setup_worker, str(run.path), play_task, teardown=close_worker)
    try:
        results = list(executor.imap([("eval", params, seed) for seed in range(tracks)]))
    finally:
        executor.close()
    returns = np.array([ret for ret, _ in results])
    return {"mean": float(returns.mean()), "std": float(returns.std()), "tracks": tracks,
            "eval_wall_s": time.perf_counter() - start}  # fmt: skip


def eval_curve(run: RunDir) -> list[tuple[int, float, float]]:
    with open(run / "controller" / "progress.csv", newline="") as fh:
        return [(int(r["generation"]), float(r["eval_return_mean"]), float(r["eval_return_std"]))
                for r in csv.DictReader(fh) if r["eval_return_mean"]]  # fmt: skip


def throughput(run: RunDir, steps: int) -> dict[str, float]:
    """Candidate-evaluation steps/s with 1 and 2 workers (same items), and V + M + C cost per step vs the raw env."""
    import gymnasium as gym

    params = load_controller_params(run, "final")
    items = [("eval", params, 10_000 + i) for i in range(4)]
    rates = {}
    for workers in (1, 2):
        executor = make_executor("process", workers, setup_worker, str(run.path), play_task, teardown=close_worker)
        try:
            list(executor.imap(items[:workers]))  # warm-up: the workers load their models and envs
            start = time.perf_counter()
            done = sum(length for _, length in executor.imap(items))
            rates[workers] = done / (time.perf_counter() - start)
        finally:
            executor.close()
    env = gym.make("CarRacing-v3")
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        if any(env.step(env.action_space.sample())[2:4]):
            env.reset()
    raw = steps / (time.perf_counter() - start)
    env.close()
    return {"steps_per_s_1_worker": rates[1], "steps_per_s_2_workers": rates[2],
            "scaling_efficiency": rates[2] / (2 * rates[1]), "raw_env_steps_per_s": raw,
            "agent_overhead_per_step": raw / rates[1] - 1.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=40, help="brownian episodes collected")
    parser.add_argument("--vision-epochs", type=int, default=3)
    parser.add_argument("--memory-epochs", type=int, default=20)
    parser.add_argument("--memory-min-updates", type=int, default=1000, help="M's optimiser steps at least (0: off)")
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=2, help="rollouts (tracks) per candidate")
    parser.add_argument(
        "--max-steps", type=int, default=0, help="cap of training episodes (0: none, the env's 1,000 steps)"
    )
    parser.add_argument("--tracks", type=int, default=100, help="held-out tracks for the final score")
    parser.add_argument("--variants", default="full,zonly,pixelcnn")
    parser.add_argument("--pixelcnn-frames", type=int, default=10_000, help="frames per V epoch for pixelcnn")
    parser.add_argument("--frames", type=Path, help="use these frame shards (rlgen collect) instead of collecting")
    parser.add_argument("--folder", type=Path, help="keep the runs here (rerunning resumes them); default: a temp dir")
    parser.add_argument("--set", action="append", default=[], help="config override for every variant")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    controller = [f"controller.generations={args.generations}", f"controller.population={args.population}",
                  f"controller.rollouts={args.rollouts}", f"controller.max_steps={args.max_steps or 'null'}",
                  "controller.negative_stop=50", "controller.eval_every=5", "controller.eval_episodes=4"]  # fmt: skip
    common = [
        f"vision.epochs={args.vision_epochs}",
        f"memory.epochs={args.memory_epochs}",
        f"memory.min_updates={args.memory_min_updates}",
        *controller,
        *args.set,
    ]
    results: dict[str, dict] = {"budget": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    variants = args.variants.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        source = [f"collect.path={args.frames.resolve()}"] if args.frames else [f"collect.episodes={args.episodes}"]
        if args.frames is None or "full" in variants or "zonly" in variants:  # z-only reuses the full run's V
            config, full = make_run(folder, "full", [*source, *common])
            results["full"] = {"train_wall_s": timed_train(config, full)}
            results["full"]["vision"] = json.loads((full / "vision" / "metrics.json").read_text())
        frames_path = args.frames.resolve() if args.frames else full.path / "frames"
        frames = f"collect.path={frames_path}"
        results["collect"] = json.loads((frames_path / "manifest.json").read_text())["seconds"]
        if "zonly" in variants:
            config, zonly = make_run(folder, "zonly", [frames, "controller.inputs=z", *common])
            if not (zonly / "stages.json").is_file():  # the same V: the ablation changes only C's input
                shutil.copytree(full / "vision", zonly / "vision")
                (zonly / "stages.json").write_text(json.dumps(["collect", "vision"]))
            results["zonly"] = {"train_wall_s": timed_train(config, zonly)}
        if "pixelcnn" in variants:
            config, pcnn = make_run(
                folder,
                "pixelcnn",
                [frames, "vision.encoder=pixelcnn", f"vision.frames_per_epoch={args.pixelcnn_frames}", *common],
            )
            results["pixelcnn"] = {"train_wall_s": timed_train(config, pcnn)}
            results["pixelcnn"]["vision"] = json.loads((pcnn / "vision" / "metrics.json").read_text())
        runs = {"full": folder / "full", "zonly": folder / "zonly", "pixelcnn": folder / "pixelcnn"}
        for name in ("full", "zonly", "pixelcnn"):
            if name in results:
                run = RunDir(runs[name])
                results[name].update(score=score(run, args.tracks, 2), curve=eval_curve(run))
                print(name, json.dumps(results[name]), flush=True)
        if "full" in results:
            results["throughput"] = throughput(full, 2000)
            print("throughput", json.dumps(results["throughput"]), flush=True)
    print("\n| variant | score (mean ± std) | tracks | train wall s | eval curve (generation: mean) |")
    print("|---|---|---|---|---|")
    for name in ("full", "zonly", "pixelcnn"):
        if name in results:
            r = results[name]
            curve = ", ".join(f"{g}: {m:.0f}" for g, m, _ in r["curve"])
            print(f"| {name} | {r['score']['mean']:.1f} ± {r['score']['std']:.1f} | {r['score']['tracks']} | "
                  f"{r['train_wall_s']:.0f} | {curve} |")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
