"""The ``env`` section of a run config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class WrapperSpec:
    """One Gymnasium wrapper applied to every environment copy, in list order."""

    name: str
    """A name from ``rlgen.envs.wrappers.WRAPPERS`` (e.g. ``frame_preprocess``) or ``package.module:Class``."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the wrapper's constructor."""


@dataclass(frozen=True)
class EnvConfig:
    """Which environment to train on and how it is wrapped, vectorised and normalised."""

    id: str
    """Gymnasium id, e.g. ``Pendulum-v1``, ``Hopper-v5`` or ``rlgen/SparseMountainCar-v0``."""
    n_envs: int = 1
    """Number of environment copies stepped together."""
    seed: int = 0
    """Master seed: environments, networks and evaluation episodes derive from it."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make`` (e.g. ``continuous: true``)."""
    wrappers: tuple[WrapperSpec, ...] = ()
    """Wrappers applied (in order) to each environment copy, inside the episode monitor."""
    max_episode_steps: int | None = None
    """Override the registered time limit."""
    normalize_obs: bool = False
    """Normalise observations with running mean/std (SB3 ``VecNormalize``); stats saved with the policy."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return (training only)."""
    clip_obs: float = 10.0
    """Clip normalised observations to [-clip_obs, clip_obs]."""
    vec_env: Literal["dummy", "subproc"] = "dummy"
    """``dummy`` steps copies in this process (fast for cheap envs); ``subproc`` uses one process per copy."""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("'id' must name a Gymnasium environment")
        if self.n_envs < 1:
            raise ValueError(f"'n_envs' must be >= 1, got {self.n_envs}")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise ValueError(f"'max_episode_steps' must be >= 1, got {self.max_episode_steps}")
        if self.clip_obs <= 0:
            raise ValueError(f"'clip_obs' must be > 0, got {self.clip_obs}")
