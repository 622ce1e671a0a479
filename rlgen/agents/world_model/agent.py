"""The trained parts of a world-model run put together: V encodes each frame, C acts on [z, h] (or z), and
M's LSTM advances h with (z, a) (Ha & Schmidhuber 2018, Section 3.3, Algorithm 1: a_t = C([z_t, h_t]);
h_{t+1} = RNN(h_t, z_t, a_t)); the env that produces those frames; and the real-env episode player that
candidate evaluation, periodic evaluation and ``rlgen evaluate`` share.

V uses the posterior mean of z when acting (as ctallec/world-models; hardmaru's code samples z), so an
episode is a deterministic function of the controller parameters and the env seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlgen.agents.world_model.config import Config
from rlgen.agents.world_model.memory import load_memory
from rlgen.agents.world_model.step import act_and_remember
from rlgen.agents.world_model.vision import load_vision
from rlgen.data.frame_shards import FrameShards
from rlgen.envs.action_codec import ActionCodec
from rlgen.envs.frames import FrameSpec, disable_mujoco_effects, grab_frame, has_image_observations, make_frame_env
from rlgen.envs.make import make_env
from rlgen.envs.wrappers import NegativeRunStop
from rlgen.evaluation import EvalResult, VideoRecorder, run_episodes
from rlgen.models.controller import Controller
from rlgen.models.mdn_rnn import MDNRNN
from rlgen.runs import RunDir

FRAMES_DIR = "frames"


def frames_folder(config: Config, run: RunDir) -> Path:
    return Path(config.collect.path) if config.collect.path else run / FRAMES_DIR


def uses_h(config: Config) -> bool:
    """C reads [z, h] (the full model) rather than z alone (the V-only ablation)."""
    return config.controller.inputs == "z_h"


def uses_memory(config: Config) -> bool:
    """M is trained when C reads h or is trained in M's dream (the V-only ablation needs no M)."""
    return uses_h(config) or config.controller.train_in == "dream"


def build_controller(config: Config, latent_dim: int, hidden: int, action_dim: int) -> Controller:
    features = latent_dim + (hidden if uses_h(config) else 0)
    return Controller(features, action_dim, config.controller.hidden)


@dataclass
class Parts:
    """V, M (None for the V-only ablation), C, the action codec and how frames are made."""

    vision: torch.nn.Module
    memory: MDNRNN | None
    controller: Controller
    codec: ActionCodec
    spec: FrameSpec


def load_parts(config: Config, run: RunDir) -> Parts:
    torch.set_num_threads(1)
    shards = FrameShards.open(frames_folder(config, run))
    meta = shards.manifest
    spec = FrameSpec(size=meta["frame_shape"][1], crop=tuple(meta["crop"]) if meta.get("crop") else None,
                     grayscale=meta["frame_shape"][0] == 1)  # fmt: skip
    codec = ActionCodec(probe_action_space(config), config.env.id)
    vision = load_vision(config, run, shards.shape)
    latent = config.vision.latent_dim
    memory = load_memory(config, run, latent, codec.dim) if uses_memory(config) else None
    controller = build_controller(config, latent, config.memory.hidden, codec.dim)
    return Parts(vision, memory, controller, codec, spec)


def probe_action_space(config: Config) -> gym.Space:
    env = make_env(config.env)
    try:
        return env.action_space
    finally:
        env.close()


class WorldModelPolicy:
    """Acts on frames with V, M's LSTM state and C; call :meth:`reset` at the start of every episode."""

    def __init__(self, parts: Parts, use_h: bool):
        self.parts, self.use_h = parts, use_h
        self.reset()

    def reset(self) -> None:
        memory = self.parts.memory
        self.state = memory.initial_state(1) if memory is not None else None

    @torch.no_grad()
    def act(self, frame: np.ndarray) -> Any:
        parts = self.parts
        z, _ = parts.vision.posterior_params(torch.as_tensor(np.array(frame[None], dtype=np.int64)))
        action, _, self.state = act_and_remember(parts.controller, parts.codec, parts.memory, z, self.state,
                                                 use_h=self.use_h)  # fmt: skip
        return action


class _ResetHook(gym.Wrapper):
    def __init__(self, env: gym.Env, policy: WorldModelPolicy):
        super().__init__(env)
        self.policy = policy

    def reset(self, **kwargs: Any):  # noqa: ANN201
        self.policy.reset()
        return self.env.reset(**kwargs)


class RealEnvPlayer:
    """The real env driven by a :class:`WorldModelPolicy` (frames made exactly as the collected ones)."""

    def __init__(self, config: Config, parts: Parts, *, training: bool, video: bool = False):
        c = config.controller
        env_cfg = replace(config.env, max_episode_steps=c.max_steps) if training and c.max_steps else config.env
        env = make_frame_env(env_cfg)
        if video and env.render_mode != "rgb_array":  # image observations (CarRacing): render the full view
            env.close()
            env = make_env(env_cfg, render_mode="rgb_array")
        self.image_obs = has_image_observations(env)
        if training and c.negative_stop:
            env = NegativeRunStop(env, c.negative_stop)
        self.policy = WorldModelPolicy(parts, use_h=uses_h(config))
        self.env = _ResetHook(env, self.policy)
        self.spec = parts.spec
        self._effects_off = False

    def _act(self, obs: Any) -> Any:
        if not self._effects_off and self.env.render_mode == "rgb_array":
            disable_mujoco_effects(self.env)
            self._effects_off = True
        return self.policy.act(grab_frame(self.env, obs, self.spec, image_obs=self.image_obs))

    def play(self, params: np.ndarray, *, episodes: int, seed: int, video: VideoRecorder | None = None) -> EvalResult:
        self.policy.parts.controller.set_flat(params)
        return run_episodes(self.env, self._act, episodes=episodes, seed=seed, video=video)

    def close(self) -> None:
        self.env.close()


def world_model_actor(run_path, env: gym.Env):  # noqa: ANN001, ANN201 - (act(obs), reset())
    """The final controller of a world-model run acting in ``env`` (a frame env), for ``rlgen collect``."""
    from rlgen.agents.world_model.evolution import load_controller_params
    from rlgen.kinds import load_saved_config

    run = RunDir.open(run_path)
    config = load_saved_config(run.config_file)
    parts = load_parts(config, run)
    parts.controller.set_flat(load_controller_params(run, "final"))
    policy = WorldModelPolicy(parts, use_h=uses_h(config))
    image_obs = has_image_observations(env)
    return (lambda obs: policy.act(grab_frame(env, obs, parts.spec, image_obs=image_obs))), policy.reset
