"""SparseCartPoleSwingup: swing a pole up from hanging down; reward only while it is nearly upright.

VIME (Houthooft et al. 2016, Section 3) and its code (openai/vime ``envs/cartpole_swingup_env_x.py``):

- reward 1.0 when cos(pole angle) > 0.8 and |cart x| <= 3, else 0.0 (angle 0 = upright);
- the episode terminates when |x| > 3 (with reward 0 on that step); time limit 500 steps;
- reset: x ~ U(-1, 1), x_dot ~ U(-2, 2), theta ~ U(pi - 1, pi + 1) (hanging down), theta_dot ~ U(-3, 3);
- ``info["is_success"]`` is True on steps that pay the reward.

Differences from the original: the physics is MuJoCo (1 kg cart, 1 m / 0.1 kg pole, +-10 N, 0.05 s per
step) instead of rllab's Box2D cart-pole, and the observation is [x, cos theta, sin theta, x_dot,
theta_dot] (5 values) rather than the raw angle, so it stays bounded as the pole spins.

Pole damping (``pole_damping``, default 6.7e-4 N m s^3): rllab steps its Box2D world once per 0.05 s,
and the sequential-impulse joint solver loses energy at that step size; MuJoCo's RK4 does not. Left
alone, the difference changes the task: a free swing of 2.6 rad decays to 0.72 rad within 10 s in the
original (0.05 s steps, 8 velocity / 3 position iterations) and not at all in MuJoCo, and a random policy
(N(0, 1) actions) reaches the rewarded region in 3 % of episodes here against 0 of 2,000 in a replica of
the original. The loss grows with the fourth power of the pole's angular speed (the constraint projection
removes a centripetal error of order (omega^2 r dt)^2 each step), so we apply a cubic damping torque
-c * theta_dot^3 on the hinge at every 0.01 s physics step, with c fitted to the Box2D replica's decay
curves from 0.6, 1, 2 and 2.6 rad (``benchmarks/cartpole_physics.py`` redoes the fit and the comparison).
With it the random policy also scores on 0 of 2,000 episodes. ``pole_damping=0`` gives the frictionless
cart-pole.

One more quirk of the original we do not copy: its reset moves the cart and sets the pole's angle and
angular velocity, but not the pole body's position or velocity, so Box2D's joint solver snaps the pole
onto the cart during the first steps (e.g. an angular velocity of 3 rad/s becomes 0.8). We start from the
nominal, consistent state instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

ASSET = Path(__file__).parent / "assets" / "cartpole_swingup.xml"


class SparseCartPoleSwingupEnv(MujocoEnv):
    metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"], "render_fps": 20}

    def __init__(self, x_limit: float = 3.0, upright_cos: float = 0.8, pole_damping: float = 6.7e-4, **kwargs: Any):
        if pole_damping < 0:
            raise ValueError(f"pole_damping must be >= 0, got {pole_damping}")
        self.x_limit, self.upright_cos, self.pole_damping = x_limit, upright_cos, pole_damping
        observation_space = spaces.Box(-np.inf, np.inf, shape=(5,), dtype=np.float64)
        kwargs.setdefault("default_camera_config", {"trackbodyid": 0, "distance": 6.0, "elevation": 0.0})
        super().__init__(str(ASSET), frame_skip=5, observation_space=observation_space, **kwargs)

    def _get_obs(self) -> np.ndarray:
        x, theta = self.data.qpos
        x_dot, theta_dot = self.data.qvel
        return np.array([x, np.cos(theta), np.sin(theta), x_dot, theta_dot])

    def _step_mujoco_simulation(self, ctrl: np.ndarray, n_frames: int) -> None:
        if self.pole_damping == 0:
            super()._step_mujoco_simulation(ctrl, n_frames)
            return
        self.data.ctrl[:] = ctrl
        for _ in range(n_frames):  # the cubic damping torque is refreshed every physics step (docstring)
            self.data.qfrc_applied[1] = -self.pole_damping * self.data.qvel[1] ** 3
            mujoco.mj_step(self.model, self.data)
        self.data.qfrc_applied[1] = 0.0
        mujoco.mj_rnePostConstraint(self.model, self.data)

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
