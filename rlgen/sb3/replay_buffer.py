"""Save and restore an off-policy replay buffer as ``.npz`` (SB3's ``save_replay_buffer`` pickles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from stable_baselines3.common.buffers import ReplayBuffer

from rlgen.errors import RlgenError

BUFFER_FILE = "replay_buffer.npz"
_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def save_replay_buffer(buffer: ReplayBuffer, path: Path) -> None:
    """Write the filled part of the buffer's arrays and its write position."""
    filled = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {name: getattr(buffer, name)[:filled] for name in _ARRAYS if getattr(buffer, name, None) is not None}
    with open(path, "wb") as fh:
        np.savez(fh, pos=buffer.pos, full=buffer.full, **arrays)


def load_replay_buffer(buffer: ReplayBuffer, path: Path) -> None:
    """Fill a freshly built buffer of the same size from :func:`save_replay_buffer`'s file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in _ARRAYS:
                target = getattr(buffer, name, None)
                if target is None or name not in data:
                    continue
                saved = data[name]
                if saved.shape[1:] != target.shape[1:] or len(saved) > len(target):
                    raise RlgenError(
                        f"{path}: replay buffer array {name} has shape {saved.shape}, expected "
                        f"at most {target.shape}; was buffer_size or n_envs changed?"
                    )
                target[: len(saved)] = saved
            buffer.pos, buffer.full = int(data["pos"]), bool(data["full"])
    except (OSError, ValueError, KeyError) as err:
        raise RlgenError(f"corrupt replay buffer {path}: {err}") from None
