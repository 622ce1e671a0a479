"""``rlgen train`` / ``rlgen evaluate`` end to end, as a user runs them."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import gymnasium as gym
import pytest
import yaml
from conftest import CONFIGS, assert_user_error, run_cli, write_fake_mnist
from stable_baselines3 import PPO
from test_gail import random_demos

from rlgen.cli import main

ALL_CONFIGS = sorted(CONFIGS.glob("*.yaml"))
GENERATIVE_KINDS = ("vae", "flow", "pixelcnn", "gan", "infogan")


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_then_evaluate_classic_control(tmp_path, pendulum):
    run = tmp_path / "run"
    result = run_cli("train", str(pendulum), "--debug", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    for name in (
        "config.yaml",
        "command.txt",
        "meta.json",
        "progress.csv",
        "evaluations.csv",
        "policy.zip",
        "plots/returns.png",
        "checkpoints/latest.json",
        "checkpoints/best.json",
    ):
        assert (run / name).exists(), name
    assert "rlgen" in json.loads((run / "meta.json").read_text())["versions"]
    assert (run / "command.txt").read_text().startswith("rlgen train ")  # as retyped, however it was started
    assert "--debug" in (run / "command.txt").read_text()
    assert any(p.name == "tb" for p in run.iterdir())
    result = run_cli("evaluate", str(run), "--episodes", "3", "--json", str(tmp_path / "e.json"))
    assert result.returncode == 0, result.stderr
    assert "return" in result.stdout and "± " in result.stdout
    payload = json.loads((tmp_path / "e.json").read_text())
    assert payload["episodes"] == 3 and payload["mean_length"] == 200.0


def test_train_evaluate_mujoco_with_video(tmp_path):
    run = tmp_path / "hopper"
    result = run_cli("train", str(CONFIGS / "ppo_hopper.yaml"), "--debug", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    assert (run / "vecnormalize.npz").is_file()  # normalisation statistics saved with the policy
    video = tmp_path / "hopper.mp4"
    result = run_cli("evaluate", str(run), "--episodes", "1", "--video", str(video), "--checkpoint", "best")
    assert result.returncode == 0, result.stderr
    assert video.stat().st_size > 1000


def test_evaluate_policy_saved_by_plain_sb3(tmp_path):
    model = PPO("MlpPolicy", gym.make("CartPole-v1"), n_steps=64, seed=0)
    model.learn(64)
    model.save(tmp_path / "plain.zip")
    result = run_cli(
        "evaluate",
        str(tmp_path / "plain.zip"),
        "--env",
        "CartPole-v1",
        "--episodes",
        "2",
        "--json",
        str(tmp_path / "plain.json"),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "plain.json").read_text())["episodes"] == 2


@pytest.mark.parametrize("config", ALL_CONFIGS, ids=lambda p: p.stem)
def test_every_run_config_runs_in_debug_mode(tmp_path, config, capsys):
    extra = []
    raw = yaml.safe_load(config.read_text())
    if raw["kind"] == "gail":  # GAIL needs demos: a few random-policy episodes of the config's env
        demos = tmp_path / "demos.npz"
        random_demos(raw["env"]["id"], 2, max_steps=50).save(demos)
        extra = ["--set", f"demos.path={demos}"]
    if (raw.get("data") or {}).get("dataset") == "mnist":  # MNIST is never downloaded: random IDX files
        extra = ["--set", f"data.path={write_fake_mnist(tmp_path / 'mnist')}"]
    code = main(["train", str(config), "--debug", "--run-dir", str(tmp_path / "run"), *extra])
    assert code == 0, capsys.readouterr().err
    if raw["kind"] in GENERATIVE_KINDS:
        assert (tmp_path / "run" / "model.pt").is_file() and (tmp_path / "run" / "samples.png").is_file()
        if raw["kind"] == "infogan":
            assert all((tmp_path / "run" / name).is_file() for name in ("code_confusion.png", "traversals.png"))
        assert main(["evaluate", str(tmp_path / "run")]) == 0
        assert main(["sample", str(tmp_path / "run"), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
        return
    if raw["kind"] == "world_model":
        assert (tmp_path / "run" / "controller" / "controller_mean.npy").is_file()
        assert (tmp_path / "run" / "vision" / "reconstructions.png").is_file()  # PixelCNN V: through r(x|z)
    else:
        assert (tmp_path / "run" / "policy.zip").is_file()
    assert main(["evaluate", str(tmp_path / "run"), "--episodes", "1"]) == 0


def test_user_errors_exit_2_with_one_line(tmp_path, pendulum):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    assert_user_error(run_cli("evaluate", str(tmp_path / "broken.zip"), "--env", "Pendulum-v1"), "corrupt")
    assert_user_error(run_cli("evaluate", str(tmp_path / "no_such_run")), "nothing to evaluate")
    assert_user_error(run_cli("train", str(pendulum), "--set", "env.id=Pendulum-v9"), "unknown env id 'Pendulum-v9'")
    assert_user_error(run_cli("train", str(tmp_path / "missing.yaml")), "config file not found")
    assert_user_error(run_cli("train", str(pendulum), "--set", "train.total_timesteps=-1"), "must be > 0")
    assert_user_error(run_cli("evaluate", str(tmp_path / "broken.zip")), "needs --env")
    assert_user_error(run_cli("train", "--resume", str(tmp_path / "nope")), "run directory not found")
    assert not list(tmp_path.glob("runs"))


def test_existing_run_dir_is_not_overwritten(tmp_path, pendulum, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "policy.zip").write_text("someone's policy")
    assert main(["train", str(pendulum), "--debug", "--run-dir", str(run)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (run / "policy.zip").read_text() == "someone's policy"


def test_nan_reward_stops_and_keeps_last_good_checkpoint(tmp_path, pendulum, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "train",
            str(pendulum),
            "--debug",
            "--run-dir",
            str(run),
            "--set",
            "env.wrappers=[{name: 'rlgen_test_envs:NanRewardAfter', kwargs: {after: 100}}]",
            "--set",
            "env.n_envs=1",
            "--set",
            "train.checkpoint_freq=64",
            "--set",
            "train.eval_freq=0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "'env reward' became nan at step 100" in err, err
    assert "last good checkpoint" in err
    assert not (run / "policy.zip").exists()
    assert main(["evaluate", str(run), "--episodes", "1"]) == 0  # the kept checkpoint still evaluates


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_and_resume_continues(tmp_path, pendulum, signum):
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "rlgen",
        "train",
        str(pendulum),
        "--run-dir",
        str(run),
        "--set",
        "train.total_timesteps=1000000",
        "--set",
        "train.checkpoint_freq=4096",
        "--set",
        "train.eval_freq=0",
        "--set",
        "algo.kwargs.n_steps=256",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run / "checkpoints" / "latest.json").exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())["step"]
    assert latest >= 4096 and latest % 4 == 0  # saved at the step the signal arrived (4 env copies)
    assert not (run / "policy.zip").exists()
    rows_before = read_rows(run / "progress.csv")

    total = latest + 2048
    result = run_cli("train", "--resume", str(run), "--set", f"train.total_timesteps={total}")
    assert result.returncode == 0, result.stderr
    assert "resumed from" in result.stdout and f"at step {latest}" in result.stdout
    rows = read_rows(run / "progress.csv")
    assert rows[: len(rows_before)] == rows_before  # the metrics before the interruption are kept
    steps_after = [int(float(r["time/total_timesteps"])) for r in rows[len(rows_before) :]]
    assert steps_after and steps_after[0] == latest + 1024 and steps_after[-1] == total
    assert (run / "policy.zip").is_file()
    assert len((run / "command.txt").read_text().splitlines()) == 2
    result = run_cli("train", "--resume", str(run))
    assert result.returncode == 0 and "already trained" in result.stdout
