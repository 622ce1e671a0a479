"""Speed of VIME's information gain and of a VIME iteration, as ratios against baselines run here.

1. Information gain for N transitions: the vectorised ``torch.func`` computation vs a per-transition loop
   of the same formula (the original code's approach, ``kl_batch_size = 1``). Target: >= 50x.
2. One training iteration (rollout + update) of VIME-PPO vs plain PPO on the same env and batch, both
   through rlgen's trainer with evaluation and checkpoints off. Target: <= 1.5x.

    python benchmarks/vime_infogain.py
    python benchmarks/vime_infogain.py --transitions 5000 --loop-transitions 500 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from rlgen.agents.vime import BNNConfig, VimeConfig
from rlgen.agents.vime_plugin import VimePlugin
from rlgen.envs.config import EnvConfig
from rlgen.models.bnn import BNN
from rlgen.models.info_gain import info_gain_from_grads, per_transition_grads, per_transition_grads_loop
from rlgen.runs import RunDir
from rlgen.sb3.config import AlgoConfig, TrainConfig
from rlgen.sb3.trainer import SB3Trainer


def time_info_gain(n: int, n_loop: int, obs_dim: int, act_dim: int, hidden: tuple[int, ...]) -> dict:
    torch.manual_seed(0)
    model = BNN(obs_dim + act_dim, obs_dim, hidden=hidden)
    x, y = torch.randn(n, obs_dim + act_dim), torch.randn(n, obs_dim)
    noise = model.sample_noise(10, n)
    per_transition_grads(model, x[:64], y[:64], [z[:, :64] for z in noise])  # warm-up (torch.func set-up)
    start = time.perf_counter()
    grads = per_transition_grads(model, x, y, noise)
    info_gain_from_grads(model.params(), grads, step_size=0.01)
    vectorised = time.perf_counter() - start
    # The loop is timed on the first n_loop transitions and scaled to n (it is linear in n).
    start = time.perf_counter()
    loop_grads = per_transition_grads_loop(model, x[:n_loop], y[:n_loop], [z[:, :n_loop] for z in noise])
    info_gain_from_grads(model.params(), loop_grads, step_size=0.01)
    loop = (time.perf_counter() - start) * n / n_loop
    return {
        "transitions": n,
        "obs_dim": obs_dim,
        "vectorised_s": vectorised,
        "loop_s": loop,
        "speedup": loop / vectorised,
    }


def time_iterations(env_id: str, n_steps: int, iterations: int, repeats: int) -> dict:
    env = EnvConfig(id=env_id, n_envs=1, seed=0)
    algo = AlgoConfig(name="ppo", kwargs={"n_steps": n_steps, "batch_size": 64})
    train = TrainConfig(
        total_timesteps=n_steps * iterations, eval_freq=0, checkpoint_freq=0, progress_bar=False, device="cpu"
    )

    def run(plugins: list) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = RunDir.create(output_dir=tmp, name="b", seed=0, run_dir=Path(tmp) / "run")
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # SB3's per-iteration tables would bury the results
                SB3Trainer(run=run_dir, env=env, algo=algo, train=train, plugins=plugins).train()
            return (time.perf_counter() - start) / iterations

    vime_cfg = VimeConfig(min_pool_size=0)
    run([])  # warm-up
    plain, vime = [], []
    for _ in range(repeats):
        plain.append(run([]))
        vime.append(run([VimePlugin(vime_cfg, BNNConfig(), seed=0)]))
    ratios = [v / p for v, p in zip(vime, plain, strict=True)]
    return {
        "env": env_id,
        "n_steps": n_steps,
        "plain_iter_s": statistics.median(plain),
        "vime_iter_s": statistics.median(vime),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "vime": dataclasses.asdict(vime_cfg),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=5000)
    parser.add_argument("--loop-transitions", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    gains = [
        time_info_gain(args.transitions, args.loop_transitions, 2, 1, (32,)),  # SparseMountainCar
        time_info_gain(args.transitions, args.loop_transitions, 18, 6, (32,)),  # SparseHalfCheetah
    ]
    print(f"{'info gain':<28} {'vectorised (s)':>15} {'loop (s)':>10} {'speed-up':>9}")
    for g in gains:
        label = f"{g['transitions']} transitions, obs {g['obs_dim']}"
        print(f"{label:<28} {g['vectorised_s']:>15.3f} {g['loop_s']:>10.2f} {g['speedup']:>8.0f}x")
    iters = [
        time_iterations("rlgen/SparseMountainCar-v0", 2048, args.iterations, args.repeats),
        time_iterations("rlgen/SparseHalfCheetah-v0", 2048, args.iterations, args.repeats),
    ]
    print(f"\n{'iteration (PPO, 2048 steps)':<28} {'plain (s)':>10} {'VIME (s)':>9} {'ratio':>7}")
    for it in iters:
        print(f"{it['env']:<28} {it['plain_iter_s']:>10.3f} {it['vime_iter_s']:>9.3f} {it['ratio']:>7.2f}")
    if args.json:
        args.json.write_text(
            json.dumps({"command": " ".join(sys.argv), "info_gain": gains, "iterations": iters}, indent=2)
        )


if __name__ == "__main__":
    main()
