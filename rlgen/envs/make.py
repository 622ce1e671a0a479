"""Build one environment copy from the ``env`` config section, with clear errors for bad ids."""

from __future__ import annotations

import logging
import os
import sys
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


def route_mujoco_warnings(env_id: str) -> None:
    """Log each distinct MuJoCo warning once (logger ``rlgen.mujoco``) instead of letting MuJoCo print it
    for every env copy and append it to a MUJOCO_LOG.TXT in the working directory (Gymnasium's own
    half_cheetah.xml triggers one on every load). Loads the env's module first, so MuJoCo is imported only
    by envs that use it; a warning handler installed by the user is left alone."""
    spec = gym.registry.get(env_id)
    if spec is not None and isinstance(spec.entry_point, str):
        gym.envs.registration.load_env_creator(spec.entry_point)
    mujoco = sys.modules.get("mujoco")
    if mujoco is None or mujoco.get_mju_user_warning() is not None:
        return
    seen: set[str] = set()

    def log_once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            logging.getLogger("rlgen.mujoco").warning("MuJoCo: %s", message)

    mujoco.set_mju_user_warning(log_once)


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
    route_mujoco_warnings(cfg.id)
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
