"""Validation split and best-validation weights for the likelihood models (``data.validation``), and
InfoGAN's most informative weights (``train.keep``)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from conftest import CONFIGS, assert_user_error, run_cli

from rlgen.generative.config import DataConfig
from rlgen.generative.data_source import held_out, load_data_source
from rlgen.generative.model_selection import BestWeights
from rlgen.runs import RunDir


def test_split_is_fixed_disjoint_and_independent_of_the_run():
    kept, held = held_out(1500, 0.1, "images")
    assert len(held) == 150 and len(kept) == 1350
    assert not set(kept) & set(held) and set(kept) | set(held) == set(range(1500))
    again_kept, again_held = held_out(1500, 0.1, "images")
    assert np.array_equal(held, again_held) and np.array_equal(kept, again_kept)

    plain = load_data_source(DataConfig())
    split = load_data_source(DataConfig(validation=0.1))
    assert plain.validation_batches(64) is None
    assert len(split.train) == 1350 and len(split.validation) == 150
    assert np.array_equal(split.test.images, plain.test.images)  # the test set is untouched
    together = np.concatenate([split.train.images, split.validation.images])
    assert sorted(map(bytes, together)) == sorted(map(bytes, plain.train.images))
    limited = load_data_source(DataConfig(validation=0.1, limit=100))
    assert len(limited.train) == 100 and len(limited.validation) == 150  # the limit never eats the validation


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match="validation"):
        DataConfig(validation=0.9)
    with pytest.raises(Exception, match="no training images"):
        held_out(1, 0.5, "training images")


def test_best_weights_keep_only_improvements_and_survive_a_resume_from_before_them(tmp_path):
    run = RunDir(tmp_path / "run")
    model = torch.nn.Linear(2, 1)
    best = BestWeights(run)
    assert best.offer(1, 2.0, model)
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not best.offer(2, 2.5, model)  # worse: the epoch-1 weights stay
    assert not best.offer(3, math.nan, model)
    reloaded = BestWeights(run)
    assert (reloaded.epoch, reloaded.score) == (1, 2.0)
    reloaded.load_into(model)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in kept.items())
    assert reloaded.resumed_at(1) is None
    assert "epoch 1" in reloaded.resumed_at(0)  # resumed from before epoch 1: the redone epochs must beat it
    assert not reloaded.offer(1, 2.5, model)
    assert reloaded.offer(1, 1.5, model) and BestWeights(run).score == 1.5


def test_flow_run_keeps_its_best_validation_weights(tmp_path):
    run = tmp_path / "run"
    overrides = ["--set", "data.validation=0.2", "--set", "train.epochs=3", "--set", "train.learning_rate=0.03"]
    result = run_cli("train", str(CONFIGS / "realnvp_digits.yaml"), "--debug", "--run-dir", str(run), *overrides)
    assert result.returncode == 0, result.stderr
    with open(run / "progress.csv") as fh:
        rows = list(csv.DictReader(fh))
    scores = [float(row["val_bits_per_dim"]) for row in rows]
    assert len(scores) == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["best_epoch"] == 1 + int(np.argmin(scores))
    assert metrics["val_bits_per_dim"] == pytest.approx(min(scores))
    best = RunDir(run).checkpoints.get("best")
    final, chosen = (torch.load(p, weights_only=True) for p in (run / "model.pt", best.path / "model.pt"))
    assert all(torch.equal(final[k], chosen[k]) for k in final)
    assert run_cli("evaluate", str(run), "--checkpoint", "last").returncode == 0


def test_gans_refuse_a_validation_split(tmp_path):
    result = run_cli("train", str(CONFIGS / "gan_dcgan_digits.yaml"), "--debug", "--set", "data.validation=0.1",
                     cwd=tmp_path)  # fmt: skip
    assert_user_error(result, "data.validation")
    assert not (tmp_path / "runs").exists()


def script_validation(monkeypatch, scores: list[float]) -> list[dict[str, torch.Tensor]]:
    """Validation bits/dim read from ``scores`` in turn; the list it returns gets the weights each was given
    for (the test set's bits/dim stay real)."""
    from rlgen.generative import trainer
    from rlgen.generative.data_source import InMemoryImages

    class ValidationBatches(list):
        pass

    real_bits, real_batches, snapshots = trainer.test_bits_per_dim, InMemoryImages.validation_batches, []

    def bits_scripted(model, batches):
        if not isinstance(batches, ValidationBatches):
            return real_bits(model, batches)
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return scores[len(snapshots) - 1]

    def tagged(self, batch_size):
        batches = real_batches(self, batch_size)
        return None if batches is None else ValidationBatches(batches)

    monkeypatch.setattr(trainer, "test_bits_per_dim", bits_scripted)
    monkeypatch.setattr(InMemoryImages, "validation_batches", tagged)
    return snapshots


def test_final_weights_are_the_best_epoch_not_the_last(tmp_path, monkeypatch):
    """Validation bits/dim scripted to be best at epoch 2 of 4: model.pt must hold epoch 2's weights."""
    from rlgen import cli

    snapshots = script_validation(monkeypatch, [3.0, 1.0, 2.0, 2.5])
    run = tmp_path / "run"
    code = cli.main(["train", str(CONFIGS / "realnvp_digits.yaml"), "--debug", "--run-dir", str(run),
                     "--set", "data.validation=0.2", "--set", "train.epochs=4"])  # fmt: skip
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["best_epoch"], metrics["val_bits_per_dim"]) == (2, 1.0)
    final = torch.load(run / "model.pt", weights_only=True)
    assert all(torch.equal(final[k], snapshots[1][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[3][k]) for k in final)


def test_best_weights_beat_a_redone_last_epoch_after_a_resume_from_before_them(tmp_path, monkeypatch, capsys):
    """Killed after epoch 2 was scored best but before its checkpoint: the resumed run redoes epoch 2, scores it
    worse, and model.pt must still hold the first epoch 2's weights, which metrics.json names."""
    from rlgen import cli

    snapshots = script_validation(monkeypatch, [3.0, 1.0, 2.0])
    run = tmp_path / "run"
    args = ["--set", "data.validation=0.2", "--set", "train.epochs=2", "--set", "train.checkpoint_every=1"]
    assert cli.main(["train", str(CONFIGS / "realnvp_digits.yaml"), "--debug", "--run-dir", str(run), *args]) == 0
    checkpoints = RunDir(run).checkpoints
    epoch_1 = run / "checkpoints" / "step_000000000001"
    pointer = json.loads((run / "checkpoints" / "latest.json").read_text())
    (run / "checkpoints" / "latest.json").write_text(json.dumps({**pointer, "dir": epoch_1.name, "step": 1}))
    assert checkpoints.get().step == 1 and checkpoints.get("best").step == 2
    assert cli.main(["train", "--resume", str(run)]) == 0
    assert "keeping the weights of epoch 2" in capsys.readouterr().out
    assert len(snapshots) == 3  # epoch 2 was redone and scored 2.0
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["best_epoch"], metrics["val_bits_per_dim"]) == (2, 1.0)
    final = torch.load(run / "model.pt", weights_only=True)
    assert all(torch.equal(final[k], snapshots[1][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[2][k]) for k in final)


def test_infogan_keeps_its_most_informative_weights(tmp_path, monkeypatch):
    """train.keep: most_informative: model.pt holds the weights of the evaluation with the highest code
    information (scripted best at epoch 2 of 3), without looking at labels."""
    from rlgen import cli
    from rlgen.models.infogan import InfoGAN

    scripted, snapshots = iter([0.5, 2.0, 1.0, 1.0]), {}

    def information(self, images, code=0):  # noqa: ANN001, ANN202
        snapshots.setdefault(len(snapshots) + 1, {k: v.clone() for k, v in self.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(InfoGAN, "code_information", information)
    run = tmp_path / "run"
    code = cli.main(["train", str(CONFIGS / "infogan_digits.yaml"), "--debug", "--run-dir", str(run),
                     "--set", "train.epochs=3", "--set", "train.keep=most_informative"])  # fmt: skip
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["best_epoch"] == 2
    final = torch.load(run / "model.pt", weights_only=True)
    assert all(torch.equal(final[k], snapshots[2][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[3][k]) for k in final)
    no_code = ("--debug", "--set", "model.categorical=[]", "--set", "model.continuous=2")
    bad = run_cli("train", str(CONFIGS / "infogan_digits.yaml"), *no_code, "--set", "train.keep=most_informative",
                  cwd=tmp_path)  # fmt: skip
    assert_user_error(bad, "train.keep")
    plain = tmp_path / "plain"
    assert run_cli("train", str(CONFIGS / "infogan_digits.yaml"), *no_code, "--run-dir", str(plain)).returncode == 0
    resumed = run_cli("train", "--resume", str(plain), "--set", "train.epochs=2",
                      "--set", "train.keep=most_informative")  # fmt: skip
    assert_user_error(resumed, "train.keep")  # a value changed on resume is checked as a new run's would be
