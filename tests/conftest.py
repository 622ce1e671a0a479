"""Shared fixtures: headless rendering, helper envs importable as ``rlgen_test_envs``, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
CONFIGS = ROOT / "run_configs"

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, str(TESTS))  # rlgen_test_envs


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``rlgen`` in a fresh interpreter, as a user would."""
    env = dict(os.environ, PYTHONPATH=str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "rlgen", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def assert_user_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("rlgen: error:")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def write_fake_mnist(folder: Path, n: int = 40) -> Path:
    """The four MNIST IDX files with n random 28x28 images (labels 0-9 in turn) for each split."""
    from rlgen.data.images import write_mnist

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        write_mnist(folder, split, rng.integers(0, 256, (n, 28, 28)), np.arange(n) % 10)
    return folder


@pytest.fixture(autouse=True)
def sb3_logs_in_tmp_path(tmp_path, monkeypatch):
    """SB3's ``learn()`` without a logger makes ``$TMPDIR/SB3-<time>``; keep those inside the test's tmp dir."""
    monkeypatch.setenv("SB3_LOGDIR", str(tmp_path / "sb3_logs"))


@pytest.fixture
def pendulum() -> Path:
    """PPO on Pendulum-v1: the plain-SB3 config the CLI tests exercise."""
    return CONFIGS / "ppo_pendulum.yaml"
