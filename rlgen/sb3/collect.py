"""``rlgen collect``: record expert demonstrations from an SB3 policy (an rlgen run or a bare zip)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlgen.data.demonstrations import Demonstrations
from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env
from rlgen.errors import RlgenError
from rlgen.evaluation import EvalOptions, EvalResult, run_episodes
from rlgen.sb3.acting import policy_act_fn
from rlgen.sb3.normalization import load_obs_stats
from rlgen.sb3.safe_zip import load_policy, read_sb3_zip

RANDOM_EPISODES = 20
MAX_ATTEMPTS_FACTOR = 10


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

    def append_episode(self, other: _Recorder, episode: int) -> None:
        """Add the steps ``other`` recorded (one episode) as episode number ``episode``."""
        for key, values in other.rows.items():
            self.rows[key].extend([episode] * len(values) if key == "episode" else values)

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
    zip_path: Path,
    env_cfg: EnvConfig,
    options: EvalOptions,
    *,
    stats_path: Path | None,
    source: str,
    min_return: float | None = None,
) -> Demonstrations:
    """Play ``options.episodes`` episodes of the policy and keep every transition (raw observations).

    With ``min_return``, episodes whose return falls below it are discarded and replaced by further
    episodes (at most ``MAX_ATTEMPTS_FACTOR`` times as many as asked for in all): an expert that now and
    then falls or gets stuck would otherwise teach the imitator that failure. The sidecar records the
    threshold and the number discarded; the expert's return statistics are those of the kept episodes.

    The sidecar also records a uniformly random policy's mean return on the same env
    (``RANDOM_EPISODES`` episodes), which GAIL's evaluation uses for normalised scores.
    """
    env = make_env(env_cfg)
    try:
        policy = load_policy(read_sb3_zip(zip_path), env.observation_space, env.action_space, algo=options.algo)
        stats = load_obs_stats(stats_path) if stats_path is not None else None
        act = policy_act_fn(policy, stats, deterministic=options.deterministic)
        recorder, expert, discarded = _play_expert(env, act, options, min_return)
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
        "min_return": min_return,
        "discarded_episodes": discarded,
        "random_return_mean": random.mean_return,
        "random_return_std": random.std_return,
        "policy": source,
        "deterministic": options.deterministic,
        "seed": options.seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return Demonstrations(**recorder.arrays(env.action_space), meta=meta)


def _play_expert(
    env: gym.Env, act: Any, options: EvalOptions, min_return: float | None
) -> tuple[_Recorder, EvalResult, int]:
    """Record ``options.episodes`` episodes with return >= ``min_return`` (all episodes when None).

    Episode i is reset with seed ``options.seed + i``, discarded ones included, so a collection is
    reproducible. Returns the recorder (kept episodes only), their results and the number discarded.
    """
    wanted, threshold = options.episodes, -math.inf if min_return is None else min_return
    recorder, returns, lengths, played = _Recorder(), [], [], 0
    while len(returns) < wanted and played < MAX_ATTEMPTS_FACTOR * wanted:
        episode = _Recorder()
        result = run_episodes(env, act, episodes=1, seed=options.seed + played, observer=episode)
        if result.returns[0] >= threshold:
            recorder.append_episode(episode, len(returns))
            returns.append(result.returns[0])
            lengths.append(result.lengths[0])
        played += 1
    if len(returns) < wanted:
        raise RlgenError(
            f"only {len(returns)} of {played} expert episodes reached --min-return {min_return:g} "
            f"({wanted} asked for); lower the threshold or train the expert longer"
        )
    return recorder, EvalResult(tuple(returns), tuple(lengths)), played - wanted
