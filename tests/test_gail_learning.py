"""GAIL learns on Pendulum-v1: its true return clearly beats a random policy and a constant-reward policy.

Slow (about 2 minutes on 2 cores): ``pytest -m slow tests/test_gail_learning.py``. Fixed seeds throughout.
Broken GAIL (a discriminator that does not learn, a reward with the wrong sign, relabelling that never
reaches the rollout buffer) leaves the policy as clueless as the constant-reward one, and the test fails.
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from conftest import CONFIGS, run_cli
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env
from rlgen.evaluation import run_episodes
from rlgen.kinds import load_run_config
from rlgen.sb3.algos import build_algo_kwargs

pytestmark = pytest.mark.slow

GAIL_STEPS = 81_920


def evaluate(target: str, tmp_path, *extra: str) -> float:
    out = tmp_path / f"eval-{abs(hash(target))}.json"
    result = run_cli("evaluate", target, "--episodes", "10", "--seed", "1000", "--json", str(out), *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())["mean_return"]


def constant_reward_policy(tmp_path) -> str:
    """PPO with the GAIL run's hyperparameters and budget on Pendulum with every reward replaced by 1."""
    config = load_run_config(CONFIGS / "gail_pendulum.yaml")
    venv_fns = [lambda: gym.wrappers.TransformReward(gym.make("Pendulum-v1"), lambda _: 1.0)] * config.env.n_envs
    kwargs = build_algo_kwargs("ppo", config.algo.kwargs)
    model = PPO("MlpPolicy", DummyVecEnv(venv_fns), seed=0, device="cpu", **kwargs)
    model.learn(GAIL_STEPS)
    path = tmp_path / "constant.zip"
    model.save(path)
    return str(path)


def random_return() -> float:
    env = make_env(EnvConfig(id="Pendulum-v1"))
    env.action_space.seed(0)
    return run_episodes(env, lambda _: env.action_space.sample(), episodes=10, seed=1000).mean_return


def test_gail_beats_random_and_constant_reward_on_pendulum(tmp_path):
    expert = tmp_path / "expert"
    demos = tmp_path / "demos.npz"
    gail = tmp_path / "gail"
    for args in (
        ("train", str(CONFIGS / "expert_pendulum.yaml"), "--run-dir", str(expert), "--set", "train.eval_freq=0"),
        ("collect", "--policy", str(expert), "--episodes", "10", "--out", str(demos)),
        (
            "train",
            str(CONFIGS / "gail_pendulum.yaml"),
            "--run-dir",
            str(gail),
            "--set",
            f"demos.path={demos}",
            "--set",
            "demos.episodes=10",
            "--set",
            f"train.total_timesteps={GAIL_STEPS}",
            "--set",
            "train.eval_freq=0",
        ),
    ):
        result = run_cli(*args, timeout=900)
        assert result.returncode == 0, result.stderr
    gail_return = evaluate(str(gail), tmp_path)
    constant_return = evaluate(constant_reward_policy(tmp_path), tmp_path, "--env", "Pendulum-v1")
    random = random_return()
    expert_return = json.loads(demos.with_suffix(".json").read_text())["expert_return_mean"]
    summary = f"GAIL {gail_return:.0f}, constant reward {constant_return:.0f}, random {random:.0f}"
    summary += f", expert {expert_return:.0f}"
    print(summary)
    assert gail_return > random + 400, summary
    assert gail_return > constant_return + 400, summary
    assert np.isfinite(expert_return) and expert_return > -400, summary
