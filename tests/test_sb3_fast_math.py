"""rlgen.sb3.fast_math's speed settings and LeanPPO change how SB3 computes, not what."""

from __future__ import annotations

import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from torch.distributions import Distribution, Normal

from rlgen.envs.config import EnvConfig
from rlgen.sb3.config import AlgoConfig
from rlgen.sb3.fast_math import distribution_validation_off, with_fused_adam
from rlgen.sb3.lean_ppo import LeanPPO
from rlgen.sb3.trainer import build_model, build_vec_env

PPO_KWARGS = {"n_steps": 64, "batch_size": 32, "n_epochs": 2}


def _ppo(kwargs: dict):
    env = build_vec_env(EnvConfig(id="Pendulum-v1", n_envs=2), seed=0)
    return build_model(AlgoConfig(name="ppo", kwargs=kwargs), env, seed=0, device="cpu")


def test_adam_is_fused_by_default_and_a_config_choice_wins():
    assert _ppo(PPO_KWARGS).policy.optimizer.defaults["fused"] is True
    own = {**PPO_KWARGS, "policy_kwargs": {"optimizer_kwargs": {"foreach": False}}}
    assert not _ppo(own).policy.optimizer.defaults["fused"]
    assert with_fused_adam({"policy_kwargs": {"optimizer_class": torch.optim.SGD}}, "cpu")["policy_kwargs"] == {
        "optimizer_class": torch.optim.SGD
    }
    assert with_fused_adam({}, "mps") == {}


def test_fused_adam_trains_ppo_like_plain_adam():
    plain = {**PPO_KWARGS, "policy_kwargs": {"optimizer_kwargs": {"fused": False}}}
    models = []
    for kwargs in (PPO_KWARGS, plain):  # one after the other: both draw from the same seeded global RNG
        models.append(_ppo(kwargs).learn(128))
    for (name, a), b in zip(models[0].policy.state_dict().items(), models[1].policy.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def test_distribution_validation_is_off_inside_and_restored_after():
    nan = torch.tensor([float("nan")])
    with distribution_validation_off():
        assert torch.isnan(Normal(nan, torch.ones(1)).mean).all()
    assert Distribution._validate_args
    with pytest.raises(ValueError, match="loc"):
        Normal(nan, torch.ones(1))


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("Pendulum-v1", {"n_steps": 64, "batch_size": 32, "n_epochs": 3, "use_sde": True, "sde_sample_freq": 4}),
        ("CartPole-v1", {"n_steps": 64, "batch_size": 24, "n_epochs": 4, "target_kl": 1e-4, "clip_range_vf": 0.2}),
    ],
)
def test_lean_ppo_gives_sb3_ppo_parameters_and_logs(env_id, kwargs):
    results = []
    for cls in (PPO, LeanPPO):
        model = cls("MlpPolicy", make_vec_env(env_id, n_envs=2, seed=0), seed=0, **kwargs).learn(256)
        results.append((model, dict(model.logger.name_to_value)))
    (sb3, sb3_log), (lean, lean_log) = results
    for (name, a), b in zip(sb3.policy.state_dict().items(), lean.policy.state_dict().values(), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)
    assert lean._n_updates == sb3._n_updates
    if "target_kl" in kwargs:  # early stopping happened: fewer updates than epochs x iterations
        assert sb3._n_updates < kwargs["n_epochs"] * 256 // (2 * kwargs["n_steps"])
    for key, value in sb3_log.items():
        assert lean_log[key] == pytest.approx(float(value), rel=1e-6), key
