"""Keep the weights with the best validation bits/dim (``data.validation`` > 0).

Small image sets (1,500 digits) let flows and PixelCNNs memorise: their test bits/dim bottoms out and then
climbs while the train bits/dim keeps falling. Choosing the epoch on the test set would flatter every model,
so the run holds out part of the training set and keeps the weights that do best there (model selection on
a validation split, as the Glow and PixelCNN++ code bases select on theirs).

The weights go to the run's ``best`` checkpoint (``checkpoints/best_<epoch>/``, the same pointer the RL
trainer uses for its best evaluation), with ``validation.json`` beside them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from rlgen.errors import RlgenError
from rlgen.runs import RunDir

MODEL_FILE = "model.pt"
SCORE_FILE = "validation.json"


class BestWeights:
    """The best validation bits/dim seen so far; the weights that reached it are the ``best`` checkpoint."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.epoch, self.bits_per_dim = 0, math.inf
        best = run.checkpoints.get("best")
        if best is not None:
            try:
                saved = json.loads((best.path / SCORE_FILE).read_text())
                self.epoch, self.bits_per_dim = int(saved["epoch"]), float(saved["val_bits_per_dim"])
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise RlgenError(f"cannot read {best.path / SCORE_FILE}: {err}; delete {best.path} to start "
                                 "model selection afresh") from None  # fmt: skip

    def forget_after(self, epoch: int) -> None:
        """On resume from an earlier checkpoint, a best epoch past it belongs to training that is being redone."""
        if self.epoch > epoch:
            self.epoch, self.bits_per_dim = 0, math.inf

    def offer(self, epoch: int, bits_per_dim: float, model: nn.Module) -> bool:
        """Keep ``model``'s weights if ``bits_per_dim`` is the best so far; whether it was."""
        if not bits_per_dim < self.bits_per_dim:
            return False

        def write(directory: Path) -> None:
            torch.save(model.state_dict(), directory / MODEL_FILE)
            score = {"epoch": epoch, "val_bits_per_dim": bits_per_dim}
            (directory / SCORE_FILE).write_text(json.dumps(score))

        self.run.checkpoints.save(epoch, write, tag="best")
        self.epoch, self.bits_per_dim = epoch, bits_per_dim
        return True

    def load_into(self, model: nn.Module) -> None:
        best = self.run.checkpoints.get("best")
        if best is None:
            raise RlgenError(f"{self.run.path} has no best checkpoint to load")
        load_weights(model, best.path / MODEL_FILE)


def load_weights(model: nn.Module, path: Path) -> None:
    """A saved state dict into ``model`` (weights only, never unpickled objects); a one-line error if not."""
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
    except (OSError, RuntimeError) as err:
        raise RlgenError(f"cannot load {path}: {str(err).splitlines()[0]}") from None
