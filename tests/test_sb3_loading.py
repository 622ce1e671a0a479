"""Policies saved by plain SB3 load without unpickling; checkpoints restore the full training state."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from rlgen_test_envs import TinyImageEnv
from stable_baselines3 import DQN, PPO, SAC
from stable_baselines3.common import save_util

from rlgen.envs.config import EnvConfig
from rlgen.errors import RlgenError
from rlgen.sb3.checkpoint import MODEL_FILE, restore_training_state, write_training_state
from rlgen.sb3.config import AlgoConfig
from rlgen.sb3.safe_zip import infer_algo, load_policy, read_sb3_zip
from rlgen.sb3.trainer import build_model, build_vec_env


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch):
    """Any call to cloudpickle.loads inside SB3's loader fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("rlgen must not unpickle")

    monkeypatch.setattr(save_util.cloudpickle, "loads", refuse)


def check_same_actions(model, policy, space, n=5):
    for _ in range(n):
        obs = space.sample()
        expected, _ = model.predict(obs, deterministic=True)
        got, _ = policy.predict(obs, deterministic=True)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("cls", "env_id", "kwargs", "family"),
    [
        (
            PPO,
            "Pendulum-v1",
            {"n_steps": 64, "policy_kwargs": {"activation_fn": torch.nn.ReLU, "net_arch": [16]}},
            "ppo",
        ),
        (SAC, "Pendulum-v1", {"learning_starts": 10, "buffer_size": 100, "policy_kwargs": {"net_arch": [16]}}, "sac"),
        (DQN, "CartPole-v1", {"learning_starts": 10, "buffer_size": 100}, "dqn"),
    ],
)
def test_plain_sb3_zip_loads_without_pickle(tmp_path, cls, env_id, kwargs, family):
    env = gym.make(env_id)
    model = cls("MlpPolicy", env, seed=0, **kwargs)
    model.learn(64)
    model.save(tmp_path / "m.zip")
    saved = read_sb3_zip(tmp_path / "m.zip")
    assert infer_algo(saved) == family and saved.num_timesteps == model.num_timesteps
    check_same_actions(model, load_policy(saved, env.observation_space, env.action_space), env.observation_space)


def test_cnn_policy_saved_channel_first_evaluates_on_channel_last_env(tmp_path):
    env = TinyImageEnv()
    model = PPO(
        "CnnPolicy",
        env,
        n_steps=16,
        batch_size=16,
        seed=0,
        policy_kwargs={"features_extractor_kwargs": {"features_dim": 8}},
    )
    model.save(tmp_path / "m.zip")
    policy = load_policy(read_sb3_zip(tmp_path / "m.zip"), env.observation_space, env.action_space)
    check_same_actions(model, policy, env.observation_space)


def test_bad_zips_are_clear_errors(tmp_path):
    env = gym.make("Pendulum-v1")
    PPO("MlpPolicy", env, n_steps=64).save(tmp_path / "m.zip")
    data = (tmp_path / "m.zip").read_bytes()
    (tmp_path / "trunc.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(RlgenError, match="corrupt or truncated"):
        read_sb3_zip(tmp_path / "trunc.zip")
    with pytest.raises(RlgenError, match="not found"):
        read_sb3_zip(tmp_path / "missing.zip")
    other = gym.make("CartPole-v1")
    with pytest.raises(RlgenError, match="wrong --env"):
        load_policy(read_sb3_zip(tmp_path / "m.zip"), other.observation_space, env.action_space)


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_checkpoint_restores_counters_optimizer_normaliser_and_buffer(tmp_path, algo):
    env_cfg = EnvConfig(id="Pendulum-v1", n_envs=2, normalize_obs=True, normalize_reward=True)
    kwargs = (
        {"n_steps": 32, "batch_size": 32}
        if algo == "ppo"
        else {"learning_starts": 16, "buffer_size": 500, "batch_size": 16}
    )
    algo_cfg = AlgoConfig(name=algo, kwargs=kwargs)
    model = build_model(algo_cfg, build_vec_env(env_cfg, seed=0), seed=0, device="cpu")
    model.learn(128)
    write_training_state(model, tmp_path)
    fresh = build_model(algo_cfg, build_vec_env(env_cfg, seed=1), seed=1, device="cpu")
    assert restore_training_state(fresh, tmp_path) == model.num_timesteps == fresh.num_timesteps
    assert fresh._n_updates == model._n_updates > 0
    for (name, a), b in zip(model.policy.state_dict().items(), fresh.policy.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    optimizer = "policy.optimizer" if algo == "ppo" else "actor.optimizer"
    before = _optimizer_state(model, optimizer)
    after = _optimizer_state(fresh, optimizer)
    assert before.keys() == after.keys() and before
    for key in before:
        torch.testing.assert_close(after[key], before[key])
    np.testing.assert_array_equal(fresh.get_env().obs_rms.mean, model.get_env().obs_rms.mean)
    np.testing.assert_array_equal(fresh.get_env().ret_rms.var, model.get_env().ret_rms.var)
    if algo == "sac":
        assert fresh.replay_buffer.pos == model.replay_buffer.pos
        np.testing.assert_array_equal(fresh.replay_buffer.observations, model.replay_buffer.observations)
        torch.testing.assert_close(fresh.log_ent_coef, model.log_ent_coef)
    assert (tmp_path / MODEL_FILE).is_file()


def _optimizer_state(model, dotted):
    optimizer = model
    for part in dotted.split("."):
        optimizer = getattr(optimizer, part)
    state = optimizer.state_dict()["state"]
    return {f"{i}.{k}": v for i, entry in state.items() for k, v in entry.items() if torch.is_tensor(v)}
