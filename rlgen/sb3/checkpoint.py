"""What a resumable SB3 checkpoint holds, and how it is written and read back without pickle."""

from __future__ import annotations

from pathlib import Path

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from rlgen.errors import RlgenError
from rlgen.sb3.normalization import STATS_FILE, find_vecnormalize, load_vecnormalize, save_vecnormalize
from rlgen.sb3.replay_buffer import BUFFER_FILE, load_replay_buffer, save_replay_buffer
from rlgen.sb3.safe_zip import read_sb3_zip

MODEL_FILE = "model.zip"
POLICY_FILE = "policy.zip"  # the final policy in the run directory


def write_training_state(model: BaseAlgorithm, directory: Path) -> None:
    """Write the model (weights, optimiser state, counters), normaliser statistics and replay buffer."""
    model.save(directory / MODEL_FILE)
    norm = find_vecnormalize(model.get_env())
    if norm is not None:
        save_vecnormalize(norm, directory / STATS_FILE)
    if isinstance(model, OffPolicyAlgorithm) and model.replay_buffer is not None:
        save_replay_buffer(model.replay_buffer, directory / BUFFER_FILE)


def restore_training_state(model: BaseAlgorithm, directory: Path) -> int:
    """Load a checkpoint written by :func:`write_training_state` into a freshly built model.

    Returns:
        The number of environment steps the checkpoint was taken at.
    """
    saved = read_sb3_zip(directory / MODEL_FILE, device=str(model.device))
    try:
        model.set_parameters(saved.params, exact_match=True, device=model.device)
    except (RuntimeError, ValueError, KeyError) as err:
        raise RlgenError(f"checkpoint {directory} does not fit this config's model: {err}") from None
    for name, value in saved.torch_variables.items():
        _recursive_get(model, name).data.copy_(value.data)
    model.num_timesteps = saved.num_timesteps
    model._n_updates = int(saved.data.get("_n_updates", 0))
    model._episode_num = int(saved.data.get("_episode_num", 0))
    norm = find_vecnormalize(model.get_env())
    if norm is not None and (directory / STATS_FILE).is_file():
        load_vecnormalize(norm, directory / STATS_FILE)
    if isinstance(model, OffPolicyAlgorithm) and (directory / BUFFER_FILE).is_file():
        load_replay_buffer(model.replay_buffer, directory / BUFFER_FILE)
    return saved.num_timesteps


def _recursive_get(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj
