"""Save and restore a model's state (state dicts and tensors only) as one ``torch.save`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch

from rlgen.errors import RlgenError


class HasStateDict(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


def save_state(path: Path, parts: dict[str, HasStateDict], **tensors: torch.Tensor) -> None:
    """Write the state dicts of ``parts`` (modules, optimisers) and extra tensors to ``path``."""
    torch.save({**{name: part.state_dict() for name, part in parts.items()}, **tensors}, path)


def restore_state(path: Path, what: str, parts: dict[str, HasStateDict]) -> dict[str, Any]:
    """Load ``path`` with ``weights_only=True`` into ``parts``; return the whole state (for extra tensors).

    A missing, damaged or mismatched file is a one-line RlgenError naming ``what`` it should hold.
    """
    if not path.is_file():
        raise RlgenError(f"{path.parent} has no {path.name}: not a checkpoint with a {what}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for name, part in parts.items():
            part.load_state_dict(state[name])
    except Exception as err:  # noqa: BLE001 - torch raises many types on damaged or mismatched files
        raise RlgenError(f"corrupt {what} file {path}: {type(err).__name__}: {err}") from None
    return state
