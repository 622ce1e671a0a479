"""``rlgen collect``: record expert demonstrations from an SB3 policy (an rlgen run or a bare zip)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlgen.data.demonstrations import Demonstrations
from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env
from rlgen.evaluation import EvalOptions, run_episodes
from rlgen.sb3.acting import policy_act_fn
from rlgen.sb3.normalization import load_obs_stats
from rlgen.sb3.safe_zip import load_policy, read_sb3_zip

RANDOM_EPISODES = 20


class _Recorder:
    def __init__(self) -> None:
        self.rows: dict[str, list[Any]] = {
            k: [] for k in ("obs", "acts", "next_obs", "rews", "terminated", "truncated", "episode")
        }

    def __call__(
        self, episode: int, obs: Any, action: Any, reward: float, next_obs: Any, term: bool, trunc: bool
    ) -> None:
        for key, value in zip(self.rows, (obs, action, next_obs, reward, term, trunc, episode), strict=True):
            self.rows[key].append(value)

    def arrays(self, action_space: gym.Space) -> dict[str, np.ndarray]:
        out = {k: np.asarray(v) for k, v in self.rows.items()}
        if isinstance(action_space, gym.spaces.Discrete):
            out["acts"] = out["acts"].astype(np.int64).reshape(-1)
        else:
            out["acts"] = out["acts"].astype(np.float32)
        out["obs"], out["next_obs"] = out["obs"].astype(np.float32), out["next_obs"].astype(np.float32)
        out["rews"] = out["rews"].astype(np.float32)
        return out


def collect_demonstrations(
    zip_path: Path, env_cfg: EnvConfig, options: EvalOptions, *, stats_path: Path | None, source: str
) -> Demonstrations:
    """Play ``options.episodes`` episodes of the policy and keep every transition (raw observations).

    The sidecar records the expert's return mean/std and a uniformly random policy's mean return on the
    same env (``RANDOM_EPISODES`` episodes), which GAIL's evaluation uses for normalised scores.
    """
    env = make_env(env_cfg)
    try:
        policy = load_policy(read_sb3_zip(zip_path), env.observation_space, env.action_space, algo=options.algo)
        stats = load_obs_stats(stats_path) if stats_path is not None else None
        act = policy_act_fn(policy, stats, deterministic=options.deterministic)
        recorder = _Recorder()
        expert = run_episodes(env, act, episodes=options.episodes, seed=options.seed, observer=recorder)
        env.action_space.seed(options.seed)
        random = run_episodes(
            env, lambda _: env.action_space.sample(), episodes=RANDOM_EPISODES, seed=options.seed + 10_000
        )
    finally:
        env.close()
    meta = {
        "env_id": env_cfg.id,
        "n_episodes": options.episodes,
        "n_transitions": len(recorder.rows["obs"]),
        "expert_return_mean": expert.mean_return,
        "expert_return_std": expert.std_return,
        "expert_length_mean": expert.mean_length,
        "random_return_mean": random.mean_return,
        "random_return_std": random.std_return,
        "policy": source,
        "deterministic": options.deterministic,
        "seed": options.seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return Demonstrations(**recorder.arrays(env.action_space), meta=meta)
