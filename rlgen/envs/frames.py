"""Frames from any environment, for image models and world models: the observation when it is an image
(CarRacing), else the headless ``rgb_array`` render (MuJoCo with shadows, reflections and skybox off,
~13x faster here), cropped and resized to uint8 CxHxW; and the exploration policies ``random`` and
``brownian`` that ``rlgen collect --frames`` plays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np

from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env, use_headless_rendering
from rlgen.envs.wrappers import preprocess_frame
from rlgen.errors import RlgenError

# World Models (Ha & Schmidhuber 2018, Section 4.1 and their code): drop CarRacing's dashboard, rows 84-95.
DEFAULT_CROPS: dict[str, tuple[int, int, int, int]] = {"CarRacing": (0, 84, 0, 96)}
RENDER_SIZE = 128
"""Render resolution for envs without image observations (MuJoCo's default 480 is 14x more pixels)."""
BROWNIAN_DT = 1 / 50  # the time step of ctallec/world-models' Brownian exploration policy


@dataclass(frozen=True)
class FrameSpec:
    """How frames are made: output size, crop ``(top, bottom, left, right)``, grey-scale."""

    size: int = 64
    crop: tuple[int, int, int, int] | None = None
    grayscale: bool = False

    def for_env(self, env_id: str) -> FrameSpec:
        """This spec, with the env's default crop when none was given."""
        if self.crop is not None:
            return self
        crop = next((c for prefix, c in DEFAULT_CROPS.items() if env_id.split("/")[-1].startswith(prefix)), None)
        return FrameSpec(self.size, crop, self.grayscale)


def has_image_observations(env: gym.Env) -> bool:
    space = env.observation_space
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 3 and space.dtype == np.uint8


def make_frame_env(env_cfg: EnvConfig) -> gym.Env:
    """The env, made to render ``rgb_array`` frames headless unless its observations are already images."""
    use_headless_rendering()
    env = make_env(env_cfg)
    if has_image_observations(env):
        return env
    env.close()
    kwargs = dict(env_cfg.kwargs)
    if _is_mujoco(env_cfg.id):
        kwargs.setdefault("width", RENDER_SIZE)
        kwargs.setdefault("height", RENDER_SIZE)
    return make_env(replace(env_cfg, kwargs=kwargs), render_mode="rgb_array")


def _is_mujoco(env_id: str) -> bool:
    spec = gym.registry.get(env_id)
    entry = str(spec.entry_point) if spec is not None else ""
    return "mujoco" in entry


def disable_mujoco_effects(env: gym.Env) -> None:
    """Shadows, reflections and skybox off in a MuJoCo env's offscreen scene (call after the first render)."""
    renderer = getattr(env.unwrapped, "mujoco_renderer", None)
    if renderer is None:
        return
    import mujoco

    scene = renderer._get_viewer("rgb_array").scn
    for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION, mujoco.mjtRndFlag.mjRND_SKYBOX):
        scene.flags[flag] = 0


def grab_frame(env: gym.Env, obs: Any, spec: FrameSpec, *, image_obs: bool) -> np.ndarray:
    """The current frame as uint8 (C, H, W): the observation itself when ``image_obs``, else the render."""
    raw = obs if image_obs else env.render()
    if raw is None:
        raise RlgenError(f"{env.spec.id if env.spec else env} renders no rgb_array frames")
    return preprocess_frame(raw, spec.size, spec.crop, spec.grayscale).transpose(2, 0, 1)


ActFn = Callable[[Any], Any]


def exploration_policy(name: str, space: gym.Space, seed: int) -> ActFn:
    """``random``: uniform actions; ``brownian``: a random walk in a Box action space,
    a_{t+1} = clip(a_t + sqrt(dt) * N(0, I) * (high - low) / 2) with dt = 1/50, started at a uniform
    action (as ctallec/world-models' CarRacing collection; gives smoother, farther-reaching driving)."""
    rng = np.random.default_rng(seed)
    space.seed(seed)
    if name == "random":
        return lambda _obs: space.sample()
    if name != "brownian":
        raise RlgenError(f"unknown exploration policy {name!r}; choose random, brownian, or a run directory")
    if not isinstance(space, gym.spaces.Box):
        raise RlgenError(f"the brownian policy needs a continuous (Box) action space, not {space}; use random")
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    state = {"action": space.sample().astype(np.float64)}

    def act(_obs: Any) -> np.ndarray:
        step = np.sqrt(BROWNIAN_DT) * rng.standard_normal(space.shape) * (high - low) / 2
        state["action"] = np.clip(state["action"] + step, low, high)
        return state["action"].astype(space.dtype)

    return act
