"""SB3 algorithm lookup and checking/conversion of the ``algo.kwargs`` a config gives."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch.nn as nn
from sb3_contrib import TQC, TRPO
from stable_baselines3 import A2C, DDPG, DQN, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import LinearSchedule

from rlgen.config import suggest
from rlgen.errors import ConfigError
from rlgen.sb3.config import AlgoConfig
from rlgen.sb3.lean_ppo import LeanPPO

ALGOS: dict[str, type[BaseAlgorithm]] = {
    "ppo": LeanPPO,  # SB3's PPO update with less per-minibatch overhead
    "a2c": A2C,
    "trpo": TRPO,
    "sac": SAC,
    "td3": TD3,
    "ddpg": DDPG,
    "dqn": DQN,
    "tqc": TQC,
}

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

# Arguments rlgen sets itself; a config must not give them in algo.kwargs.
_MANAGED = {"policy", "env", "seed", "device", "tensorboard_log", "verbose", "_init_setup_model"}
_SCHEDULED = ("learning_rate", "clip_range", "clip_range_vf")


def algo_class(name: str) -> type[BaseAlgorithm]:
    if name not in ALGOS:
        raise ConfigError(f"unknown algorithm {name!r}{suggest(name, ALGOS)}")
    return ALGOS[name]


def is_on_policy(name: str) -> bool:
    return issubclass(algo_class(name), OnPolicyAlgorithm)


def build_algo_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Check ``kwargs`` against the algorithm's signature and turn config strings into objects.

    ``lin_<x>`` for learning_rate/clip_range becomes a linear decay from x to 0 (rl-baselines3-zoo
    convention); ``policy_kwargs.activation_fn`` names an activation (relu, tanh, ...).
    """
    cls = algo_class(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"} - _MANAGED
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in accepted:
            raise ConfigError(f"unknown key 'algo.kwargs.{key}' for {name}{suggest(key, sorted(accepted))}")
        out[key] = _schedule(key, value) if key in _SCHEDULED else value
    if "policy_kwargs" in out:
        out["policy_kwargs"] = _policy_kwargs(out["policy_kwargs"])
    if "train_freq" in out and isinstance(out["train_freq"], list):
        out["train_freq"] = tuple(out["train_freq"])
    return out


def _schedule(key: str, value: Any) -> float | Callable[[float], float]:
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[4:])
        except ValueError:
            raise ConfigError(f"'algo.kwargs.{key}': bad linear schedule {value!r}, e.g. lin_3e-4") from None
        return LinearSchedule(start, 0.0, 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"'algo.kwargs.{key}' must be a number or lin_<number>, got {value!r}")
    return float(value)


def _policy_kwargs(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"'algo.kwargs.policy_kwargs' must be a mapping, got {value!r}")
    out = dict(value)
    act = out.get("activation_fn")
    if isinstance(act, str):
        if act.lower() not in ACTIVATIONS:
            raise ConfigError(
                f"'algo.kwargs.policy_kwargs.activation_fn': unknown activation {act!r}"
                f"{suggest(act.lower(), ACTIVATIONS)}"
            )
        out["activation_fn"] = ACTIVATIONS[act.lower()]
    return out


def check_algo(algo: AlgoConfig) -> dict[str, Any]:
    """Check the policy alias and kwargs of the ``algo`` section; return the constructor kwargs."""
    cls = algo_class(algo.name)
    if algo.policy not in cls.policy_aliases:
        hint = suggest(algo.policy, cls.policy_aliases)
        raise ConfigError(f"'algo.policy' {algo.policy!r} is not a {algo.name} policy{hint}")
    return build_algo_kwargs(algo.name, algo.kwargs)
