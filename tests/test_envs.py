"""Environment registration, wrappers and env construction."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import rlgen  # noqa: F401  (registers rlgen/ ids)
from rlgen.envs.config import EnvConfig, WrapperSpec
from rlgen.envs.make import make_env
from rlgen.envs.normalization import FixedObsNormalization, NormStats
from rlgen.envs.registration import register_env
from rlgen.envs.wrappers import ActionRepeat, FramePreprocess, FrameStack, resolve_wrapper
from rlgen.errors import ConfigError, RlgenError
from rlgen.sb3.normalization import obs_stats


def test_rlgen_namespace_is_registered():
    env = gym.make("rlgen/SparseMountainCar-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2,)
    assert env.spec.max_episode_steps == 500


def test_register_env_is_idempotent():
    env_id = register_env("TestPendulum-v0", "gymnasium.envs.classic_control:PendulumEnv", max_episode_steps=7)
    assert register_env("TestPendulum-v0", "gymnasium.envs.classic_control:PendulumEnv") == env_id
    env = gym.make(env_id)
    env.reset(seed=0)
    steps = 0
    while True:
        steps += 1
        if any(env.step(env.action_space.sample())[2:4]):
            break
    assert steps == 7


def test_sparse_mountain_car_reward_and_success_on_hand_set_states():
    env = gym.make("rlgen/SparseMountainCar-v0")
    env.reset(seed=0)
    env.unwrapped.state = np.array([0.0, 0.0])
    _, reward, terminated, _, info = env.step(np.array([1.0]))
    assert (reward, terminated, info["is_success"]) == (0.0, False, False)
    env.unwrapped.state = np.array([0.449, 0.02])  # one step from the goal, moving right
    _, reward, terminated, _, info = env.step(np.array([1.0]))
    assert (reward, terminated, info["is_success"]) == (1.0, True, True)


def test_frame_preprocess_crop_resize_grayscale():
    env = gym.make("CarRacing-v3")
    wrapped = FramePreprocess(env, size=64, crop=(0, 84, 0, 96))
    obs, _ = wrapped.reset(seed=0)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
    assert wrapped.observation_space.contains(obs)
    grey = FramePreprocess(gym.make("CarRacing-v3"), size=32, grayscale=True)
    obs, _ = grey.reset(seed=0)
    assert obs.shape == (32, 32, 1)
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[84:] = 255  # the dashboard, cropped away
    assert wrapped.observation(frame).max() == 0


def test_frame_preprocess_rejects_state_observations():
    with pytest.raises(ConfigError, match="render_observation"):
        FramePreprocess(gym.make("Pendulum-v1"))


def test_frame_stack_concatenates_channels():
    env = FrameStack(FramePreprocess(gym.make("CarRacing-v3"), size=16), n=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (16, 16, 9)
    np.testing.assert_array_equal(obs[..., :3], obs[..., 6:])  # after reset all frames are the first one
    obs2, *_ = env.step(env.action_space.sample())
    np.testing.assert_array_equal(obs2[..., :6], obs[..., 3:])


def test_action_repeat_sums_rewards():
    env = ActionRepeat(gym.make("Pendulum-v1"), repeat=3)
    base = gym.make("Pendulum-v1")
    env.reset(seed=1)
    base.reset(seed=1)
    action = np.array([0.5], np.float32)
    expected = sum(base.step(action)[1] for _ in range(3))
    assert env.step(action)[1] == pytest.approx(expected)


def test_fixed_normalisation_matches_vecnormalize():
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), norm_reward=False)
    venv.seed(0)
    venv.reset()
    for _ in range(50):
        venv.step(np.array([[0.3]]))
    stats = obs_stats(venv)
    raw = np.array([0.5, -0.2, 3.0], np.float32)
    np.testing.assert_allclose(stats.normalize(raw), venv.normalize_obs(raw), rtol=1e-6)
    env = FixedObsNormalization(gym.make("Pendulum-v1"), stats)
    obs, _ = env.reset(seed=0)
    assert np.all(np.abs(obs) <= stats.clip)


def test_norm_stats_round_trip_and_mismatch(tmp_path):
    stats = NormStats(np.array([1.0, 2.0]), np.array([4.0, 9.0]), 10.0, clip=5.0)
    stats.save(tmp_path / "s.npz")
    loaded = NormStats.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.normalize(np.array([3.0, 5.0])), stats.normalize(np.array([3.0, 5.0])))
    with pytest.raises(RlgenError, match="shape"):
        FixedObsNormalization(gym.make("Pendulum-v1"), loaded)
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(RlgenError, match="corrupt"):
        NormStats.load(tmp_path / "bad.npz")


def test_wrapper_lookup():
    assert resolve_wrapper("frame_stack") is FrameStack
    assert resolve_wrapper("rlgen_test_envs:NanRewardAfter").__name__ == "NanRewardAfter"
    with pytest.raises(ConfigError, match="did you mean 'frame_stack'"):
        resolve_wrapper("frame_stak")
    with pytest.raises(ConfigError, match="cannot import"):
        resolve_wrapper("no_such_module:Thing")


def test_make_env_applies_wrappers_and_rescales_actions():
    cfg = EnvConfig(id="Pendulum-v1", wrappers=(WrapperSpec("rescale_action", {"low": -1, "high": 1}),))
    env = make_env(cfg)
    assert env.action_space.high[0] == 1.0
    with pytest.raises(RlgenError, match="did you mean 'Pendulum-v1'"):
        make_env(EnvConfig(id="Pendulum-v2"))
    with pytest.raises(ConfigError, match="bad kwargs for wrapper"):
        make_env(EnvConfig(id="Pendulum-v1", wrappers=(WrapperSpec("frame_stack", {"m": 2}),)))


def test_mujoco_warnings_leave_no_log_file_in_the_working_directory(tmp_path, monkeypatch):
    """Gymnasium's half_cheetah.xml makes MuJoCo warn on every load; MuJoCo's default handler appends each
    warning to MUJOCO_LOG.TXT in the working directory. make_env routes them to logging instead."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        make_env(EnvConfig(id="HalfCheetah-v5")).close()
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
