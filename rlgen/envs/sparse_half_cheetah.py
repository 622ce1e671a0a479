"""SparseHalfCheetah: HalfCheetah that is paid only once its torso is more than 5 m forward.

VIME (Houthooft et al. 2016, Section 3) and its code (openai/vime ``envs/half_cheetah_env_x.py``):

- reward 1.0 on every step with torso x > 5.0, else 0.0 (no control cost, no velocity reward);
- never terminates; time limit 500 steps (the original's max path length);
- ``info["is_success"]`` is True on steps with torso x > 5.

Time step. rllab's ``MujocoEnv`` takes its frame skip from a ``frame_skip`` numeric in the model file
and uses 1 when there is none; rllab's ``half_cheetah.xml`` has none and a 0.01 s physics step, so the
original's 500-step episode lasts 5 s of simulated time. Gymnasium's HalfCheetah-v5 uses the same model
with ``frame_skip=5`` (25 s per episode). We follow the original: ``frame_skip`` defaults to 1. The
difference is the difference between a hard and an easy task: over 100 episodes of 500 uniformly random
actions, the torso's furthest x averaged 0.07 m (max 0.35) at frame skip 1, and 0.72 m (max 5.7, one
episode paid) at frame skip 5 (``benchmarks/half_cheetah_horizon.py``). Reaching x > 5 within 5 s takes a
running gait of about 1 m/s; within 25 s, a shuffle.

Reset noise follows rllab's ``MujocoEnv.reset_mujoco``: Gaussian, sd 0.01 on the joint positions and 0.1
on the velocities (Gymnasium's v5 draws the positions uniformly from +-0.1).

Other differences from the original: MuJoCo 3's contact solver instead of MuJoCo 1.31's (the model file is
the same one); the observation is v5's with the torso x position kept
(``exclude_current_positions_from_observation=False``, 18 values) so the reward is a function of the
observation, where the original appended the centre of mass of the torso's subtree; and the reward tests
the torso's x (the root joint), not that centre of mass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv

RLLAB_QPOS_NOISE = 0.01
RLLAB_QVEL_NOISE = 0.1


class SparseHalfCheetahEnv(HalfCheetahEnv):
    def __init__(self, goal_x: float = 5.0, frame_skip: int = 1, **kwargs: Any):
        if not isinstance(frame_skip, int) or isinstance(frame_skip, bool) or frame_skip < 1:
            raise ValueError(f"frame_skip must be a positive integer, got {frame_skip!r}")
        kwargs.setdefault("exclude_current_positions_from_observation", False)
        super().__init__(frame_skip=frame_skip, **kwargs)
        self.goal_x = goal_x

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + RLLAB_QPOS_NOISE * self.np_random.standard_normal(self.model.nq)
        qvel = self.init_qvel + RLLAB_QVEL_NOISE * self.np_random.standard_normal(self.model.nv)
        self.set_state(qpos, qvel)
        return self._get_obs()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, _, terminated, truncated, info = super().step(action)
        success = bool(self.data.qpos[0] > self.goal_x)
        return obs, float(success), terminated, truncated, dict(info, is_success=success)
