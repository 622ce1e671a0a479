"""Registration of rlgen's environments under the ``rlgen/`` namespace of Gymnasium."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

NAMESPACE = "rlgen"


def register_env(name: str, entry_point: str, *, max_episode_steps: int | None = None, **kwargs: Any) -> str:
    """Register ``rlgen/<name>`` (e.g. ``SparseMountainCar-v0``) once; return the full id."""
    env_id = f"{NAMESPACE}/{name}"
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_episode_steps, kwargs=kwargs)
    return env_id


def register_builtin_envs() -> None:
    """Register every environment that ships with rlgen."""
    register_env(
        "SparseMountainCar-v0",
        "rlgen.envs.sparse_mountain_car:SparseMountainCarEnv",
        max_episode_steps=500,
    )
    register_env(
        "SparseCartPoleSwingup-v0",
        "rlgen.envs.sparse_cartpole_swingup:SparseCartPoleSwingupEnv",
        max_episode_steps=500,
    )
    register_env(
        "SparseHalfCheetah-v0",
        "rlgen.envs.sparse_half_cheetah:SparseHalfCheetahEnv",
        max_episode_steps=500,
    )
