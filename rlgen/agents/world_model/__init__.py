"""``kind: world_model`` — World Models (Ha & Schmidhuber 2018, arXiv 1803.10122): V (a VAE, or the same
encoder with a PixelCNN decoder) compresses frames to z, M (an MDN-RNN) predicts the next z, C (a linear
controller on [z, h]) is trained by CMA-ES in the real env or in M's dream.

Modules: ``config`` (the run config), ``pipeline`` (the resumable stages), ``vision`` (V), ``series`` and
``memory`` (M), ``evolution`` (C by CMA-ES), ``workers`` (what executor workers run), ``dream``, ``agent``
(V + M + C acting in the real env) and this module's ``evaluate``.
"""

from __future__ import annotations

from rlgen.agents.world_model.config import Config
from rlgen.evaluation import EvalOptions, EvalResult
from rlgen.runs import RunDir

SEED_KEY = "env.seed"
RESUME_KEYS = ("controller.generations", "controller.workers", "controller.executor", "controller.address",
               "controller.eval_every")  # fmt: skip
"""What ``rlgen train --resume RUN --set KEY=VALUE`` may change (e.g. more generations for a finished run). Not
``controller.eval_episodes``: the best evaluation so far is a mean over that many tracks, and a mean over a
different number would not compare with it (``--restart controller`` starts C afresh with any controller.*)."""
RESTART_STAGES = {"controller": ("controller.",)}
"""``rlgen train --resume RUN --restart controller``: a new C on the run's V and M; any controller.* may change."""
DEFAULT_EVAL_EPISODES = 100
"""Tracks ``rlgen evaluate`` plays unless --episodes says otherwise (the paper: 100 random tracks)."""

__all__ = ["Config", "SEED_KEY", "evaluate", "restart_stage", "train", "validate"]


def validate(config: Config) -> None:
    """Problems found before a run directory is made: an unknown env, a negative seed, unusable frames, Ray not
    installed."""
    from rlgen.data.frame_shards import FrameShards
    from rlgen.envs.make import check_env_id
    from rlgen.errors import ConfigError, RlgenError

    check_env_id(config.env.id)
    if config.env.seed < 0:  # seed -1 would train on the held-out evaluation tracks and make CMA-ES unseeded
        raise ConfigError(f"env.seed must be >= 0 for a world-model run, got {config.env.seed}: its training tracks "
                          "(1,000,000 + 100,000 * seed + ...) and CMA-ES's seed (seed + 1) need it")  # fmt: skip
    if config.collect.path:
        try:
            shards = FrameShards.open(config.collect.path)
        except RlgenError as err:
            raise ConfigError(f"collect.path: {err}") from None
        if shards.manifest.get("env_id") != config.env.id:
            raise ConfigError(f"collect.path {config.collect.path} holds frames of {shards.manifest.get('env_id')!r}, "
                              f"not of env.id {config.env.id!r}")  # fmt: skip
    if config.controller.executor == "ray":
        from rlgen.parallel import import_ray

        import_ray()


def restart_stage(run: RunDir, stage: str):  # noqa: ANN201 - Path
    from rlgen.agents.world_model.pipeline import set_stage_aside

    return set_stage_aside(run, stage)


def train(config: Config, run: RunDir) -> None:
    from rlgen.agents.world_model.pipeline import train as train_pipeline

    train_pipeline(config, run)


def evaluate(config: Config, run: RunDir, options: EvalOptions) -> EvalResult:
    """The controller (final: the CMA-ES mean; best: the mean with the best periodic evaluation; last: the latest
    checkpoint) on ``options.episodes`` tracks (default 100) with seeds seed, seed + 1, ...; in parallel on
    ``controller.workers`` workers unless a video is recorded (the same returns either way)."""
    from rlgen.agents.world_model.agent import RealEnvPlayer, load_parts
    from rlgen.agents.world_model.evolution import load_controller_params
    from rlgen.evaluation import VideoRecorder

    params = load_controller_params(run, options.checkpoint)
    episodes = options.episodes or DEFAULT_EVAL_EPISODES
    if options.video is None and config.controller.workers > 1 and episodes > 1:
        return _evaluate_in_parallel(config, run, params, episodes, options.seed)
    player = RealEnvPlayer(config, load_parts(config, run), training=False, video=options.video is not None)
    video = VideoRecorder(options.video) if options.video is not None else None
    try:
        return player.play(params, episodes=episodes, seed=options.seed, video=video)
    finally:
        player.close()


def _evaluate_in_parallel(config: Config, run: RunDir, params, episodes: int, seed: int) -> EvalResult:  # noqa: ANN001
    """The same episodes on the run's executor (``controller.workers`` processes or Ray actors)."""
    from rlgen.agents.world_model.workers import close_worker, play_task, setup_worker
    from rlgen.parallel import make_executor

    c = config.controller
    executor = make_executor(c.executor, min(c.workers, episodes), setup_worker, str(run.path), play_task,
                             address=c.address or None, teardown=close_worker)  # fmt: skip
    try:
        results = list(executor.imap([("eval", params, seed + i) for i in range(episodes)]))
    finally:
        executor.close()
    return EvalResult(tuple(float(r) for r, _ in results), tuple(int(n) for _, n in results))
