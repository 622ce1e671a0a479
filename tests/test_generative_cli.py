"""Generative kinds through the CLI: resume continues where it stopped, bad input exits 2 with one line."""

from __future__ import annotations

import csv
import json

from conftest import CONFIGS, assert_user_error, run_cli, write_fake_mnist


def test_train_resume_evaluate_sample(tmp_path):
    run = tmp_path / "run"
    config = str(CONFIGS / "pixelcnn_digits.yaml")
    result = run_cli("train", config, "--debug", "--set", "train.epochs=1", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    result = run_cli("train", "--resume", str(run), "--set", "train.epochs=3")
    assert result.returncode == 0, result.stderr
    assert "resuming at epoch 1" in result.stdout
    with open(run / "progress.csv") as fh:
        assert [int(row["epoch"]) for row in csv.DictReader(fh)] == [1, 2, 3]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and 0 < metrics["test_bits_per_dim"] < 5
    out = tmp_path / "grid.png"
    assert run_cli("sample", str(run), "--n", "3", "--out", str(out)).returncode == 0 and out.stat().st_size > 0
    assert_user_error(run_cli("sample", str(run), "--n", "3", "--out", str(out)), "already exists")
    assert (run / "plots" / "bits_per_dim.png").is_file()


def test_generative_user_errors(tmp_path):
    config = str(CONFIGS / "vae_digits.yaml")
    assert_user_error(
        run_cli("train", config, "--set", "data.dataset=mnist", cwd=tmp_path), "data.path is required for mnist"
    )
    assert_user_error(run_cli("train", config, "--set", "model.posterior=iaff", cwd=tmp_path), "model.posterior")
    assert_user_error(
        run_cli("train", config, "--set", "model.latent_dim=10", "--set", "model.kl_groups=4", cwd=tmp_path), "divide"
    )
    assert_user_error(
        run_cli("train", str(CONFIGS / "glow_digits.yaml"), "--set", "model.n_levels=4", cwd=tmp_path), "divisible"
    )
    assert_user_error(run_cli("train", config, "--set", "modle.latent_dim=8", cwd=tmp_path), "modle")
    assert not (tmp_path / "runs").exists()


def test_missing_or_corrupt_dataset_files_leave_no_run_directory(tmp_path):
    """The files are checked before the run directory is made, so the corrected retry is not blocked."""
    config = str(CONFIGS / "vae_digits.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    for dataset, needle in (("mnist", "train-images-idx3-ubyte[.gz] not found"), ("cifar10", "data_batch_1 not found")):
        args = ("train", config, "--debug", "--set", f"data.dataset={dataset}", "--set", f"data.path={empty}")
        assert_user_error(run_cli(*args, cwd=tmp_path), needle)
    mnist = write_fake_mnist(tmp_path / "mnist")
    labels = mnist / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-5])
    args = ("train", config, "--debug", "--set", "data.dataset=mnist", "--set", f"data.path={mnist}")
    assert_user_error(run_cli(*args, cwd=tmp_path), "t10k-labels-idx1-ubyte is truncated")
    assert not (tmp_path / "runs").exists()


def test_long_epochs_report_progress_between_rows(tmp_path, monkeypatch, capsys):
    """Without a terminal, an epoch longer than the heartbeat prints its progress so far (here: every step)."""
    from rlgen.generative import trainer
    from rlgen.kinds import kind_module, load_run_config
    from rlgen.progress import Heartbeat
    from rlgen.runs import RunDir

    monkeypatch.setattr(trainer, "Heartbeat", lambda: Heartbeat(interval=0.0))
    overrides = ["train.epochs=1", "data.limit=120", "train.batch_size=50"]
    config = load_run_config(CONFIGS / "vae_digits.yaml", overrides=overrides, debug=True)
    kind_module("vae").train(config, RunDir.create(output_dir=tmp_path, name="v", seed=0, run_dir=tmp_path / "v"))
    lines = [line for line in capsys.readouterr().out.splitlines() if "images/s" in line]
    assert [line.split(",")[0] for line in lines] == [f"epoch 1: {n}/120 images" for n in (50, 100, 120)]


def test_ctrl_c_mid_epoch_resumes_with_the_next_batch(tmp_path, monkeypatch):
    """A checkpoint saved on Ctrl-C records how far into the epoch it was; resume trains on the rest of that
    epoch's batches (each image once per epoch, as the uninterrupted run), not the whole epoch again."""
    import os
    import signal

    import pytest

    from rlgen.errors import TrainingInterrupted
    from rlgen.generative import kind_vae, trainer
    from rlgen.kinds import load_run_config
    from rlgen.runs import RunDir

    seen: list[list[float]] = []
    interrupt_at = {"step": 4}
    original_step = trainer.GenerativeTrainer._train_step

    def recording_step(self, x, y):
        seen[-1].append(float(x.float().sum()))
        metrics = original_step(self, x, y)
        if self.step == interrupt_at["step"]:
            os.kill(os.getpid(), signal.SIGINT)  # the StopRequest handler turns it into a flag
        return metrics

    monkeypatch.setattr(trainer.GenerativeTrainer, "_train_step", recording_step)
    overrides = ["train.epochs=2", "data.limit=120", "train.batch_size=20", "train.samples=0"]
    config = load_run_config(CONFIGS / "vae_digits.yaml", overrides=overrides, debug=True)

    def run_in(name: str) -> list[float]:
        seen.append([])
        directory = tmp_path / name
        trainer.GenerativeTrainer(config, RunDir.create(output_dir=tmp_path, name=name, seed=0, run_dir=directory),
                                  kind_vae).train()  # fmt: skip
        return seen[-1]

    seen.append([])
    interrupted = RunDir.create(output_dir=tmp_path, name="i", seed=0, run_dir=tmp_path / "i")
    with pytest.raises(TrainingInterrupted, match="epoch 1 after 4 batches"):
        trainer.GenerativeTrainer(config, interrupted, kind_vae).train()
    state = json.loads((interrupted.checkpoints.get().path / "state.json").read_text())
    assert {key: state[key] for key in ("epoch", "step", "batches_done", "batch_size")} == {
        "epoch": 0, "step": 4, "batches_done": 4, "batch_size": 20}  # fmt: skip
    assert state["epoch_images"] == 80 and set(state["epoch_totals"]) == {"train_bits_per_dim"}
    before = seen[-1]
    interrupt_at["step"] = -1
    seen.append([])
    trainer.GenerativeTrainer(config, RunDir(tmp_path / "i"), kind_vae).train()
    resumed = before + seen[-1]
    uninterrupted = run_in("u")
    assert len(uninterrupted) == 12 and resumed == uninterrupted  # 6 batches an epoch, none repeated or skipped
    with open(tmp_path / "i" / "progress.csv") as fh:
        assert [row["epoch"] for row in csv.DictReader(fh)] == ["1", "2"]
