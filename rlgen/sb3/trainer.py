"""The training loop every SB3-based kind shares: envs, model, resume, checkpoints, evals, artefacts.

Agents that change the reward or add modules (VIME's BNN, GAIL's discriminator) plug in through a
:class:`TrainerPlugin` (a vec-env wrapper, callbacks, extra state in checkpoints) instead of forking
this loop or the SB3 algorithm.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, ProgressBarCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize

from rlgen.envs.config import EnvConfig
from rlgen.envs.make import make_env
from rlgen.errors import ConfigError, TrainingDiverged, TrainingInterrupted
from rlgen.evaluation import EvalResult, run_episodes
from rlgen.plots import plot_returns
from rlgen.runs import RunDir, atomic_save
from rlgen.sb3.acting import policy_act_fn
from rlgen.sb3.algos import algo_class, check_algo
from rlgen.sb3.callbacks import TrainingGuard
from rlgen.sb3.checkpoint import POLICY_FILE, restore_training_state, write_training_state
from rlgen.sb3.config import AlgoConfig, TrainConfig
from rlgen.sb3.fast_math import distribution_validation_off, with_fused_adam
from rlgen.sb3.logging import make_logger
from rlgen.sb3.normalization import STATS_FILE, find_vecnormalize, obs_stats, save_vecnormalize
from rlgen.stop import StopRequest

EVALUATIONS_FILE = "evaluations.csv"
EVAL_SEED_OFFSET = 1_000_000  # evaluation episodes never reuse the training seeds


class TrainerPlugin:
    """Hooks for agents that extend plain SB3 training (all optional)."""

    def wrap_venv(self, venv: VecEnv) -> VecEnv:
        """Wrap the training vec-env inside normalisation (it sees raw observations and env rewards)."""
        return venv

    def callbacks(self, model: BaseAlgorithm) -> list[BaseCallback]:
        """Extra callbacks for ``model.learn``."""
        return []

    def on_train_start(self, model: BaseAlgorithm) -> None:
        """Called once before a fresh run's first step (not on resume), e.g. for a warm start."""

    def save(self, directory: Path) -> None:
        """Write the plugin's own state into a checkpoint directory (and the run directory at the end)."""

    def load(self, directory: Path) -> None:
        """Read the state written by :meth:`save`."""

    def plots(self, run_path: Path, plots_dir: Path) -> None:
        """Write the plugin's own figures at the end of training (its columns of ``progress.csv``)."""


def build_vec_env(
    env: EnvConfig, *, seed: int, gamma: float = 0.99, wrappers: Sequence[Callable[[VecEnv], VecEnv]] = ()
) -> VecEnv:
    """The training vec-env: monitored copies, then ``wrappers``, then optional ``VecNormalize``."""
    make_env(env).close()  # fail here, in the main process, on a bad id, kwargs or wrapper
    vec_cls = SubprocVecEnv if env.vec_env == "subproc" else DummyVecEnv
    venv = make_vec_env(lambda: make_env(env), n_envs=env.n_envs, seed=seed, vec_env_cls=vec_cls)
    for wrap in wrappers:
        venv = wrap(venv)
    if env.normalize_obs or env.normalize_reward:
        venv = VecNormalize(
            venv, norm_obs=env.normalize_obs, norm_reward=env.normalize_reward, clip_obs=env.clip_obs, gamma=gamma
        )
    return venv


def build_model(algo: AlgoConfig, venv: VecEnv, *, seed: int, device: str) -> BaseAlgorithm:
    """Construct the SB3 algorithm from the ``algo`` section; bad kwargs become a ConfigError."""
    cls = algo_class(algo.name)
    kwargs = with_fused_adam(check_algo(algo), device)
    try:
        return cls(algo.policy, venv, seed=seed, device=device, verbose=0, **kwargs)
    except (TypeError, ValueError, AssertionError) as err:
        raise ConfigError(f"cannot build {algo.name} from algo.kwargs: {str(err).splitlines()[0]}") from None


TORCH_DEFAULT_THREADS = torch.get_num_threads()


def torch_threads_for(policy: str, configured: int) -> int:
    """The ``train.torch_threads`` value to use: as configured, or 1 for MLP policies when 0 (auto)."""
    if configured > 0:
        return configured
    return 1 if "Cnn" not in policy else TORCH_DEFAULT_THREADS


class SB3Trainer:
    """Train an SB3 algorithm into a run directory, resuming from its latest checkpoint if any."""

    def __init__(
        self,
        *,
        run: RunDir,
        env: EnvConfig,
        algo: AlgoConfig,
        train: TrainConfig,
        plugins: Sequence[TrainerPlugin] = (),
    ):
        self.run, self.env_cfg, self.algo_cfg, self.train_cfg = run, env, algo, train
        self.plugins = list(plugins)
        self.run.checkpoints.keep = train.keep_checkpoints
        self.best_return = -math.inf
        self._eval_env = None

    # ------------------------------------------------------------------ main loop

    def train(self) -> BaseAlgorithm:
        checkpoint = self.run.checkpoints.get("latest")
        seed = self.env_cfg.seed + (checkpoint.step if checkpoint else 0)
        gamma = float(self.algo_cfg.kwargs.get("gamma", 0.99))
        torch.set_num_threads(torch_threads_for(self.algo_cfg.policy, self.train_cfg.torch_threads))
        venv = build_vec_env(self.env_cfg, seed=seed, gamma=gamma, wrappers=[p.wrap_venv for p in self.plugins])
        model = build_model(self.algo_cfg, venv, seed=seed, device=self.train_cfg.device)
        model.set_logger(make_logger(self.run.path, stdout=not self._show_progress()))
        start = self._restore(model, checkpoint)
        if checkpoint is None:
            for plugin in self.plugins:
                plugin.on_train_start(model)
        remaining = self.train_cfg.total_timesteps - start
        if remaining <= 0:
            print(f"already trained for {start} steps (total_timesteps {self.train_cfg.total_timesteps})")
            self._finish(model)
            return model
        with StopRequest() as stop, distribution_validation_off():
            guard = TrainingGuard(
                stop=stop,
                checkpoint_every=self.train_cfg.checkpoint_freq,
                on_checkpoint=lambda step: self._checkpoint(model, step, guard),
                eval_every=self.train_cfg.eval_freq,
                on_eval=lambda step: self._evaluate(model, step),
            )
            callbacks: list[BaseCallback] = [guard]
            for plugin in self.plugins:
                callbacks += plugin.callbacks(model)
            if self._show_progress():
                callbacks.append(ProgressBarCallback())
            model.learn(
                remaining, callback=callbacks, log_interval=self.train_cfg.log_interval, reset_num_timesteps=False
            )
        self._after_learn(model, guard, stop)
        return model

    def _after_learn(self, model: BaseAlgorithm, guard: TrainingGuard, stop: StopRequest) -> None:
        model.logger.close()
        if guard.diverged is not None:
            metric, value, step = guard.diverged
            last = self.run.checkpoints.get("latest")
            kept = f"last good checkpoint {last.path} (step {last.step}) kept" if last else "no checkpoint was written"
            raise TrainingDiverged(f"'{metric}' became {value} at step {step}; training stopped, {kept}")
        self._checkpoint(model, model.num_timesteps, guard)
        if stop.signum is not None:
            raise TrainingInterrupted(
                f"interrupted at step {model.num_timesteps}; checkpoint saved; "
                f"continue with: rlgen train --resume {self.run.path}"
            )
        self._finish(model)

    def _show_progress(self) -> bool:
        return self.train_cfg.progress_bar and sys.stderr.isatty()

    # ------------------------------------------------------------------ state

    def _restore(self, model: BaseAlgorithm, checkpoint) -> int:
        if checkpoint is None:
            return 0
        step = restore_training_state(model, checkpoint.path)
        for plugin in self.plugins:
            plugin.load(checkpoint.path)
        best = self.run.checkpoints.get("best")
        if best is not None and (best.path / "eval.json").is_file():
            self.best_return = json.loads((best.path / "eval.json").read_text())["mean_return"]
        print(f"resumed from {checkpoint.path} at step {step}")
        return step

    def _write_state(self, model: BaseAlgorithm, directory: Path) -> None:
        write_training_state(model, directory)
        for plugin in self.plugins:
            plugin.save(directory)

    def _checkpoint(self, model: BaseAlgorithm, step: int, guard: TrainingGuard) -> None:
        if not _parameters_finite(model):
            guard.diverged = ("network parameters", math.nan, step)
            return
        latest = self.run.checkpoints.get("latest")
        if latest is None or latest.step != step:
            self.run.checkpoints.save(step, lambda d: self._write_state(model, d))

    def _finish(self, model: BaseAlgorithm) -> None:
        """Final artefacts: policy.zip (+ normalisation statistics) and the learning-curve plot."""
        atomic_save(self.run / POLICY_FILE, model.save)
        norm = find_vecnormalize(model.get_env())
        if norm is not None:
            atomic_save(self.run / STATS_FILE, lambda p: save_vecnormalize(norm, p))
        if self.plugins:
            with tempfile.TemporaryDirectory(dir=self.run.path, prefix=".final-") as tmp:
                for plugin in self.plugins:
                    plugin.save(Path(tmp))
                for item in Path(tmp).iterdir():  # each file lands whole, by rename
                    os.replace(item, self.run / item.name)
        plot_returns(self.run.path, self.run.plots / "returns.png", title=f"{self.algo_cfg.name} on {self.env_cfg.id}")
        for plugin in self.plugins:
            plugin.plots(self.run.path, self.run.plots)
        print(f"finished: {self.run.path / POLICY_FILE}")

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self, model: BaseAlgorithm, step: int) -> None:
        if self._eval_env is None:
            self._eval_env = make_env(self.env_cfg)
        norm = find_vecnormalize(model.get_env())
        act = policy_act_fn(model.policy, obs_stats(norm), deterministic=self.train_cfg.eval_deterministic)
        result = run_episodes(
            self._eval_env, act, episodes=self.train_cfg.eval_episodes, seed=self.env_cfg.seed + EVAL_SEED_OFFSET
        )
        for key, value in result.summary().items():
            model.logger.record(f"eval/{key}", value)
        self._append_evaluation(step, result)
        if result.mean_return > self.best_return and _parameters_finite(model):
            self.best_return = result.mean_return

            def write(directory: Path) -> None:
                self._write_state(model, directory)
                (directory / "eval.json").write_text(json.dumps(result.summary()))

            self.run.checkpoints.save(step, write, tag="best")

    def _append_evaluation(self, step: int, result: EvalResult) -> None:
        path = self.run / EVALUATIONS_FILE
        row = {"timesteps": step, **result.summary()}
        new = not path.is_file()
        with open(path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)


def _parameters_finite(model: BaseAlgorithm) -> bool:
    return all(torch.isfinite(p).all() for p in model.policy.parameters())
