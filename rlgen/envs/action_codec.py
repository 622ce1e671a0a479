"""Actions as vectors for models that output or read them (the world model's controller and MDN-RNN).

- ``to_env(u)``: a controller output u in [-1, 1]^dim becomes an env action. Box: rescaled onto [low, high]
  per dimension, except the dimensions ``CLIPPED`` names, which are clip(u, low, high) (CarRacing's brake,
  as in the World Models code: steering u_0, gas (u_1 + 1) / 2, brake clip(u_2, 0, 1); rescaling the brake
  too would brake at half strength at u = 0, where CMA-ES starts, and the car would barely move).
  Discrete: argmax.
- ``features(actions)``: env actions as float32 (N, dim) inputs (Box: as they are; Discrete: one-hot).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlgen.errors import RlgenError

CLIPPED: dict[str, tuple[int, ...]] = {"CarRacing": (2,)}
"""Env id prefix -> Box dimensions mapped by clipping instead of rescaling."""


class ActionCodec:
    def __init__(self, space: gym.Space, env_id: str = ""):
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            self.dim = int(space.shape[0])
            finite = np.isfinite(space.low) & np.isfinite(space.high)
            self.low = np.where(finite, space.low, -1.0).astype(np.float64)
            self.high = np.where(finite, space.high, 1.0).astype(np.float64)
            name = env_id.split("/")[-1]
            self.clipped = next((dims for prefix, dims in CLIPPED.items() if name.startswith(prefix)), ())
        elif isinstance(space, gym.spaces.Discrete):
            self.dim = int(space.n)
        else:
            raise RlgenError(f"the world model needs a 1-D Box or a Discrete action space, not {space}")
        self.space = space

    def to_env(self, u: np.ndarray):  # noqa: ANN201 - np.ndarray or int
        if isinstance(self.space, gym.spaces.Discrete):
            return int(np.argmax(u))
        u = np.asarray(u, np.float64)
        action = self.low + (u + 1.0) / 2.0 * (self.high - self.low)
        for dim in self.clipped:
            action[dim] = np.clip(u[dim], self.low[dim], self.high[dim])
        return action.astype(self.space.dtype)

    def features(self, actions: np.ndarray) -> np.ndarray:
        if isinstance(self.space, gym.spaces.Discrete):
            return np.eye(self.dim, dtype=np.float32)[np.asarray(actions, np.int64).reshape(-1)]
        return np.asarray(actions, np.float32).reshape(-1, self.dim)
