"""Expert demonstrations: transitions in a pickle-free ``.npz`` plus a JSON sidecar.

File layout (DESIGN.md): ``demos.npz`` holds per-transition arrays ``obs``, ``acts``, ``next_obs``,
``rews``, ``terminated``, ``truncated`` and ``episode`` (the index of the episode each transition belongs
to, in order); ``demos.json`` next to it holds the env id, the number of episodes, the expert's return
mean/std, the random policy's return mean (for normalised scores) and how the demos were made.
Episodes may have any length (no padding, unlike libraries that need fixed-length episodes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlgen.errors import RlgenError

ARRAYS = ("obs", "acts", "next_obs", "rews", "terminated", "truncated", "episode")


def sidecar_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def check_new_demos_path(path: Path) -> None:
    """Refuse a path that is not ``.npz`` or whose file or sidecar exists (demos are never overwritten)."""
    if path.suffix != ".npz":
        raise RlgenError(f"demonstrations are saved as .npz, got {path}")
    if path.exists() or sidecar_path(path).exists():
        raise RlgenError(f"{path} already exists; choose another --out (existing demos are never overwritten)")


@dataclass(frozen=True)
class Demonstrations:
    """Transitions of expert episodes, checked for consistent lengths and finite values on creation."""

    obs: np.ndarray
    acts: np.ndarray
    next_obs: np.ndarray
    rews: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    episode: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.obs)
        if n == 0:
            raise ValueError("no transitions")
        for name in ARRAYS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"'{name}' has {len(getattr(self, name))} rows, 'obs' has {n}")
        if self.next_obs.shape != self.obs.shape:
            raise ValueError(f"'next_obs' shape {self.next_obs.shape} differs from 'obs' shape {self.obs.shape}")
        for name in ("obs", "acts", "next_obs", "rews"):
            values = getattr(self, name)
            if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
                raise ValueError(f"'{name}' contains NaN or inf")
        if np.any(np.diff(self.episode) < 0):
            raise ValueError("'episode' indices must be non-decreasing (transitions stored episode by episode)")

    @property
    def n_episodes(self) -> int:
        return len(np.unique(self.episode))

    def episode_returns(self) -> np.ndarray:
        _, index = np.unique(self.episode, return_inverse=True)
        return np.bincount(index, weights=self.rews.astype(np.float64))

    def first_episodes(self, n: int) -> Demonstrations:
        """Only the first ``n`` episodes (e.g. the paper's 4/11/18/25 trajectories)."""
        if n > self.n_episodes:
            raise RlgenError(f"asked for {n} expert episodes but the demos hold {self.n_episodes}; collect more")
        keep = self.episode < np.unique(self.episode)[n - 1] + 1 if n > 0 else np.zeros(len(self.obs), bool)
        return self._take(keep)

    def subsample(self, every: int, rng: np.random.Generator) -> Demonstrations:
        """Every ``every``-th transition of each episode, from a random offset per episode.

        Ho & Ermon 2016 (Section 6) subsample expert trajectories (every 20th state-action pair on MuJoCo)
        so the imitator cannot simply copy consecutive states. Terminal transitions get no special treatment
        (keeping each one would weight the states just before a termination ``every`` times over); the
        number of terminations stays readable on the full demos, which is what absorbing states need.
        """
        if every <= 1:
            return self
        keep = np.zeros(len(self.obs), bool)
        for ep in np.unique(self.episode):
            idx = np.flatnonzero(self.episode == ep)
            keep[idx[int(rng.integers(every)) :: every]] = True
        return self._take(keep)

    def _take(self, mask: np.ndarray) -> Demonstrations:
        return replace(self, **{name: getattr(self, name)[mask] for name in ARRAYS})

    def save(self, path: str | Path) -> None:
        """Write ``path`` (npz) and its JSON sidecar; refuses to overwrite existing demos."""
        path = Path(path)
        check_new_demos_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as fh:
            np.savez_compressed(fh, **{name: getattr(self, name) for name in ARRAYS})
        sidecar_path(path).write_text(json.dumps(self.meta, indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Demonstrations:
        """Read demos (npz without pickle + sidecar); damaged or inconsistent files give a clear RlgenError."""
        path = Path(path)
        if not path.is_file():
            raise RlgenError(f"demonstrations not found: {path} (make them with rlgen collect)")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [name for name in ARRAYS if name not in data]
                if missing:
                    raise RlgenError(f"{path} is not an rlgen demonstrations file (missing {', '.join(missing)})")
                arrays = {name: data[name] for name in ARRAYS}
        except RlgenError:
            raise
        except (OSError, ValueError, EOFError) as err:
            raise RlgenError(f"corrupt demonstrations file {path}: {err}") from None
        meta = _read_sidecar(path)
        try:
            return cls(**arrays, meta=meta)
        except ValueError as err:
            raise RlgenError(f"bad demonstrations {path}: {err}") from None

    def check_env(self, env: gym.Env, env_id: str, source: str) -> None:
        """Reject demos recorded on another env or whose shapes/dtypes do not fit the env's spaces."""
        recorded = self.meta.get("env_id")
        if recorded is not None and recorded != env_id:
            raise RlgenError(f"{source} were recorded on {recorded!r}, not {env_id!r}; collect demos for {env_id}")
        obs_shape = env.observation_space.shape
        if self.obs.shape[1:] != obs_shape:
            raise RlgenError(f"{source}: observations have shape {self.obs.shape[1:]}, {env_id} gives {obs_shape}")
        space = env.action_space
        if isinstance(space, gym.spaces.Discrete):
            if not np.issubdtype(self.acts.dtype, np.integer) or self.acts.ndim != 1:
                raise RlgenError(
                    f"{source}: {env_id} has discrete actions; demos hold {self.acts.dtype} "
                    f"actions of shape {self.acts.shape[1:]}"
                )
            if self.acts.min() < space.start or self.acts.max() >= space.start + space.n:
                raise RlgenError(f"{source}: actions outside {env_id}'s {space.n} discrete actions")
        elif self.acts.shape[1:] != space.shape:
            raise RlgenError(f"{source}: actions have shape {self.acts.shape[1:]}, {env_id} takes {space.shape}")


def _read_sidecar(path: Path) -> dict[str, Any]:
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError) as err:
        raise RlgenError(f"corrupt demonstrations sidecar {side}: {err}") from None
    if not isinstance(meta, dict):
        raise RlgenError(f"corrupt demonstrations sidecar {side}: expected a JSON object")
    return meta
