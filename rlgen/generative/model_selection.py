"""Keep the weights with the best score seen at the evaluations: the validation bits/dim of a likelihood
model (``data.validation`` > 0), or a label-free score a kind reports itself (InfoGAN's code information,
``train.keep: most_informative``).

Small image sets (1,500 digits) let flows and PixelCNNs memorise: their test bits/dim bottoms out and then
climbs while the train bits/dim keeps falling. Choosing the epoch on the test set would flatter every model,
so the run holds out part of the training set and keeps the weights that do best there (model selection on
a validation split, as the Glow and PixelCNN++ code bases select on theirs).

The weights go to the run's ``best`` checkpoint (``checkpoints/best_<epoch>/``, the same pointer the RL
trainer uses for its best evaluation), with ``validation.json`` (the epoch and the score) beside them.
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
    """The best score seen so far (lowest, or highest with ``higher_is_better``); the weights that reached it
    are the ``best`` checkpoint."""

    def __init__(self, run: RunDir, metric: str = "val_bits_per_dim", higher_is_better: bool = False) -> None:
        self.run, self.metric, self.sign = run, metric, -1.0 if higher_is_better else 1.0
        self.epoch, self.score = 0, self.sign * math.inf
        self.offered_here = False
        """Whether the best weights were scored by this process (not kept from before a resume)."""
        best = run.checkpoints.get("best")
        if best is not None:
            try:
                saved = json.loads((best.path / SCORE_FILE).read_text())
                self.epoch, self.score = int(saved["epoch"]), float(saved[metric])
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise RlgenError(f"cannot read {best.path / SCORE_FILE}: {err}; delete {best.path} to start "
                                 "model selection afresh") from None  # fmt: skip

    def resumed_at(self, epoch: int) -> str | None:
        """On resume from a checkpoint older than the best epoch, the best weights came from training that is
        now redone. They are still weights this run trained and scored, so they stay the best until beaten
        (forgetting them would let the first later evaluation overwrite the only best checkpoint); a note
        saying so, or None."""
        if self.epoch <= epoch:
            return None
        return (
            f"the best weights so far (epoch {self.epoch}, {self.metric} {self.score:.4f}) are from training "
            f"after epoch {epoch} that is now redone; they stay the best until a later evaluation beats them"
        )

    def offer(self, epoch: int, score: float, model: nn.Module) -> bool:
        """Keep ``model``'s weights if ``score`` is the best so far (NaN never is); whether it was."""
        if not self.sign * score < self.sign * self.score:
            return False

        def write(directory: Path) -> None:
            torch.save(model.state_dict(), directory / MODEL_FILE)
            (directory / SCORE_FILE).write_text(json.dumps({"epoch": epoch, self.metric: score}))

        self.run.checkpoints.save(epoch, write, tag="best")
        self.epoch, self.score, self.offered_here = epoch, score, True
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
