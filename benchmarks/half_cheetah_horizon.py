"""How far uniformly random actions carry SparseHalfCheetah's torso in one 500-step episode.

rllab's half-cheetah (the VIME original) steps the 0.01 s physics once per action; Gymnasium's
HalfCheetah-v5 five times. This measures what that does to undirected exploration: the furthest torso
x reached per episode, and the episodes that reach the reward (x > 5), at each frame skip.

    python benchmarks/half_cheetah_horizon.py --episodes 100 --json benchmarks/results/half_cheetah_horizon.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from rlgen.envs.sparse_half_cheetah import SparseHalfCheetahEnv


def furthest_x(frame_skip: int, episodes: int, steps: int) -> np.ndarray:
    env = SparseHalfCheetahEnv(frame_skip=frame_skip)
    rng = np.random.default_rng(0)
    furthest = np.empty(episodes)
    for episode in range(episodes):
        env.reset(seed=episode)
        xs = []
        for _ in range(steps):
            env.step(rng.uniform(-1.0, 1.0, size=env.action_space.shape))
            xs.append(env.data.qpos[0])
        furthest[episode] = max(xs)
    return furthest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for frame_skip in (1, 5):
        x = furthest_x(frame_skip, args.episodes, args.steps)
        row = {
            "frame_skip": frame_skip,
            "seconds_per_episode": round(0.01 * frame_skip * args.steps, 2),
            "furthest_x_mean": float(x.mean()),
            "furthest_x_p95": float(np.percentile(x, 95)),
            "furthest_x_max": float(x.max()),
            "episodes_reaching_x_5": int((x > 5.0).sum()),
            "episodes": args.episodes,
        }
        rows.append(row)
        print(
            f"frame_skip {frame_skip}: furthest x mean {row['furthest_x_mean']:.2f} m, p95 "
            f"{row['furthest_x_p95']:.2f}, max {row['furthest_x_max']:.2f}; reached x > 5 in "
            f"{row['episodes_reaching_x_5']}/{args.episodes} episodes",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
