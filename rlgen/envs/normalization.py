"""Fixed observation normalisation from saved running statistics (the evaluation-time hook)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from rlgen.errors import RlgenError


@dataclass(frozen=True)
class NormStats:
    """Running mean/variance of observations, applied as clip((x - mean) / sqrt(var + eps), +-clip).

    The same formula as SB3's ``VecNormalize``, so statistics gathered there evaluate identically here.
    """

    mean: np.ndarray
    var: np.ndarray
    count: float
    clip: float = 10.0
    epsilon: float = 1e-8

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        scaled = (obs - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            np.savez(fh, mean=self.mean, var=self.var, count=self.count, clip=self.clip, epsilon=self.epsilon)

    @classmethod
    def load(cls, path: str | Path) -> NormStats:
        try:
            with np.load(path, allow_pickle=False) as data:
                stats = cls(
                    mean=data["mean"],
                    var=data["var"],
                    count=float(data["count"]),
                    clip=float(data["clip"]),
                    epsilon=float(data["epsilon"]),
                )
        except (OSError, ValueError, KeyError) as err:
            raise RlgenError(f"corrupt normalisation statistics {path}: {err}") from None
        if not (np.all(np.isfinite(stats.mean)) and np.all(np.isfinite(stats.var))):
            raise RlgenError(f"normalisation statistics {path} contain NaN/inf; use an earlier checkpoint")
        return stats


class FixedObsNormalization(gym.ObservationWrapper):
    """Normalise observations with frozen statistics (no updates), e.g. when evaluating a policy."""

    def __init__(self, env: gym.Env, stats: NormStats):
        super().__init__(env)
        if stats.mean.shape != env.observation_space.shape:
            raise RlgenError(
                f"normalisation statistics have shape {stats.mean.shape} but the env's observations "
                f"have shape {env.observation_space.shape}: wrong env for this policy?"
            )
        self.stats = stats  # the observation space stays the raw one, as with SB3's VecNormalize

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return self.stats.normalize(observation)
