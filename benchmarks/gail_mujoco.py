"""GAIL on MuJoCo: fraction of the expert's return with 4 and 25 expert trajectories, several seeds.

For each env: train the expert with ``run_configs/expert_<env>.yaml`` (SAC; ``--expert-steps`` shortens
it), collect the largest number of trajectories asked for with ``rlgen collect`` (deterministic expert),
then for each trajectory count and seed train ``run_configs/gail_<env>.yaml`` (TRPO, the paper's set-up:
demos subsampled every 20th step) with ``--gail-steps`` and score the final policy with ``rlgen evaluate``
(deterministic, 10 episodes): fraction of expert = R / R_expert, normalised score =
(R - R_random) / (R_expert - R_random), both against the demos' sidecar. Runs go to ``--out``; experts
already trained there are reused, so a long sweep can be continued.

    python benchmarks/gail_mujoco.py --envs hopper halfcheetah --trajectories 4 25 --seeds 3 \\
        --expert-steps 300000 --gail-steps 500000 --out benchmarks/results/gail_mujoco
    python benchmarks/gail_mujoco.py --envs hopper --expert-config ppo_{env}.yaml --gail-steps 500000
    python benchmarks/gail_mujoco.py --envs halfcheetah --expert-config ppo_{env}.yaml --min-return 6000
    python benchmarks/gail_mujoco.py --envs hopper --first-seed 2 --seeds 1 \\
        --set discriminator.updates_per_round=1 --set discriminator.entropy_coef=0.001

``--set`` overrides go to every GAIL run (not the expert). ``--first-seed``/``--seeds`` split a sweep over
processes; give each variant its own ``--out`` (an expert and demos already there are reused).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rlgen(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlgen", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def steps_overrides(steps: int | None) -> list[str]:
    return ["--set", f"train.total_timesteps={steps}"] if steps else []


def train_or_resume(config: Path, run: Path, overrides: list[str], budget: list[str]) -> float:
    """Train ``config`` into ``run``; a run left by an interrupted sweep continues from its checkpoint."""
    if run.exists():
        return rlgen("train", "--resume", str(run), *budget)
    return rlgen("train", str(config), "--run-dir", str(run), *overrides, *budget)


def expert_demos(
    env: str, episodes: int, expert_steps: int | None, out: Path, expert_config: str, min_return: float | None
) -> tuple[Path, float]:
    """Demos path and the expert's training wall time (0 when reused)."""
    threshold = "" if min_return is None else f"_min{min_return:g}"
    expert, demos = out / f"expert_{env}", out / f"demos_{env}_{episodes}{threshold}.npz"
    seconds = 0.0
    if not (expert / "policy.zip").exists():
        config = ROOT / "run_configs" / expert_config.format(env=env)
        print(f"training the {env} expert ...", flush=True)
        seconds = train_or_resume(config, expert, [], steps_overrides(expert_steps))
    if not demos.exists():
        keep = [] if min_return is None else ["--min-return", str(min_return)]
        rlgen("collect", "--policy", str(expert), "--episodes", str(episodes), "--out", str(demos), *keep)
    return demos, seconds


def gail_run(env: str, demos: Path, n: int, seed: int, gail_steps: int | None, out: Path, extra: list[str]) -> dict:
    run = out / f"gail_{env}_{n}traj_seed{seed}"
    seconds = 0.0
    if not (run / "policy.zip").exists():
        config = ROOT / "run_configs" / f"gail_{env}.yaml"
        overrides = ["--seed", str(seed), "--set", f"demos.path={demos}", "--set", f"demos.episodes={n}"]
        overrides += [arg for item in extra for arg in ("--set", item)]
        seconds = train_or_resume(config, run, overrides, steps_overrides(gail_steps))
    result = run / "final_eval.json"
    if not result.exists():
        rlgen("evaluate", str(run), "--episodes", "10", "--seed", "1000", "--json", str(result))
    scores = json.loads(result.read_text())
    extras = scores.get("extras", scores)
    return {
        "env": env,
        "trajectories": n,
        "seed": seed,
        "mean_return": scores["mean_return"],
        "fraction_of_expert": extras.get("fraction_of_expert"),
        "normalized_score": extras.get("normalized_score"),
        "train_s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["hopper", "halfcheetah"])
    parser.add_argument("--trajectories", nargs="+", type=int, default=[4, 25])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--expert-steps", type=int, help="expert budget (default: the expert config's)")
    parser.add_argument(
        "--expert-config",
        default="expert_{env}.yaml",
        help="expert config in run_configs/ ({env} is filled in), e.g. ppo_{env}.yaml: PPO runs ~15x faster "
        "than the SAC experts here",
    )
    parser.add_argument("--gail-steps", type=int, help="GAIL budget (default: the GAIL config's)")
    parser.add_argument(
        "--min-return",
        type=float,
        help="collect only expert episodes with at least this return (rlgen collect --min-return; one env)",
    )
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="GAIL config override"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "gail_mujoco")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.min_return is not None and len(args.envs) > 1:
        parser.error("--min-return is an absolute return: give it for one env at a time")
    args.out.mkdir(parents=True, exist_ok=True)
    rows, experts = [], {}
    for env in args.envs:
        demos, expert_s = expert_demos(
            env, max(args.trajectories), args.expert_steps, args.out, args.expert_config, args.min_return
        )
        meta = json.loads(demos.with_suffix(".json").read_text())
        experts[env] = {"return": meta["expert_return_mean"], "random": meta["random_return_mean"], "train_s": expert_s}
        print(f"{env}: expert {meta['expert_return_mean']:.0f}, random {meta['random_return_mean']:.0f}", flush=True)
        for n in args.trajectories:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                rows.append(gail_run(env, demos, n, seed, args.gail_steps, args.out, args.overrides))
                print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'env':<12} {'traj':>4} {'seeds':>5} {'fraction of expert':>20} {'normalised':>11} {'wall/seed':>10}")
    for env in args.envs:
        for n in args.trajectories:
            mine = [r for r in rows if r["env"] == env and r["trajectories"] == n]
            frac = [r["fraction_of_expert"] for r in mine]
            norm = [r["normalized_score"] for r in mine]
            print(
                f"{env:<12} {n:>4} {len(mine):>5} {statistics.mean(frac):>12.2f} ± {statistics.pstdev(frac):<5.2f} "
                f"{statistics.mean(norm):>11.2f} {statistics.mean(r['train_s'] for r in mine):>9.0f}s"
            )
    if args.json:
        payload = {"command": " ".join(sys.argv), "overrides": args.overrides, "experts": experts, "rows": rows}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
