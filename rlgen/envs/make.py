"""Build one environment copy from the ``env`` config section, with clear errors for bad ids."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym

from rlgen.config import suggest
from rlgen.envs.config import EnvConfig
from rlgen.envs.wrappers import resolve_wrapper
from rlgen.errors import ConfigError, RlgenError


def use_headless_rendering() -> None:
    """Render MuJoCo off-screen with EGL unless the user chose a backend (must run before mujoco loads)."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame-rendered envs (classic control, Box2D)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def check_env_id(env_id: str) -> None:
    """Raise a one-line error naming the closest registered id when ``env_id`` is unknown."""
    if ":" in env_id or env_id in gym.registry:
        return
    raise RlgenError(f"unknown env id {env_id!r}{suggest(env_id, list(gym.registry))}")


def make_env(cfg: EnvConfig, *, render_mode: str | None = None) -> gym.Env:
    """Create one copy of the configured env, wrapped as configured (no monitor, no normalisation)."""
    check_env_id(cfg.id)
    kwargs: dict[str, Any] = dict(cfg.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    if cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    try:
        env = gym.make(cfg.id, **kwargs)
    except gym.error.DependencyNotInstalled as err:
        raise RlgenError(f"env {cfg.id!r} needs a missing dependency: {err}") from None
    except TypeError as err:
        raise ConfigError(f"bad env.kwargs for {cfg.id!r}: {err}") from None
    for spec in cfg.wrappers:
        wrapper = resolve_wrapper(spec.name)
        try:
            env = wrapper(env, **spec.kwargs)
        except TypeError as err:
            raise ConfigError(f"bad kwargs for wrapper {spec.name!r}: {err}") from None
    return env
