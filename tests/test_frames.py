"""Frame shards: ``rlgen collect --frames`` writes uint8 episodes (in parallel, deterministically), the reader
streams every frame exactly once, and the generative kinds train on them; bad input exits 2."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from conftest import CONFIGS, assert_user_error, run_cli

from rlgen.collect_frames import FrameJob, collect_frames
from rlgen.data.frame_shards import FrameShards, episode_file
from rlgen.envs.config import EnvConfig
from rlgen.envs.frames import FrameSpec, exploration_policy
from rlgen.errors import RlgenError


def _collect(out, episodes=3, workers=1, env="Pendulum-v1", steps=12, policy="random"):
    job = FrameJob(
        env=EnvConfig(id=env, max_episode_steps=steps), spec=FrameSpec(size=8), out=out, seed=3, policy=policy
    )
    return collect_frames(job, episodes, workers, progress=False)


@pytest.fixture(scope="module")
def pendulum_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("frames") / "pendulum"
    _collect(out, episodes=12)
    return out


def test_shards_layout_and_stream(pendulum_frames):
    shards = FrameShards.open(pendulum_frames)
    assert shards.shape == (3, 8, 8) and shards.manifest["steps"] == [12] * 12
    episode = shards.load_episode(0)
    assert episode["frames"].dtype == np.uint8 and episode["frames"].shape == (13, 3, 8, 8)
    assert episode["actions"].shape == (12, 1) and episode["truncated"][-1] and not episode["terminated"].any()
    assert len(np.unique(episode["frames"].reshape(13, -1), axis=0)) > 1  # the pendulum moves
    assert shards.split("test") == [9] and len(shards.split("train")) == 11
    train = shards.split("train")
    batches = list(shards.stream_frames(train, batch_size=5, seed=0, pool_episodes=2))
    assert all(len(b) == 5 for b in batches[:-1])
    streamed = np.concatenate(batches)
    stored = np.concatenate([shards.load_episode(i)["frames"] for i in train])
    assert len(streamed) == shards.frames_in(train) == len(stored)
    assert sorted(map(bytes, streamed)) == sorted(map(bytes, stored))  # each frame exactly once, shuffled
    assert not np.array_equal(streamed, stored)


def test_several_folders_read_as_one_collection(pendulum_frames, tmp_path):
    _collect(tmp_path / "more", episodes=3, steps=7)
    joined = FrameShards.open(f"{pendulum_frames}{os.pathsep}{tmp_path / 'more'}")
    assert joined.manifest["episodes"] == 15 and joined.manifest["steps"] == [12] * 12 + [7] * 3
    assert joined.split("test") == [9] and joined.frames_in([12, 13, 14]) == 24
    second = FrameShards.open(tmp_path / "more").load_episode(1)["frames"]
    assert np.array_equal(joined.load_episode(13)["frames"], second)
    named = shutil.copytree(tmp_path / "more", tmp_path / f"run{os.pathsep}2")  # a separator in a folder's name
    assert FrameShards.open(named).manifest["episodes"] == FrameShards.open(f"{named}").manifest["episodes"] == 3
    assert FrameShards.open(f"{tmp_path / 'more'}{os.pathsep}").manifest["episodes"] == 3
    _collect(tmp_path / "other_env", episodes=2, env="MountainCarContinuous-v0")
    with pytest.raises(RlgenError, match="env_id"):
        FrameShards.open(f"{pendulum_frames}{os.pathsep}{tmp_path / 'other_env'}")


def test_parallel_collection_matches_serial(tmp_path):
    _collect(tmp_path / "serial", episodes=3, workers=1, policy="brownian")
    _collect(tmp_path / "parallel", episodes=3, workers=2, policy="brownian")
    serial, parallel = FrameShards.open(tmp_path / "serial"), FrameShards.open(tmp_path / "parallel")
    for i in range(3):
        a, b = serial.load_episode(i), parallel.load_episode(i)
        assert all(np.array_equal(a[key], b[key]) for key in a)


def test_brownian_policy_is_a_bounded_random_walk():
    import gymnasium as gym

    space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    act = exploration_policy("brownian", space, seed=0)
    actions = np.array([act(None) for _ in range(200)])
    assert np.all(np.abs(actions) <= 1.0)
    step, jump = np.abs(np.diff(actions, axis=0)).mean(), np.abs(actions[:, None] - actions[None]).mean()
    assert step < 0.2 < jump  # small steps, yet it wanders


def test_carracing_crop_and_cli(tmp_path):
    out = tmp_path / "car"
    result = run_cli("collect", "--env", "CarRacing-v3", "--policy", "random", "--episodes", "2", "--max-steps", "5",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["crop"] == [0, 84, 0, 96] and manifest["frame_shape"] == [3, 64, 64] and manifest["frames"] == 12
    assert_user_error(run_cli("collect", "--env", "CarRacing-v3", "--policy", "random", "--episodes", "1",
                              "--out", str(out)), "never overwritten")  # fmt: skip


def test_collect_user_errors(tmp_path):
    base = ("collect", "--episodes", "1", "--out")
    assert_user_error(run_cli(*base, str(tmp_path / "a"), "--policy", "brownian", "--env", "CartPole-v1"), "Box")
    assert_user_error(run_cli(*base, str(tmp_path / "b"), "--policy", "random", "--env", "Pendulm-v1"), "Pendulum-v1")
    assert_user_error(run_cli(*base, str(tmp_path / "c"), "--policy", "random"), "needs --env")
    frames_with_threshold = ("--policy", "random", "--env", "CartPole-v1", "--min-return", "5")
    assert_user_error(run_cli(*base, str(tmp_path / "d"), *frames_with_threshold), "--min-return")
    missing = str(tmp_path / "no_such_run")
    assert_user_error(run_cli(*base, str(tmp_path / "e"), "--policy", missing, "--env", "CarRacing-v3"), "no policy at")
    assert not any(tmp_path.iterdir())  # nothing half-written left behind


def test_reader_rejects_broken_folders(tmp_path, pendulum_frames):
    with pytest.raises(RlgenError, match="no manifest"):
        FrameShards.open(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in pendulum_frames.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / episode_file(1)).write_bytes(b"not a zip")
    with pytest.raises(RlgenError, match="cannot read"):
        FrameShards.open(broken).load_episode(1)
    (broken / episode_file(2)).unlink()
    with pytest.raises(RlgenError, match="lacks 1 episode"):
        FrameShards.open(broken)


def test_vae_trains_on_streamed_frames(tmp_path, pendulum_frames):
    run = tmp_path / "run"
    config = str(CONFIGS / "vae_digits.yaml")
    sets = ["--set", "data.dataset=frames", "--set", f"data.path={pendulum_frames}"]
    result = run_cli("train", config, "--debug", *sets, "--set", "data.limit=0", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 < metrics["test_bits_per_dim"] < 8 and (run / "reconstructions.png").is_file()
    assert run_cli("evaluate", str(run)).returncode == 0
    missing = ["--set", "data.dataset=frames", "--set", f"data.path={tmp_path / 'nowhere'}"]
    assert_user_error(run_cli("train", config, *missing, cwd=tmp_path), "collect --frames")
    odd = tmp_path / "odd"
    _collect(odd, episodes=2, steps=3)
    (odd / "manifest.json").write_text((odd / "manifest.json").read_text().replace("8,", "16,"))
    assert_user_error(run_cli("train", config, *sets[:2], "--set", f"data.path={odd}", cwd=tmp_path), "shape")


def test_frame_validation_split_holds_out_whole_training_episodes(pendulum_frames):
    from rlgen.generative.config import DataConfig
    from rlgen.generative.data_source import load_data_source

    data = load_data_source(DataConfig(dataset="frames", path=str(pendulum_frames), validation=0.2))
    assert load_data_source(DataConfig(dataset="frames", path=str(pendulum_frames))).validation_batches(8) is None
    train = np.concatenate([x.numpy() for x, _ in data.train_batches(8, seed=0)])
    held = np.concatenate([x.numpy() for x, _ in data.validation_batches(8)])
    test = np.concatenate([x.numpy() for x, _ in data.test_batches(8)])
    shards = FrameShards.open(pendulum_frames)
    assert len(held) == 2 * 13 and len(train) == 9 * 13 and len(test) == shards.frames_in(shards.split("test"))
    every_train_frame = np.concatenate([shards.load_episode(i)["frames"] for i in shards.split("train")])
    together = np.concatenate([train, held]).astype(np.uint8)
    assert sorted(map(bytes, together)) == sorted(map(bytes, every_train_frame))
