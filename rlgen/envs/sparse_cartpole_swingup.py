"""SparseCartPoleSwingup: swing a pole up from hanging down; reward only while it is nearly upright.

VIME (Houthooft et al. 2016, Section 3) and its code (openai/vime ``envs/cartpole_swingup_env_x.py``):

- reward 1.0 when cos(pole angle) > 0.8 and |cart x| <= 3, else 0.0 (angle 0 = upright);
- the episode terminates when |x| > 3 (with reward 0 on that step); time limit 500 steps;
- reset: x ~ U(-1, 1), x_dot ~ U(-2, 2), theta ~ U(pi - 1, pi + 1) (hanging down), theta_dot ~ U(-3, 3);
- ``info["is_success"]`` is True on steps that pay the reward.

Differences from the original: the physics is MuJoCo (1 kg cart, 1 m / 0.1 kg pole, +-10 N, 0.05 s per
step) instead of rllab's Box2D cart-pole, and the observation is [x, cos theta, sin theta, x_dot,
theta_dot] (5 values) rather than the raw angle, so it stays bounded as the pole spins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

ASSET = Path(__file__).parent / "assets" / "cartpole_swingup.xml"


class SparseCartPoleSwingupEnv(MujocoEnv):
    metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"], "render_fps": 20}

    def __init__(self, x_limit: float = 3.0, upright_cos: float = 0.8, **kwargs: Any):
        self.x_limit, self.upright_cos = x_limit, upright_cos
        observation_space = spaces.Box(-np.inf, np.inf, shape=(5,), dtype=np.float64)
        kwargs.setdefault("default_camera_config", {"trackbodyid": 0, "distance": 6.0, "elevation": 0.0})
        super().__init__(str(ASSET), frame_skip=5, observation_space=observation_space, **kwargs)

    def _get_obs(self) -> np.ndarray:
        x, theta = self.data.qpos
        x_dot, theta_dot = self.data.qvel
        return np.array([x, np.cos(theta), np.sin(theta), x_dot, theta_dot])

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.do_simulation(np.clip(action, -1.0, 1.0), self.frame_skip)
        x, theta = self.data.qpos
        out_of_bounds = bool(abs(x) > self.x_limit)
        success = (not out_of_bounds) and bool(np.cos(theta) > self.upright_cos)
        if self.render_mode == "human":
            self.render()
        return self._get_obs(), float(success), out_of_bounds, False, {"is_success": success}

    def reset_model(self) -> np.ndarray:
        rng = self.np_random
        qpos = np.array([rng.uniform(-1.0, 1.0), rng.uniform(np.pi - 1.0, np.pi + 1.0)])
        qvel = np.array([rng.uniform(-2.0, 2.0), rng.uniform(-3.0, 3.0)])
        self.set_state(qpos, qvel)
        return self._get_obs()
