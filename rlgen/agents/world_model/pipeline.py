"""``kind: world_model`` training: collect -> V -> M -> C as resumable stages. ``RUN/stages.json`` records
the finished ones; ``rlgen train --resume RUN`` skips those and continues the interrupted stage from its
own checkpoint. Each stage writes into its own folder of the run::

    frames/        stage 1: frame shards (unless collect.path names existing ones)
    vision/        stage 2: V (model.pt, progress.csv, reconstructions.png, samples.png, metrics.json)
    memory/        stage 3: series.npz, mdn_rnn.pt, progress.csv, metrics.json, plots/memory_loss.png, dream.gif
    controller/    stage 4: controller_mean.npy, controller_best.npy, controller_best_eval.npy, progress.csv,
                   plots/fitness.png, dream.gif
"""

from __future__ import annotations

import json
import shutil

from rlgen.agents.world_model.agent import FRAMES_DIR, frames_folder, load_parts, uses_memory
from rlgen.agents.world_model.config import Config
from rlgen.runs import RunDir, atomic_write_text

STAGES_FILE = "stages.json"
DREAM_FRAMES = 100


def _collect(config: Config, run: RunDir) -> None:
    from dataclasses import replace

    from rlgen.collect_frames import FrameJob, collect_frames
    from rlgen.envs.frames import FrameSpec

    if config.collect.path:
        return
    c = config.collect
    out = run / FRAMES_DIR
    shutil.rmtree(out, ignore_errors=True)  # an unfinished collection of this run (the stage is not done)
    env_cfg = replace(config.env, max_episode_steps=c.max_steps) if c.max_steps else config.env
    job = FrameJob(env=env_cfg, spec=FrameSpec(size=c.size), out=out, seed=config.env.seed, policy=c.policy)
    ray = config.controller.executor == "ray"  # collect where the candidates will be evaluated
    meta = collect_frames(job, c.episodes, c.workers, executor=config.controller.executor,
                          address=(config.controller.address or None) if ray else None)  # fmt: skip
    print(f"collected {meta['episodes']} episodes, {meta['frames']} frames ({meta['seconds']:.0f} s)")


def _vision(config: Config, run: RunDir) -> None:
    from rlgen.agents.world_model.vision import train_vision

    train_vision(config, run, frames_folder(config, run))


def _memory(config: Config, run: RunDir) -> None:
    from rlgen.agents.world_model.agent import probe_action_space
    from rlgen.agents.world_model.memory import MemoryTrainer, latent_series
    from rlgen.agents.world_model.vision import load_vision
    from rlgen.data.frame_shards import FrameShards
    from rlgen.envs.action_codec import ActionCodec

    shards = FrameShards.open(frames_folder(config, run))
    codec = ActionCodec(probe_action_space(config), config.env.id)
    series = latent_series(run, shards, load_vision(config, run, shards.shape), codec)
    MemoryTrainer(config, run, series).train()
    _dream_gif(config, run, run / "memory" / "dream.gif")


def _controller(config: Config, run: RunDir) -> None:
    from rlgen.agents.world_model.evolution import CONTROLLER_DIR, EvolutionTrainer, load_controller_params

    parts = load_parts(config, run)
    EvolutionTrainer(config, run, parts.controller.parameter_count).train()
    if uses_memory(config):
        parts.controller.set_flat(load_controller_params(run, "final"))
        _dream_gif(config, run, run / CONTROLLER_DIR / "dream.gif", parts)


def _dream_gif(config: Config, run: RunDir, path, parts=None) -> None:  # noqa: ANN001
    """Frames V decodes from a dream of M with C from ``parts`` (default: the run's parts with C's initial
    zero parameters, i.e. the middle action)."""
    import imageio.v2 as imageio
    import numpy as np

    from rlgen.agents.world_model.dream import dream_of_run

    if config.vision.encoder == "pixelcnn" and not config.vision.auxiliary_weight:
        return  # without r(x|z), decoding means sampling the PixelCNN: seconds per frame
    parts = parts or load_parts(config, run)
    dream = dream_of_run(config, run, parts, DREAM_FRAMES)
    frames = parts.vision.decode_typical(dream.latents(config.env.seed, DREAM_FRAMES)).numpy().astype(np.uint8)
    frames = frames.transpose(0, 2, 3, 1)
    imageio.mimsave(path, list(frames[..., 0] if frames.shape[-1] == 1 else frames), duration=0.05)
    print(f"dream: {path}")


STAGES = {"collect": _collect, "vision": _vision, "memory": _memory, "controller": _controller}


def set_stage_aside(run: RunDir, stage: str):  # noqa: ANN201 - Path
    """Mark ``stage`` not done and rename its folder STAGE.replaced-N (nothing is deleted), so the next
    ``train`` runs it from scratch; the controller's ``rlgen evaluate`` results (RUN/evaluations) move into
    that folder with it. Returns the new folder (or the stage's, if it had none yet)."""
    folder = run / stage
    if folder.exists():
        n = 1
        while (run / f"{stage}.replaced-{n}").exists():
            n += 1
        folder = folder.rename(run / f"{stage}.replaced-{n}")
        if stage == "controller" and (run / "evaluations").is_dir():
            (run / "evaluations").rename(folder / "evaluations")
    path = run / STAGES_FILE
    done: list[str] = json.loads(path.read_text()) if path.is_file() else []
    atomic_write_text(path, json.dumps([name for name in done if name != stage]))
    return folder


def train(config: Config, run: RunDir) -> None:
    path = run / STAGES_FILE
    done: list[str] = json.loads(path.read_text()) if path.is_file() else []
    for name, stage in STAGES.items():
        if name == "memory" and not uses_memory(config):
            continue
        if name in done and name != "controller":  # C continues when --resume raised controller.generations
            print(f"stage {name}: finished earlier, skipped")
            continue
        print(f"stage {name}", flush=True)
        stage(config, run)
        if name not in done:
            done.append(name)
            atomic_write_text(path, json.dumps(done))
    print(f"finished; evaluate with: rlgen evaluate {run.path}")
