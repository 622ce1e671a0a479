"""Record the raw (s, a, s') transitions of every vec-env step, terminal observations included."""

from __future__ import annotations

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


class TransitionRecorder(VecEnvWrapper):
    """Keeps every step's (obs, action, next_obs) until :meth:`take` is called.

    Sits inside ``VecNormalize`` (so it sees raw observations) and reads s' of finished episodes from
    ``info["terminal_observation"]`` (the returned observation is already the next episode's first one).
    """

    def __init__(self, venv: VecEnv):
        super().__init__(venv)
        if not isinstance(venv.observation_space, spaces.Box):
            raise ValueError(f"transition recording needs Box observations, got {venv.observation_space}")
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        self._obs: list[np.ndarray] = []
        self._act: list[np.ndarray] = []
        self._next: list[np.ndarray] = []

    def reset(self) -> np.ndarray:
        obs = self.venv.reset()
        self._last_obs = np.asarray(obs, np.float32).copy()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = encode_actions(actions, self.action_space)
        self.venv.step_async(actions)

    def step_wait(self):  # noqa: ANN201 - VecEnvStepReturn
        obs, rewards, dones, infos = self.venv.step_wait()
        next_obs = np.asarray(obs, np.float32).copy()
        for i in np.flatnonzero(dones):
            terminal = infos[i].get("terminal_observation")
            if terminal is not None:
                next_obs[i] = terminal
        self._obs.append(self._last_obs)
        self._act.append(self._actions)
        self._next.append(next_obs)
        self._last_obs = np.asarray(obs, np.float32).copy()
        return obs, rewards, dones, infos

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The recorded steps as arrays of shape (steps, n_envs, dim), and forget them."""
        if not self._obs:
            dim = self.observation_space.shape
            empty = np.zeros((0, self.num_envs, *dim), np.float32)
            return empty, np.zeros((0, self.num_envs, action_dim(self.action_space)), np.float32), empty
        out = np.stack(self._obs), np.stack(self._act), np.stack(self._next)
        self._obs, self._act, self._next = [], [], []
        return out

    def clear(self) -> None:
        self._obs, self._act, self._next = [], [], []
