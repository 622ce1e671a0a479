"""Run directories and the checkpoint store: atomicity, pruning, refusal to overwrite."""

from __future__ import annotations

import pytest

from rlgen.errors import RlgenError
from rlgen.runs import CheckpointStore, RunDir, atomic_write_text


def write_marker(text: str):
    def write(directory):
        (directory / "model.txt").write_text(text)

    return write


def test_interrupted_checkpoint_write_never_corrupts_latest(tmp_path):
    store = CheckpointStore(tmp_path / "checkpoints")
    store.save(100, write_marker("good"))

    def crash_halfway(directory):
        (directory / "model.txt").write_text("half-writ")
        raise KeyboardInterrupt  # the process is interrupted in the middle of writing

    with pytest.raises(KeyboardInterrupt):
        store.save(200, crash_halfway)
    latest = store.get("latest")
    assert latest.step == 100
    assert (latest.path / "model.txt").read_text() == "good"
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_leftover_temp_dirs_are_ignored_and_cleaned(tmp_path):
    store = CheckpointStore(tmp_path / "checkpoints")
    store.save(1, write_marker("a"))
    (tmp_path / "checkpoints" / ".tmp-killed").mkdir()  # a writer killed with SIGKILL
    assert store.get().step == 1
    store.save(2, write_marker("b"))
    assert not (tmp_path / "checkpoints" / ".tmp-killed").exists()


def test_pruning_keeps_recent_and_best(tmp_path):
    store = CheckpointStore(tmp_path, keep=2)
    store.save(1, write_marker("1"))
    store.save(1, write_marker("best"), tag="best")
    for step in (2, 3, 4):
        store.save(step, write_marker(str(step)))
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert names == ["best_000000000001", "step_000000000003", "step_000000000004"]
    assert (store.get("best").path / "model.txt").read_text() == "best"


def test_corrupt_pointer_is_a_clear_error(tmp_path):
    store = CheckpointStore(tmp_path)
    store.save(5, write_marker("x"))
    (tmp_path / "latest.json").write_text("{not json")
    with pytest.raises(RlgenError, match="corrupt checkpoint pointer"):
        store.get()


def test_run_dir_refuses_to_overwrite(tmp_path):
    run = RunDir.create(output_dir=tmp_path, name="x", seed=0, run_dir=tmp_path / "run")
    atomic_write_text(run / "policy.zip", "precious")
    with pytest.raises(RlgenError, match="already exists"):
        RunDir.create(output_dir=tmp_path, name="x", seed=0, run_dir=tmp_path / "run")
    assert (run / "policy.zip").read_text() == "precious"
    auto = RunDir.create(output_dir=tmp_path, name="x", seed=3)
    assert auto.path.name.startswith("x__3__")


def test_open_missing_or_foreign_dir(tmp_path):
    with pytest.raises(RlgenError, match="not found"):
        RunDir.open(tmp_path / "missing")
    with pytest.raises(RlgenError, match="not an rlgen run directory"):
        RunDir.open(tmp_path)


def test_guard_flags_non_finite_logged_loss():
    from stable_baselines3.common.logger import Logger

    from rlgen.sb3.callbacks import StopRequest, TrainingGuard

    guard = TrainingGuard(stop=StopRequest(), checkpoint_every=0, on_checkpoint=print, eval_every=0, on_eval=print)
    logger = Logger(folder=None, output_formats=[])
    guard.model = type("FakeModel", (), {"logger": logger, "num_timesteps": 640})()
    logger.record("train/value_loss", 1.5)
    guard._check_metrics()
    assert guard.diverged is None
    logger.record("train/policy_loss", float("inf"))
    guard._check_metrics()
    assert guard.diverged == ("train/policy_loss", float("inf"), 640)


def test_progress_rows_follow_an_existing_files_header(tmp_path):
    """A run resumed by a newer rlgen that logs one more column keeps its file's columns aligned."""
    import csv

    from rlgen.progress import append_csv_row

    path = tmp_path / "progress.csv"
    append_csv_row(path, {"epoch": 1, "loss": 0.5, "seconds": 3.0}, ("epoch", "loss", "seconds"))
    append_csv_row(path, {"epoch": 2, "loss": 0.4, "extra": 9.0, "seconds": 2.0}, ("epoch", "loss", "extra", "seconds"))
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["seconds"] for row in rows] == ["3.0", "2.0"] and list(rows[1]) == ["epoch", "loss", "seconds"]


def test_a_second_checkpoint_of_the_same_step_never_removes_the_first_before_the_pointer_moves(tmp_path, monkeypatch):
    """A Ctrl-C checkpoint mid-epoch has the number of the epoch before it; a kill while it is being put in
    place must leave the earlier checkpoint of that number where latest.json points."""
    import os

    from rlgen import runs

    class KilledOnReplace:  # runs.py's view of os: killed just before the new checkpoint is renamed into place
        def __getattr__(self, name):
            return getattr(os, name)

        def replace(self, *args):
            raise KeyboardInterrupt

    store = CheckpointStore(tmp_path, keep=2)
    store.save(3, write_marker("end of epoch 3"))
    with monkeypatch.context() as patch:
        patch.setattr(runs, "os", KilledOnReplace())
        with pytest.raises(KeyboardInterrupt):
            store.save(3, write_marker("mid epoch 4"))
    assert (store.get().path / "model.txt").read_text() == "end of epoch 3"
    again = store.save(3, write_marker("mid epoch 4"))
    assert (store.get().path / "model.txt").read_text() == "mid epoch 4" and again.path.name == "step_000000000003.1"
    store.save(4, write_marker("end of epoch 4"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["step_000000000003.1", "step_000000000004"]


def test_checkpoints_of_one_step_are_pruned_oldest_first_and_never_reuse_a_name(tmp_path):
    store = CheckpointStore(tmp_path, keep=1)
    for text in ("a", "b", "c"):  # three Ctrl-C checkpoints in the same epoch; keep=1 prunes as it goes
        store.save(7, write_marker(text))
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["step_000000000007.2"]
    for n in range(3, 12):
        store.save(7, write_marker(str(n)))
    assert (store.get().path / "model.txt").read_text() == "11" and store.get().path.name == "step_000000000007.11"
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == ["step_000000000007.11"]
