"""Wall-time overhead of rlgen's training loop over a plain SB3 ``model.learn`` script.

Both sides train the same algorithm with the same hyperparameters, env, seed and number of steps,
alternating in one process (the order flips every repeat) so machine noise hits both alike, after one
short warm-up run of each (imports such as TensorBoard and matplotlib are paid once per process). The
rlgen side is the whole ``SB3Trainer.train()``: env checks, CSV + TensorBoard metrics, NaN guard,
periodic checkpoints (at the config's frequency), final policy and plot; periodic evaluation is off
because the plain script does not evaluate. The plain side builds the same ``make_vec_env`` (+
``VecNormalize`` when the config normalises) and calls ``model.learn`` on the same algorithm class with the
same speed settings (rlgen's ``LeanPPO`` for PPO, fused Adam, no ``torch.distributions`` checks), so the
ratio is the loop's overhead alone.

    python benchmarks/overhead.py                    # PPO/Pendulum and PPO/Hopper, 5 repeats
    python benchmarks/overhead.py --steps 20000 --repeats 1 --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from rlgen.kinds import load_run_config
from rlgen.runs import RunDir
from rlgen.sb3.algos import algo_class, build_algo_kwargs
from rlgen.sb3.fast_math import distribution_validation_off, with_fused_adam
from rlgen.sb3.trainer import SB3Trainer, torch_threads_for

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "PPO/Pendulum-v1": ROOT / "run_configs" / "ppo_pendulum.yaml",
    "PPO/Hopper-v5": ROOT / "run_configs" / "ppo_hopper.yaml",
}


def plain_sb3(config, steps: int) -> float:
    torch.set_num_threads(torch_threads_for(config.algo.policy, config.train.torch_threads))  # as rlgen does
    start = time.perf_counter()
    env = config.env
    venv = make_vec_env(env.id, n_envs=env.n_envs, seed=env.seed)
    if env.normalize_obs or env.normalize_reward:
        gamma = float(config.algo.kwargs.get("gamma", 0.99))
        venv = VecNormalize(venv, norm_obs=env.normalize_obs, norm_reward=env.normalize_reward, gamma=gamma)
    kwargs = with_fused_adam(build_algo_kwargs(config.algo.name, config.algo.kwargs), "cpu")
    model = algo_class(config.algo.name)(config.algo.policy, venv, seed=env.seed, device="cpu", **kwargs)
    with distribution_validation_off():
        model.learn(steps)
    return time.perf_counter() - start


def rlgen_loop(config, steps: int) -> float:
    train = dataclasses.replace(config.train, total_timesteps=steps, eval_freq=0, progress_bar=False, device="cpu")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        SB3Trainer(
            run=RunDir.create(output_dir=tmp, name="bench", seed=0, run_dir=Path(tmp) / "run"),
            env=config.env,
            algo=config.algo,
            train=train,
        ).train()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for case in args.cases:
        config = load_run_config(CASES[case])
        plain_sb3(config, 2048)
        rlgen_loop(config, 2048)
        plain, ours = [], []
        for repeat in range(args.repeats):
            if repeat % 2:
                ours.append(rlgen_loop(config, args.steps))
                plain.append(plain_sb3(config, args.steps))
            else:
                plain.append(plain_sb3(config, args.steps))
                ours.append(rlgen_loop(config, args.steps))
        ratios = [o / p for o, p in zip(ours, plain, strict=True)]
        rows.append(
            {
                "case": case,
                "steps": args.steps,
                "plain_s": statistics.median(plain),
                "rlgen_s": statistics.median(ours),
                "ratio_median": statistics.median(ratios),
                "ratio_of_minima": min(ours) / min(plain),
                "ratios": ratios,
            }
        )
    print(f"{'case':<18} {'steps':>7} {'plain SB3 (s)':>14} {'rlgen (s)':>10} {'ratio':>7} {'min/min':>8}")
    for row in rows:
        print(
            f"{row['case']:<18} {row['steps']:>7} {row['plain_s']:>14.2f} {row['rlgen_s']:>10.2f} "
            f"{row['ratio_median']:>7.3f} {row['ratio_of_minima']:>8.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
