"""The epoch a generative run is in: batches trained, running sums of the learner's metrics, images and
seconds so far. A checkpoint written on Ctrl-C stores it, so a resumed run goes on with the next batch of the
same epoch (the batch order is fixed by the seed and the epoch) and the epoch's ``progress.csv`` row still
averages over all its batches and counts all its seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PartialEpoch:
    batches_done: int = 0
    totals: dict[str, float] = field(default_factory=dict)
    count: int = 0
    seconds_before: float = 0.0
    """Seconds spent on this epoch before the run was resumed."""
    started: float = field(default=0.0, repr=False)

    def start(self) -> PartialEpoch:
        """Start (or go on with) the epoch's clock; returns self."""
        self.started = time.perf_counter()
        return self

    def add(self, metrics: dict[str, float], batch_size: int) -> None:
        """One trained batch: its metrics enter the running sums weighted by its size."""
        for key, value in metrics.items():
            self.totals[key] = self.totals.get(key, 0.0) + value * batch_size
        self.count += batch_size
        self.batches_done += 1

    def means(self) -> dict[str, float]:
        return {key: value / max(self.count, 1) for key, value in self.totals.items()}

    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self.started

    def state(self, train) -> dict[str, Any]:  # noqa: ANN001 - TrainSection
        """What state.json holds of it (nothing between epochs), with the batch size and seed that fix the
        epoch's batch order."""
        if not self.batches_done:
            return {"batches_done": 0}
        return {
            "batches_done": self.batches_done,
            "epoch_totals": self.totals,
            "epoch_images": self.count,
            "epoch_seconds": round(self.seconds(), 3),
            "batch_size": train.batch_size,
            "seed": train.seed,
        }

    @classmethod
    def resumed(cls, state: dict[str, Any], train, epoch: int) -> tuple[PartialEpoch, str | None]:  # noqa: ANN001
        """The epoch in progress from a checkpoint's state.json, and a note when it cannot go on: a changed
        ``train.batch_size`` or ``train.seed`` reorders the epoch's batches, so the epoch restarts from its first
        batch (on the weights the interrupted part trained)."""
        done = int(state.get("batches_done", 0))
        if not done:
            return cls(), None
        same_order = state.get("batch_size", train.batch_size) == train.batch_size and state.get(
            "seed", train.seed) == train.seed  # fmt: skip
        if not same_order:
            return cls(), (f"train.batch_size or train.seed changed since the interruption in epoch {epoch + 1}: "
                           "that epoch restarts from its first batch")  # fmt: skip
        totals = {key: float(value) for key, value in state.get("epoch_totals", {}).items()}
        return cls(done, totals, int(state.get("epoch_images", 0)), float(state.get("epoch_seconds", 0.0))), None
