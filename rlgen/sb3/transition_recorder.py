"""Record the raw (s, a, r, s', terminated) of every vec-env step, terminal observations included."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper


def encode_actions(actions: np.ndarray, space: spaces.Space) -> np.ndarray:
    """Actions as float vectors: Box actions flattened, Discrete actions one-hot."""
    actions = np.asarray(actions)
    if isinstance(space, spaces.Discrete):
        return np.eye(int(space.n), dtype=np.float32)[actions.reshape(-1).astype(int) - int(space.start)]
    return actions.reshape(actions.shape[0], -1).astype(np.float32)


def action_dim(space: spaces.Space) -> int:
    return int(space.n) if isinstance(space, spaces.Discrete) else int(np.prod(space.shape))


@dataclass(frozen=True)
class RolloutBatch:
    """A rollout's transitions as arrays of shape (steps, n_envs, ...), in the rollout buffer's layout.

    ``terminated`` marks true episode ends (not time-limit truncations), the steps whose next state is
    absorbing.
    """

    obs: np.ndarray
    act: np.ndarray
    next_obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.rewards.shape  # (steps, n_envs)

    def flat(self, name: str) -> np.ndarray:
        """One field with the (steps, n_envs) axes merged into one, e.g. (steps * n_envs, obs_dim)."""
        value = getattr(self, name)
        return value.reshape(self.shape[0] * self.shape[1], *value.shape[2:])


class TransitionRecorder(VecEnvWrapper):
    """Keeps every step's transition until :meth:`take` is called.

    Sits inside ``VecNormalize`` (so it sees raw observations and the env's own rewards) and reads s' of
    finished episodes from ``info["terminal_observation"]`` (the returned observation is already the next
    episode's first one).
    """

    def __init__(self, venv: VecEnv):
        super().__init__(venv)
        if not isinstance(venv.observation_space, spaces.Box):
            raise ValueError(f"transition recording needs Box observations, got {venv.observation_space}")
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        self._steps: list[tuple[np.ndarray, ...]] = []

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        self._last_obs = np.array(obs, np.float32)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = encode_actions(actions, self.action_space)
        self.venv.step_async(actions)

    def step_wait(self):  # noqa: ANN201 - VecEnvStepReturn
        obs, rewards, dones, infos = self.venv.step_wait()
        current = np.array(obs, np.float32)  # our own copy: the next step's s
        next_obs = current.copy() if dones.any() else current
        terminated = np.zeros(self.num_envs, bool)
        for i in np.flatnonzero(dones):
            terminal = infos[i].get("terminal_observation")
            if terminal is not None:
                next_obs[i] = terminal
            terminated[i] = not infos[i].get("TimeLimit.truncated", False)
        self._steps.append((self._last_obs, self._actions, next_obs, np.asarray(rewards, np.float32), terminated))
        self._last_obs = current
        return obs, rewards, dones, infos

    def take(self) -> RolloutBatch:
        """The steps recorded since the last call (or :meth:`clear`), and forget them."""
        if not self._steps:
            n, obs_shape = self.num_envs, self.observation_space.shape
            empty = np.zeros((0, n, *obs_shape), np.float32)
            act = np.zeros((0, n, action_dim(self.action_space)), np.float32)
            return RolloutBatch(empty, act, empty, np.zeros((0, n), np.float32), np.zeros((0, n), bool))
        batch = RolloutBatch(*(np.stack(column) for column in zip(*self._steps, strict=True)))
        self._steps = []
        return batch

    def clear(self) -> None:
        self._steps = []
