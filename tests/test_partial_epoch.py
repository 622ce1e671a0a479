"""The epoch in progress survives a Ctrl-C checkpoint: running sums, images and seconds carry over; a changed
batch size or seed restarts the epoch instead of skipping the wrong images."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rlgen.generative.partial_epoch import PartialEpoch


def test_a_resumed_epoch_averages_over_all_its_batches_and_counts_all_its_seconds():
    train = SimpleNamespace(batch_size=20, seed=3)
    before = PartialEpoch().start()
    before.add({"loss": 1.0}, 20)
    before.add({"loss": 3.0}, 20)
    state = json.loads(json.dumps({"epoch": 4, "step": 2, **before.state(train)}))
    after, note = PartialEpoch.resumed(state, train, epoch=4)
    assert note is None and after.batches_done == 2
    after.start().add({"loss": 5.0}, 10)
    assert after.means() == pytest.approx({"loss": (20 + 60 + 50) / 50})
    assert after.seconds() >= state["epoch_seconds"]


@pytest.mark.parametrize("changed", [{"batch_size": 40}, {"seed": 4}])
def test_a_changed_batch_order_restarts_the_interrupted_epoch(changed):
    saved = PartialEpoch().start()
    saved.add({"loss": 1.0}, 20)
    state = saved.state(SimpleNamespace(batch_size=20, seed=3))
    after, note = PartialEpoch.resumed(state, SimpleNamespace(**{"batch_size": 20, "seed": 3, **changed}), epoch=4)
    assert after.batches_done == 0 and after.count == 0 and "in epoch 5: that epoch restarts" in note


def test_between_epochs_and_old_checkpoints_nothing_is_in_progress():
    assert PartialEpoch().state(SimpleNamespace(batch_size=20, seed=0)) == {"batches_done": 0}
    old_state = {"epoch": 2, "step": 9, "batches_done": 3}
    after, note = PartialEpoch.resumed(old_state, SimpleNamespace(batch_size=8, seed=0), 2)
    assert after.batches_done == 3 and after.count == 0 and note is None  # written before the sums were kept
