"""A fixed-size FIFO pool of (s, a, s') transitions in numpy, saved as plain ``.npz``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rlgen.errors import RlgenError


class TransitionPool:
    """Ring buffer of transitions; the oldest are overwritten once ``capacity`` is reached."""

    def __init__(self, capacity: int, obs_dim: int, act_dim: int):
        if capacity < 1:
            raise ValueError(f"pool capacity must be >= 1, got {capacity}")
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.pos, self.size = 0, 0

    @property
    def capacity(self) -> int:
        return self.obs.shape[0]

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray) -> None:
        """Append a batch (rows beyond capacity keep only the newest)."""
        n = obs.shape[0]
        if n > self.capacity:
            obs, act, next_obs = obs[-self.capacity :], act[-self.capacity :], next_obs[-self.capacity :]
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx], self.act[idx], self.next_obs[idx] = obs, act, next_obs
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = rng.integers(0, self.size, size=n)
        return self.obs[idx], self.act[idx], self.next_obs[idx]

    def save(self, path: Path) -> None:
        n = self.size
        with open(path, "wb") as fh:
            np.savez(fh, obs=self.obs[:n], act=self.act[:n], next_obs=self.next_obs[:n], pos=self.pos)

    def load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                obs, act, next_obs = data["obs"], data["act"], data["next_obs"]
                if obs.shape[1:] != self.obs.shape[1:] or act.shape[1:] != self.act.shape[1:]:
                    raise RlgenError(f"{path}: pool shapes {obs.shape}/{act.shape} do not fit this env")
                n = min(len(obs), self.capacity)
                self.obs[:n], self.act[:n], self.next_obs[:n] = obs[:n], act[:n], next_obs[:n]
                self.size, self.pos = n, int(data["pos"]) % self.capacity
        except (OSError, ValueError, KeyError) as err:
            raise RlgenError(f"corrupt transition pool {path}: {err}") from None
