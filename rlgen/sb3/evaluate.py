"""Evaluate an SB3 policy zip (from an rlgen run or from plain SB3 code) on a configured env."""

from __future__ import annotations

from pathlib import Path

from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env
from rlgen.errors import RlgenError
from rlgen.evaluation import EvalOptions, EvalResult, VideoRecorder, run_episodes
from rlgen.runs import RunDir
from rlgen.sb3.acting import policy_act_fn
from rlgen.sb3.checkpoint import MODEL_FILE, POLICY_FILE
from rlgen.sb3.config import SB3RunConfig
from rlgen.sb3.normalization import STATS_FILE, load_obs_stats
from rlgen.sb3.safe_zip import load_policy, read_sb3_zip

DEFAULT_EPISODES = 10


def evaluate_zip(
    zip_path: Path,
    env_cfg: EnvConfig,
    options: EvalOptions,
    *,
    stats_path: Path | None = None,
) -> EvalResult:
    """Play ``options.episodes`` episodes of the zip's policy on the env (raw env returns)."""
    saved = read_sb3_zip(zip_path)
    env = make_env(env_cfg, render_mode="rgb_array" if options.video else None)
    try:
        policy = load_policy(saved, env.observation_space, env.action_space, algo=options.algo)
        stats = load_obs_stats(stats_path) if stats_path is not None else None
        act = policy_act_fn(policy, stats, deterministic=options.deterministic)
        fps = int(env.metadata.get("render_fps") or 30)
        video = VideoRecorder(options.video, fps=fps) if options.video else None
        episodes = options.episodes or DEFAULT_EPISODES
        return run_episodes(env, act, episodes=episodes, seed=options.seed, video=video)
    finally:
        env.close()


def run_policy_files(run: RunDir, checkpoint: str) -> tuple[Path, Path]:
    """The (policy zip, normalisation statistics) of a run: final artefacts, or the best/last checkpoint."""
    if checkpoint == "final":
        if (run / POLICY_FILE).is_file():
            return run / POLICY_FILE, run / STATS_FILE
        checkpoint = "last"
        print(f"{run.path} has no final {POLICY_FILE} (training was interrupted?); using the last checkpoint")
    if checkpoint not in ("best", "last"):
        raise RlgenError(f"--checkpoint must be final, best or last, got {checkpoint!r}")
    found = run.checkpoints.get("best" if checkpoint == "best" else "latest")
    if found is None:
        raise RlgenError(f"{run.path} has no {checkpoint} checkpoint yet")
    return found.path / MODEL_FILE, found.path / STATS_FILE


def evaluate_run(config: SB3RunConfig, run: RunDir, options: EvalOptions) -> EvalResult:
    """Evaluate an SB3-based run's policy on the env's own reward (learned or intrinsic rewards play no part)."""
    policy, stats = run_policy_files(run, options.checkpoint)
    return evaluate_zip(policy, config.env, options, stats_path=stats)
