"""Wrappers that later agents share, and the name -> wrapper table the ``env.wrappers`` config uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from PIL import Image

from rlgen.config import suggest
from rlgen.errors import ConfigError


class FramePreprocess(gym.ObservationWrapper):
    """Crop, resize and (optionally) grey-scale image observations to uint8 HWC.

    World Models (Ha & Schmidhuber 2018, Section 4.1) crop CarRacing's dashboard and resize frames
    to 64x64x3; ``crop=(0, 84, 0, 96)`` with ``size=64`` reproduces that for CarRacing-v3.

    Args:
        env: an environment whose observations are HxWxC uint8 images.
        size: output height and width.
        crop: ``(top, bottom, left, right)`` pixel bounds kept before resizing (Python slice semantics).
        grayscale: average the colour channels into one channel.
    """

    def __init__(
        self,
        env: gym.Env,
        size: int = 64,
        crop: tuple[int, int, int, int] | list[int] | None = None,
        grayscale: bool = False,
    ):
        super().__init__(env)
        space = env.observation_space
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 3):
            raise ConfigError(
                f"frame_preprocess needs HxWxC image observations, got {space}; "
                "for state-based envs add the 'render_observation' wrapper first"
            )
        if crop is not None and len(crop) != 4:
            raise ConfigError(f"frame_preprocess crop must be [top, bottom, left, right], got {crop}")
        self.size = int(size)
        self.crop = tuple(crop) if crop is not None else None
        self.grayscale = grayscale
        channels = 1 if grayscale else space.shape[2]
        self.observation_space = gym.spaces.Box(0, 255, (self.size, self.size, channels), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return preprocess_frame(observation, self.size, self.crop, self.grayscale)


def preprocess_frame(
    frame: np.ndarray, size: int, crop: tuple[int, int, int, int] | None = None, grayscale: bool = False
) -> np.ndarray:
    """Crop ``(top, bottom, left, right)``, optionally grey-scale, and resize (bilinear) an HxWxC frame to
    uint8 ``size x size x C``."""
    frame = np.asarray(frame)
    if crop is not None:
        top, bottom, left, right = crop
        frame = frame[top:bottom, left:right]
    frame = frame.astype(np.uint8, copy=False)
    if grayscale:
        frame = frame.mean(axis=2, keepdims=True).astype(np.uint8)
    if frame.shape[:2] != (size, size):
        image = Image.fromarray(frame[..., 0] if frame.shape[2] == 1 else frame)
        frame = np.asarray(image.resize((size, size), Image.BILINEAR)).reshape(size, size, -1)
    return frame


class FrameStack(gym.Wrapper):
    """Stack the last ``n`` image frames along the channel axis (HWC), so CNN policies see motion."""

    def __init__(self, env: gym.Env, n: int = 4):
        super().__init__(env)
        space = env.observation_space
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 3):
            raise ConfigError(f"frame_stack needs HxWxC image observations, got {space}")
        if n < 1:
            raise ConfigError(f"frame_stack n must be >= 1, got {n}")
        self.n = n
        height, width, channels = space.shape
        self.observation_space = gym.spaces.Box(0, 255, (height, width, channels * n), space.dtype)
        self._frames: list[np.ndarray] = []

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._frames = [obs] * self.n
        return np.concatenate(self._frames, axis=2), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._frames = self._frames[1:] + [obs]
        return np.concatenate(self._frames, axis=2), reward, terminated, truncated, info


class ActionRepeat(gym.Wrapper):
    """Repeat each action ``repeat`` times and sum the rewards (stops early at the end of an episode)."""

    def __init__(self, env: gym.Env, repeat: int = 2):
        super().__init__(env)
        if repeat < 1:
            raise ConfigError(f"action_repeat repeat must be >= 1, got {repeat}")
        self.repeat = repeat

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        total = 0.0
        for _ in range(self.repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


class NegativeRunStop(gym.Wrapper):
    """Truncate an episode after ``patience`` consecutive negative rewards (e.g. a CarRacing car that stands
    still or has left the track pays 0.1 a frame): saves evaluation time in evolution strategies."""

    def __init__(self, env: gym.Env, patience: int = 100):
        super().__init__(env)
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.patience, self.run = patience, 0

    def reset(self, **kwargs: Any):  # noqa: ANN201
        self.run = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any):  # noqa: ANN201
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.run = self.run + 1 if reward < 0 else 0
        return obs, reward, terminated, truncated or self.run >= self.patience, info


def _rescale_action(env: gym.Env, low: float = -1.0, high: float = 1.0) -> gym.Env:
    """Let the agent act in [low, high] whatever the env's action bounds (action normalisation hook)."""
    return gym.wrappers.RescaleAction(env, min_action=low, max_action=high)


def _render_observation(env: gym.Env) -> gym.Env:
    """Replace the observation by the rendered RGB frame (needs ``render_mode: rgb_array`` in kwargs)."""
    if env.render_mode != "rgb_array":
        raise ConfigError("render_observation needs env.kwargs.render_mode: rgb_array")
    return gym.wrappers.AddRenderObservation(env, render_only=True)


WRAPPERS: dict[str, Callable[..., gym.Env]] = {
    "frame_preprocess": FramePreprocess,
    "frame_stack": FrameStack,
    "action_repeat": ActionRepeat,
    "negative_run_stop": NegativeRunStop,
    "rescale_action": _rescale_action,
    "clip_action": gym.wrappers.ClipAction,
    "render_observation": _render_observation,
    "flatten_observation": gym.wrappers.FlattenObservation,
}


def resolve_wrapper(name: str) -> Callable[..., gym.Env]:
    """Find a wrapper by table name or by ``package.module:Class`` import path."""
    if name in WRAPPERS:
        return WRAPPERS[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f"cannot import wrapper {name!r}: {err}") from None
    raise ConfigError(f"unknown wrapper {name!r}{suggest(name, WRAPPERS)} (or give package.module:Class)")
