"""``rlgen collect --frames``: play episodes in parallel worker processes and write them as frame shards
(:mod:`rlgen.data.frame_shards`) for the image models and the world model.

Episode ``i`` is reset with seed ``seed + i`` and played by whichever worker is free; each worker writes its
episodes straight to disk, so memory holds one episode per worker whatever the number of episodes.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rlgen.data.frame_shards import check_new_shard_dir, write_episode, write_manifest
from rlgen.envs.config import EnvConfig
from rlgen.envs.frames import (
    FrameSpec,
    disable_mujoco_effects,
    exploration_policy,
    grab_frame,
    has_image_observations,
    make_frame_env,
)
from rlgen.parallel import ExecutorKind, make_executor
from rlgen.progress import progress_bar

EXPLORATION = ("random", "brownian")


@dataclass(frozen=True)
class FrameJob:
    """Everything a worker needs to play and save episodes (picklable, sent once per worker)."""

    env: EnvConfig
    spec: FrameSpec
    out: Path
    seed: int
    policy: str
    """``random``, ``brownian``, the path of an SB3 zip, or a world-model run directory (its controller acts
    on V's and M's view of the frames: the paper's iterative training, Section 5)."""
    stats: Path | None = None
    algo: str | None = None
    deterministic: bool = True


_WORKER: dict[str, Any] = {}


def _start_worker(job: FrameJob) -> None:
    import torch

    torch.set_num_threads(1)
    env = make_frame_env(job.env)
    env.reset(seed=job.seed)
    if env.render_mode == "rgb_array":
        env.render()
        disable_mujoco_effects(env)
    _WORKER.update(
        job=job,
        env=env,
        image_obs=has_image_observations(env),
    )
    _WORKER["act"], _WORKER["reset"] = (None, None) if job.policy in EXPLORATION else _policy_actor(job, env)


def _policy_actor(job: FrameJob, env: Any):  # noqa: ANN202 - (ActFn, reset or None)
    """The policy's act(obs), and what to call at each episode start (None for stateless policies)."""
    if Path(job.policy).is_dir():
        from rlgen.agents.world_model.agent import world_model_actor

        return world_model_actor(Path(job.policy), env)
    from rlgen.sb3.acting import policy_act_fn
    from rlgen.sb3.normalization import load_obs_stats
    from rlgen.sb3.safe_zip import load_policy, read_sb3_zip

    policy = load_policy(read_sb3_zip(Path(job.policy)), env.observation_space, env.action_space, algo=job.algo)
    stats = load_obs_stats(job.stats) if job.stats is not None else None
    return policy_act_fn(policy, stats, deterministic=job.deterministic), None


def _play_episode(index: int) -> tuple[int, int, float]:
    """Play and save episode ``index``; returns (index, steps, return)."""
    job, env, image_obs = _WORKER["job"], _WORKER["env"], _WORKER["image_obs"]
    act = _WORKER["act"] or exploration_policy(job.policy, env.action_space, job.seed + index)
    obs, _ = env.reset(seed=job.seed + index)
    if _WORKER["reset"] is not None:
        _WORKER["reset"]()
    frames, actions, rewards, terminated, truncated = (
        [grab_frame(env, obs, job.spec, image_obs=image_obs)],
        [],
        [],
        [],
        [],
    )
    done = False
    while not done:
        action = act(obs)
        obs, reward, term, trunc, _ = env.step(action)
        frames.append(grab_frame(env, obs, job.spec, image_obs=image_obs))
        actions.append(np.asarray(action))
        rewards.append(float(reward))
        terminated.append(bool(term))
        truncated.append(bool(trunc))
        done = term or trunc
    episode = {
        "frames": np.stack(frames),
        "actions": np.stack(actions).astype(np.int64 if np.issubdtype(actions[0].dtype, np.integer) else np.float32),
        "rewards": np.asarray(rewards, np.float32),
        "terminated": np.asarray(terminated),
        "truncated": np.asarray(truncated),
    }
    steps = write_episode(job.out, index, episode)
    return index, steps, float(np.sum(rewards))


def collect_frames(
    job: FrameJob,
    episodes: int,
    workers: int,
    *,
    progress: bool = True,
    executor: ExecutorKind = "process",
    address: str | None = None,
) -> dict[str, Any]:
    """Collect ``episodes`` episodes into ``job.out`` with ``workers`` processes (or Ray actors with
    ``executor="ray"``); returns the manifest."""
    check_new_shard_dir(job.out)
    job.out.mkdir(parents=True, exist_ok=True)
    job = replace(job, spec=job.spec.for_env(job.env.id))
    started = time.perf_counter()
    steps, returns = [0] * episodes, [0.0] * episodes
    bar = progress_bar(episodes, "collect", "episode", enabled=progress)
    try:
        for index, length, total in _run(job, episodes, workers, executor, address):
            steps[index], returns[index] = length, total
            if bar is not None:
                bar.update(1)
    except BaseException:
        shutil.rmtree(job.out, ignore_errors=True)  # only this command's files: the folder was new or empty
        raise
    finally:
        if bar is not None:
            bar.close()
    spec = job.spec
    channels = 1 if spec.grayscale else 3
    meta = {
        "env_id": job.env.id,
        "frame_shape": [channels, spec.size, spec.size],
        "crop": list(spec.crop) if spec.crop else None,
        "policy": job.policy,
        "seed": job.seed,
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "seconds": round(time.perf_counter() - started, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return write_manifest(job.out, meta, steps)


def _run(job: FrameJob, episodes: int, workers: int, executor: ExecutorKind, address: str | None):  # noqa: ANN202
    pool = make_executor(executor, min(workers, episodes), _start_worker, job, _play_episode, address=address,
                         teardown=lambda: _WORKER.pop("env").close())  # fmt: skip
    try:
        yield from pool.imap(range(episodes))
    finally:
        pool.close()
