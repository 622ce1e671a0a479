"""rlgen's GAIL vs HumanCompatibleAI ``imitation`` 1.0.1's GAIL: same demos, env, PPO, discriminator, steps.

``imitation`` 1.0.1 pins old gymnasium/SB3 releases, so the script makes a separate virtual environment
(``--venv``, default ``.bench-venvs/imitation-1.0.1``) whose site-packages chain to this interpreter's
(the project's torch, gymnasium and SB3) and installs ``imitation==1.0.1`` there with ``--no-deps``; each
``imitation`` run is a subprocess in that venv (``benchmarks/imitation_gail_runner.py``).

Both sides take their settings from ``run_configs/gail_pendulum.yaml`` with the reward set to
imitation's form, -log(1 - D) (``gail.reward=positive``): PPO kwargs, 4 envs, discriminator 100-100
tanh with running input normalisation, Adam at the config's learning rate, 10 updates per round of 256
expert + 256 policy samples, policy samples from the last rollout only. Periodic evaluation is off on
the rlgen side (imitation has none); rlgen still writes its CSV, TensorBoard and checkpoints. Training
time covers env and GAIL set-up plus training on both sides (imports excluded). Both final policies are
scored by the same ``rlgen evaluate`` (deterministic, ``--eval-episodes`` episodes from seed 1000);
normalised score = (R - R_random) / (R_expert - R_random) with both from the demos' sidecar.

Without ``--demos`` the expert is trained first (``run_configs/expert_pendulum.yaml``, ~30 s) and its
demos collected with ``rlgen collect``.

    python benchmarks/gail_vs_imitation.py --seeds 3
    python benchmarks/gail_vs_imitation.py --seeds 1 --steps 8192 --eval-episodes 2   # smoke run
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path

from rlgen.agents.gail import expert_scores
from rlgen.data.demonstrations import Demonstrations
from rlgen.kinds import kind_module, load_run_config
from rlgen.runs import RunDir

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "run_configs" / "gail_pendulum.yaml"
EXPERT_CONFIG = ROOT / "run_configs" / "expert_pendulum.yaml"
IMITATION = "imitation==1.0.1"


def ensure_imitation_venv(path: Path) -> Path:
    """A venv with imitation 1.0.1 on top of this interpreter's packages; made once, then reused."""
    python = path / "bin" / "python"
    if not python.exists():
        print(f"making {path} with {IMITATION} (no deps) ...", flush=True)
        venv.create(path, with_pip=True)
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # An "import" line in a .pth runs at start-up; addsitedir also processes the parent's .pth files
        # (the editable install of rlgen among them).
        parent = sysconfig.get_paths()["purelib"]
        Path(purelib, "rlgen_parent_site.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", IMITATION], check=True)
    return python


def rlgen(cmd: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "rlgen", *cmd], check=True, stdout=subprocess.DEVNULL)


def make_demos(tmp: Path, episodes: int) -> Path:
    print("training the expert (run_configs/expert_pendulum.yaml) and collecting demos ...", flush=True)
    rlgen(["train", str(EXPERT_CONFIG), "--run-dir", str(tmp / "expert")])
    demos = tmp / "demos.npz"
    rlgen(["collect", "--policy", str(tmp / "expert"), "--episodes", str(episodes), "--out", str(demos)])
    return demos


def run_rlgen(config, seed: int, tmp: Path) -> tuple[float, int, Path]:
    """(training seconds, env steps, policy zip) of one in-process rlgen GAIL run."""
    run = RunDir.create(output_dir=tmp, name="rlgen", seed=seed, run_dir=tmp / f"rlgen-{seed}")
    start = time.perf_counter()
    kind_module(config.kind).train(config, run)
    seconds = time.perf_counter() - start
    with open(run.path / "progress.csv", newline="") as fh:
        steps = max(int(float(row["time/total_timesteps"])) for row in csv.DictReader(fh))
    return seconds, steps, run.path / "policy.zip"


def run_imitation(python: Path, config, seed: int, tmp: Path, threads: int) -> tuple[float, int, Path]:
    out = tmp / f"imitation-{seed}.zip"
    disc = config.discriminator
    spec = {
        "demos": str(config.demos.path),
        "episodes": config.demos.episodes,
        "env_id": config.env.id,
        "n_envs": config.env.n_envs,
        "seed": seed,
        "ppo_kwargs": dict(config.algo.kwargs),
        "hidden": list(disc.hidden),
        "disc_lr": disc.learning_rate,
        "updates_per_round": disc.updates_per_round,
        "batch_size": disc.batch_size,
        "total_timesteps": config.train.total_timesteps,
        "out": str(out),
        "torch_threads": threads,
    }
    spec_path = tmp / f"imitation-{seed}.json"
    spec_path.write_text(json.dumps(spec))
    runner = ROOT / "benchmarks" / "imitation_gail_runner.py"
    done = subprocess.run([str(python), str(runner), str(spec_path)], check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["train_seconds"], result["env_steps"], out


def evaluate(policy: Path, env_id: str, episodes: int, tmp: Path) -> float:
    out = tmp / f"{policy.parent.name}-{policy.stem}-eval.json"
    rlgen(["evaluate", str(policy), "--env", env_id, "--episodes", str(episodes), "--seed", "1000", "--json", str(out)])
    return float(json.loads(out.read_text())["mean_return"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=102_400, help="env steps per run, both sides")
    parser.add_argument("--episodes", type=int, default=10, help="expert episodes given to both")
    parser.add_argument("--demos", type=Path, help="existing demos (default: train an expert and collect)")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--venv", type=Path, default=ROOT / ".bench-venvs" / "imitation-1.0.1")
    parser.add_argument(
        "--imitation-threads", type=int, default=0, help="torch threads for imitation (default: torch's default)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    python = ensure_imitation_venv(args.venv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        demos = args.demos or make_demos(tmp, args.episodes)
        meta = Demonstrations.load(demos).meta
        for seed in range(args.seeds):
            overrides = [
                f"demos.path={demos}",
                f"demos.episodes={args.episodes}",
                "gail.reward=positive",
                f"train.total_timesteps={args.steps}",
                "train.eval_freq=0",
                "train.progress_bar=false",
            ]
            config = load_run_config(CONFIG, overrides=overrides, seed=seed)
            sides = {"rlgen": lambda c=config, s=seed: run_rlgen(c, s, tmp)}
            sides["imitation"] = lambda c=config, s=seed: run_imitation(python, c, s, tmp, args.imitation_threads)
            order = list(sides) if seed % 2 == 0 else list(sides)[::-1]  # alternate so noise hits both
            for method in order:
                seconds, steps, policy = sides[method]()
                mean_return = evaluate(policy, config.env.id, args.eval_episodes, tmp)
                score = expert_scores(mean_return, meta).get("normalized_score", float("nan"))
                rows.append(
                    {
                        "method": method,
                        "seed": seed,
                        "env_steps": steps,
                        "train_s": seconds,
                        "steps_per_s": steps / seconds,
                        "mean_return": mean_return,
                        "normalized_score": score,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    summary = summarise(rows, meta)
    print_table(rows, summary)
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows, "summary": summary}, indent=2))


def summarise(rows: list[dict], meta: dict) -> dict:
    out = {"expert_return": meta.get("expert_return_mean"), "random_return": meta.get("random_return_mean")}
    for method in ("rlgen", "imitation"):
        mine = [r for r in rows if r["method"] == method]
        scores = [r["normalized_score"] for r in mine]
        out[method] = {
            "normalized_score_mean": statistics.mean(scores),
            "normalized_score_std": statistics.pstdev(scores),
            "steps_per_s_mean": statistics.mean(r["steps_per_s"] for r in mine),
        }
    by_seed = {}
    for row in rows:
        by_seed.setdefault(row["seed"], {})[row["method"]] = row["steps_per_s"]
    out["throughput_ratio_median"] = statistics.median(s["rlgen"] / s["imitation"] for s in by_seed.values())
    return out


def print_table(rows: list[dict], summary: dict) -> None:
    print(f"\n{'method':<10} {'seed':>4} {'steps':>8} {'train s':>8} {'steps/s':>8} {'return':>9} {'score':>6}")
    for r in rows:
        print(
            f"{r['method']:<10} {r['seed']:>4} {r['env_steps']:>8} {r['train_s']:>8.1f} {r['steps_per_s']:>8.0f} "
            f"{r['mean_return']:>9.1f} {r['normalized_score']:>6.2f}"
        )
    for method in ("rlgen", "imitation"):
        s = summary[method]
        print(
            f"{method}: normalised score {s['normalized_score_mean']:.2f} ± {s['normalized_score_std']:.2f}, "
            f"{s['steps_per_s_mean']:.0f} env steps/s"
        )
    print(f"throughput rlgen / imitation (median over seeds): {summary['throughput_ratio_median']:.2f}x")


if __name__ == "__main__":
    main()
