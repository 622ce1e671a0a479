"""Read SB3 ``.zip`` models without unpickling anything.

SB3's own ``Algorithm.load`` runs ``cloudpickle.loads`` on the spaces, schedules and policy class
stored in the zip's ``data`` JSON, which executes code from the file. rlgen never unpickles what a
user did not create, so it reads the zip's plain JSON, takes the spaces from the environment,
rebuilds the policy class and its keyword arguments from the readable fields that SB3 writes next to
each pickled blob (only SB3/sb3-contrib/torch classes are accepted), and loads the weights with
``torch.load(weights_only=True)``. This evaluates any policy saved by plain SB3 code.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecTransposeImage

from rlgen.errors import RlgenError
from rlgen.sb3.algos import algo_class

_CLASS_REPR = re.compile(r"^<class '([\w.]+)'>$")
_INIT_REPR = re.compile(r"^<function (\w+)\.__init__ at")
_TRUSTED_MODULES = ("stable_baselines3.", "sb3_contrib.", "torch.nn.", "torch.optim.")

# Policy module of the saved policy class -> the algorithm whose policy construction it follows.
_FAMILY_BY_MODULE = {
    "stable_baselines3.common.policies": "ppo",  # PPO, A2C and TRPO share these policies
    "stable_baselines3.sac.policies": "sac",
    "stable_baselines3.td3.policies": "td3",  # TD3 and DDPG
    "stable_baselines3.dqn.policies": "dqn",
    "sb3_contrib.tqc.policies": "tqc",
}


@dataclass(frozen=True)
class SB3Zip:
    """The readable contents of an SB3 model zip: the ``data`` JSON and the tensors."""

    path: Path
    data: dict[str, Any]
    params: dict[str, dict[str, Any]]
    torch_variables: dict[str, torch.Tensor]

    @property
    def num_timesteps(self) -> int:
        return int(self.data.get("num_timesteps", 0))


def read_sb3_zip(path: str | Path, device: str = "cpu") -> SB3Zip:
    """Read an SB3 zip (JSON + ``weights_only`` tensors); a bad file gives a one-line RlgenError."""
    path = Path(path)
    if not path.is_file():
        raise RlgenError(f"policy file not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "data" not in names or "policy.pth" not in names:
                raise RlgenError(
                    f"corrupt or truncated policy file {path}: no 'data' or 'policy.pth' inside "
                    "(not a complete SB3 model zip)"
                )
            data = json.loads(archive.read("data").decode("utf-8"))
            params, variables = {}, {}
            for name in names:
                if not name.endswith(".pth"):
                    continue
                tensor_obj = torch.load(io.BytesIO(archive.read(name)), map_location=device, weights_only=True)
                if name == "pytorch_variables.pth":
                    variables = tensor_obj
                else:
                    params[name[: -len(".pth")]] = tensor_obj
    except RlgenError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError) as err:
        raise RlgenError(f"corrupt or truncated policy file {path}: {type(err).__name__}: {err}") from None
    except Exception as err:  # torch.load raises assorted errors on damaged archives
        raise RlgenError(f"cannot read policy file {path}: {type(err).__name__}: {err}") from None
    return SB3Zip(path=path, data=data, params=params, torch_variables=variables)


def infer_algo(saved: SB3Zip) -> str | None:
    """Which algorithm family saved this zip, read from the policy class's module (no unpickling)."""
    entry = saved.data.get("policy_class")
    module = entry.get("__module__") if isinstance(entry, dict) else None
    return _FAMILY_BY_MODULE.get(module) if isinstance(module, str) else None


def load_policy(
    saved: SB3Zip,
    observation_space: gym.Space,
    action_space: gym.Space,
    *,
    algo: str | None = None,
    device: str = "cpu",
) -> BasePolicy:
    """Rebuild the saved policy for the given env spaces and load its weights.

    Args:
        saved: the zip as read by :func:`read_sb3_zip`.
        observation_space, action_space: the evaluation env's spaces (checked against the zip's).
        algo: the algorithm name when it cannot be read from the zip.
        device: torch device for the policy.
    """
    algo = algo or infer_algo(saved)
    if algo is None:
        raise RlgenError(f"cannot tell which algorithm saved {saved.path}; pass --algo (e.g. --algo ppo)")
    observation_space = _matching_space(saved, "observation_space", observation_space)
    _matching_space(saved, "action_space", action_space)
    policy_cls = _policy_class(saved, algo, observation_space)
    kwargs = _policy_kwargs(saved)
    if algo in ("ppo", "a2c", "trpo"):
        kwargs.setdefault("use_sde", bool(saved.data.get("use_sde", False)))
    try:
        policy = policy_cls(observation_space, action_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(saved.params["policy"])
    except (TypeError, RuntimeError, KeyError) as err:
        raise RlgenError(
            f"{saved.path} does not match a {algo} {policy_cls.__name__} for this env "
            f"(wrong --algo or --env?): {str(err).splitlines()[0]}"
        ) from None
    return policy.to(device).eval()


def _matching_space(saved: SB3Zip, key: str, env_space: gym.Space) -> gym.Space:
    """Check the stored space's shape against the env's; return the space the policy expects."""
    stored = saved.data.get(key)
    shape = stored.get("_shape") if isinstance(stored, dict) else None
    if shape is None or env_space.shape is None:
        return env_space
    shape = tuple(shape)
    if shape == tuple(env_space.shape):
        return env_space
    if key == "observation_space" and is_image_space(env_space, check_channels=False):
        transposed = VecTransposeImage.transpose_space(env_space)  # SB3 trains CNNs channel-first
        if shape == tuple(transposed.shape):
            return transposed
    kind = "observations" if key == "observation_space" else "actions"
    raise RlgenError(
        f"{saved.path} was trained on {kind} of shape {shape} but the env has {tuple(env_space.shape)}: "
        "wrong --env for this policy?"
    )


def _policy_class(saved: SB3Zip, algo: str, observation_space: gym.Space) -> type[BasePolicy]:
    entry = saved.data.get("policy_class")
    if isinstance(entry, dict):
        module, init = entry.get("__module__"), entry.get("__init__")
        match = _INIT_REPR.match(init) if isinstance(init, str) else None
        if isinstance(module, str) and match:
            cls = _trusted_attr(module, match.group(1))
            if isinstance(cls, type) and issubclass(cls, BasePolicy):
                return cls
    aliases = algo_class(algo).policy_aliases
    if isinstance(observation_space, gym.spaces.Dict):
        return aliases["MultiInputPolicy"]
    if is_image_space(observation_space) and "CnnPolicy" in aliases:
        return aliases["CnnPolicy"]
    return aliases["MlpPolicy"]


def _policy_kwargs(saved: SB3Zip) -> dict[str, Any]:
    stored = saved.data.get("policy_kwargs") or {}
    out = {}
    for key, value in stored.items():
        if key.startswith(":") or key == "device":
            continue
        out[key] = _decode(saved, key, value)
    return out


def _decode(saved: SB3Zip, key: str, value: Any) -> Any:
    """Turn the string SB3 writes for a class (``<class 'torch.nn...ReLU'>``) back into the class."""
    if not isinstance(value, str):
        return value
    match = _CLASS_REPR.match(value)
    if not match:
        return value
    module, _, name = match.group(1).rpartition(".")
    cls = _trusted_attr(module, name)
    if cls is None:
        raise RlgenError(
            f"{saved.path}: policy_kwargs.{key} is {match.group(1)}, which is not an SB3 or torch class; "
            "rlgen will not unpickle it"
        )
    return cls


def _trusted_attr(module: str, name: str) -> Any:
    if not module.startswith(_TRUSTED_MODULES):
        return None
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
