"""Training, evaluation and sampling for the generative kinds, over any model with the shared interface
(DESIGN.md): ``loss(x, labels) -> (loss, metrics with "bits_per_dim")`` and ``sample(n[, temperature])``.

A kind module (``rlgen.generative.kind_vae`` ...) supplies ``build_model(config, image_shape, levels)`` and may
supply ``final_metrics(model, config, test_images) -> dict``, ``extra_images(model, data, run, levels, samples)``
(``samples``: the run's ``train.samples``; 0 asks the kind to skip images that need sampling)
and, for models not trained by maximum likelihood (GANs), ``make_learner(model, config, data)`` (an object with
``step(x, y) -> metrics``, ``state_dict()`` and ``load_state_dict()``), ``epoch_metrics(model, config, data)``
(what is evaluated every ``eval_every`` epochs instead of test bits/dim) and ``PROGRESS_COLUMNS``.

Run directory: ``progress.csv`` (per epoch: train bits/dim, test bits/dim when evaluated, seconds),
``checkpoints/`` (model, optimiser, epoch; resumable), ``model.pt`` (final weights), ``samples.png``,
``metrics.json``, ``plots/bits_per_dim.png`` and whatever the kind adds (reconstructions for VAEs). With
``data.validation`` > 0, progress.csv also has the validation bits/dim and ``model.pt`` holds the weights of
the epoch where it was best (``rlgen.generative.model_selection``); the last weights stay in checkpoints/. A
kind may instead select on a score of its own epoch metrics: ``selection(config) -> (metric, higher is
better)`` or None.
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from rlgen.errors import RlgenError, TrainingDiverged, TrainingInterrupted
from rlgen.generative.common import reject_validation_split
from rlgen.generative.data_source import Batch, DataSource, load_data_source
from rlgen.generative.model_selection import MODEL_FILE, BestWeights, load_weights
from rlgen.generative.partial_epoch import PartialEpoch
from rlgen.plots import plot_columns, save_image_grid
from rlgen.progress import Heartbeat, append_csv_row, progress_bar
from rlgen.runs import RunDir, atomic_save, atomic_write_text
from rlgen.stop import StopRequest

if TYPE_CHECKING:
    from rlgen.evaluation import EvalOptions

PROGRESS_COLUMNS = ("epoch", "step", "train_bits_per_dim", "test_bits_per_dim", "seconds")
VALIDATION_COLUMN = "val_bits_per_dim"
LEARNER_FILE = "optimizer.pt"


@dataclass(frozen=True)
class GenerativeResult:
    """What ``rlgen evaluate`` prints and writes for a generative run."""

    metrics: dict[str, float]
    notes: dict[str, Any] = field(default_factory=dict)

    def format(self) -> str:
        return ", ".join(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}"
                         for key, value in self.metrics.items())  # fmt: skip

    def write_json(self, path: Path, **context: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({**self.metrics, **self.notes, **context}, indent=2))


@torch.no_grad()
def test_bits_per_dim(model: nn.Module, batches: Iterator[Batch]) -> float:
    """Mean bits/dim over a test set (the loss each model reports, without its training-only terms)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for x, y in batches:
        _, metrics = model.loss(x, y)
        total += metrics["bits_per_dim"] * len(x)
        count += len(x)
    model.train(was_training)
    return total / count


class LikelihoodLearner:
    """Adam on ``model.loss`` (maximum likelihood), gradient-norm clipping, a clear error on a NaN loss."""

    def __init__(self, model: nn.Module, cfg) -> None:  # noqa: ANN001 - TrainSection
        self.model, self.cfg = model, cfg
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        loss, metrics = self.model.loss(x, y)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"loss became {float(loss)}; the last checkpoint is kept (lower train.learning_rate or set "
                "train.grad_clip)"
            )
        self.optimizer.zero_grad()
        loss.backward()
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return {"train_bits_per_dim": metrics["bits_per_dim"]}

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)


class GenerativeTrainer:
    def __init__(self, config, run: RunDir, kind: ModuleType):
        self.config, self.run, self.kind = config, run, kind
        self.cfg = config.train
        torch.manual_seed(self.cfg.seed)
        self.data: DataSource = load_data_source(config.data)
        self.model = build_model(config, kind, self.data)
        if hasattr(kind, "make_learner"):
            self.learner = kind.make_learner(self.model, config, self.data)
        else:
            self.learner = LikelihoodLearner(self.model, self.cfg)
        self.columns: tuple[str, ...] = getattr(kind, "PROGRESS_COLUMNS", PROGRESS_COLUMNS)
        self.best = self._model_selection()
        self.epoch = self.step = 0
        self.partial = PartialEpoch()  # the epoch in progress: non-empty only in a checkpoint saved on Ctrl-C

    def _model_selection(self) -> BestWeights | None:
        """Best-validation weights when the data has a validation split (likelihood models only), else the
        weights with the best score the kind selects on (``selection(config)``: (metric, higher is better)),
        if it asks for any."""
        kind_selection = self.kind.selection(self.config) if hasattr(self.kind, "selection") else None
        if kind_selection is not None:
            return BestWeights(self.run, *kind_selection)
        if not self.config.data.validation:
            return None
        if hasattr(self.kind, "epoch_metrics"):  # a kind whose validate() did not already refuse it
            reject_validation_split(self.config)
        self.columns = (*self.columns[:-1], VALIDATION_COLUMN, self.columns[-1])
        return BestWeights(self.run)

    # ---------------------------------------------------------------- checkpoints

    def _write_checkpoint(self, directory: Path) -> None:
        torch.save(self.model.state_dict(), directory / MODEL_FILE)
        torch.save(self.learner.state_dict(), directory / LEARNER_FILE)
        state = {"epoch": self.epoch, "step": self.step, **self.partial.state(self.cfg)}
        (directory / "state.json").write_text(json.dumps(state))

    def checkpoint(self) -> None:
        self.run.checkpoints.save(self.epoch, self._write_checkpoint)

    def restore(self) -> None:
        checkpoint = self.run.checkpoints.get("latest")
        if checkpoint is None:
            return
        try:
            self.model.load_state_dict(torch.load(checkpoint.path / MODEL_FILE, weights_only=True))
            self.learner.load_state_dict(torch.load(checkpoint.path / LEARNER_FILE, weights_only=True))
            state = json.loads((checkpoint.path / "state.json").read_text())
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            raise RlgenError(f"cannot resume from {checkpoint.path}: {str(err).splitlines()[0]}") from None
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.partial, note = PartialEpoch.resumed(state, self.cfg, self.epoch)
        notes = [note, self.best.resumed_at(self.epoch) if self.best is not None else None]
        for line in filter(None, notes):
            print(line)
        done = self.partial.batches_done
        within = f", {done} batches into epoch {self.epoch + 1}" if done else ""
        print(f"resuming at epoch {self.epoch}{within} (step {self.step})")

    # ---------------------------------------------------------------- loop

    def _train_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        try:
            metrics = self.learner.step(x, y)
        except TrainingDiverged as err:
            raise TrainingDiverged(f"epoch {self.epoch + 1}, step {self.step}: {err}") from None
        self.step += 1
        return metrics

    def train(self) -> None:
        self.restore()
        bar, heartbeat = self._progress_bar(), Heartbeat()
        with StopRequest() as stop:
            while self.epoch < self.cfg.epochs:
                epoch = self.partial.start()
                batches = self.data.train_batches(self.cfg.batch_size, self.cfg.seed * 100_003 + self.epoch)
                # a run stopped mid-epoch goes on with the batch after the last one it trained on (the epoch's
                # batch order is fixed by its seed), so the resumed run sees each image once per epoch
                for x, y in itertools.islice(batches, epoch.batches_done, None):
                    epoch.add(self._train_step(x, y), len(x))
                    if heartbeat.due():
                        self._report_within_epoch(bar, epoch)
                    if stop.signum is not None:
                        self.checkpoint()
                        raise TrainingInterrupted(
                            f"interrupted in epoch {self.epoch + 1} after {epoch.batches_done} batches; "
                            f"checkpoint saved; continue with: rlgen train --resume {self.run.path}"
                        )
                self.partial = PartialEpoch()
                self.epoch += 1
                row = {"epoch": self.epoch, "step": self.step, **epoch.means()}
                evaluated = self.epoch % self.cfg.eval_every == 0 or self.epoch == self.cfg.epochs
                if evaluated:
                    row.update(epoch_metrics(self.model, self.config, self.kind, self.data))
                    self._select(row)
                row["seconds"] = round(epoch.seconds(), 3)
                append_csv_row(self.run / "progress.csv", row, self.columns)
                self._report(bar, row, evaluated)
                if self.epoch % self.cfg.checkpoint_every == 0 or self.epoch == self.cfg.epochs:
                    self.checkpoint()
        if bar is not None:
            bar.close()
        self.finish()

    def _select(self, row: dict[str, Any]) -> None:
        """The selection score (validation bits/dim, computed here, or one the kind's epoch metrics hold) into
        the row; the weights kept if they are the best so far."""
        if self.best is None:
            return
        if self.best.metric == VALIDATION_COLUMN:
            row[VALIDATION_COLUMN] = test_bits_per_dim(self.model, self.data.validation_batches(256))
        self.best.offer(self.epoch, row[self.best.metric], self.model)

    def _keep_best(self) -> dict[str, float]:
        """Load the best weights for model.pt and the final metrics; what to add to metrics.json."""
        if self.best is None or not self.best.epoch:
            return {}
        # loaded even when the best epoch is the last one: after a resume from an older checkpoint, the last
        # epoch may have been redone and scored below the weights kept before the resume
        self.best.load_into(self.model)
        if self.best.epoch != self.epoch or not self.best.offered_here:
            print(f"keeping the weights of epoch {self.best.epoch} (best {self.best.metric} {self.best.score:.4f}); "
                  "the last epoch's: --checkpoint last")  # fmt: skip
        return {"best_epoch": self.best.epoch, self.best.metric: self.best.score}

    def _progress_bar(self):  # noqa: ANN202 - tqdm or None
        return progress_bar(self.cfg.epochs, self.config.kind, "epoch", initial=self.epoch,
                            enabled=self.cfg.progress_bar)  # fmt: skip

    def _report(self, bar, row: dict[str, Any], evaluated: bool) -> None:  # noqa: ANN001
        shown = [key for key in self.columns[2:-1] if key in row]
        text = ", ".join(f"{key} {row[key]:.3f}" for key in shown)
        if bar is not None:
            bar.set_postfix_str(text)
            bar.update(1)
        elif evaluated:
            print(f"epoch {row['epoch']}: {text}", flush=True)

    def _report_within_epoch(self, bar, epoch: PartialEpoch) -> None:  # noqa: ANN001
        """A long epoch's progress so far (every minute): images seen, running means, images per second."""
        text = ", ".join(f"{key} {value:.3f}" for key, value in epoch.means().items())
        line = f"{epoch.count}/{self.data.train_count} images, {text} ({epoch.count / epoch.seconds():.1f} images/s)"
        if bar is not None:
            bar.set_postfix_str(line)
        else:
            print(f"epoch {self.epoch + 1}: {line}", flush=True)

    def finish(self) -> None:
        selection = self._keep_best()
        atomic_save(self.run / MODEL_FILE, lambda p: torch.save(self.model.state_dict(), p))
        self.model.eval()
        metrics = final_metrics(self.model, self.config, self.kind, self.data)
        metrics.update(selection)
        metrics.update(epochs=self.epoch, steps=self.step, parameters=sum(p.numel() for p in self.model.parameters()))
        atomic_write_text(self.run / "metrics.json", json.dumps(metrics, indent=2))
        if self.cfg.samples:
            torch.manual_seed(self.cfg.seed)
            save_image_grid(sample_images(self.model, self.config, self.cfg.samples), self.data.levels,
                            self.run / "samples.png")  # fmt: skip
        if hasattr(self.kind, "extra_images"):
            self.kind.extra_images(self.model, self.data, self.run, self.data.levels, self.cfg.samples)
        default_plots = {"bits_per_dim": tuple(c for c in self.columns if c.endswith("bits_per_dim"))}
        for name, columns in getattr(self.kind, "PLOTS", default_plots).items():
            plot_columns(self.run / "progress.csv", "epoch", list(columns), self.run.plots / f"{name}.png",
                         ylabel=name.replace("_", " "), title=self.config.kind)  # fmt: skip
        headline = next(iter(metrics))
        where = f"; samples in {self.run / 'samples.png'}" if self.cfg.samples else ""
        print(f"finished: {headline} {metrics[headline]:.4f}{where}")


def sample_images(model: nn.Module, config, n: int, temperature: float | None = None) -> torch.Tensor:
    """n samples; class-conditional models get labels 0, 1, 2, ... in turn; ``temperature`` defaults to the
    config's ``model.sample_temperature`` (1 when it has none)."""
    if temperature is None:
        temperature = getattr(config.model, "sample_temperature", 1.0)
    if getattr(model, "class_embedding", None) is not None:
        labels = torch.arange(n) % model.class_embedding.num_embeddings
        return model.sample(n, labels=labels)
    if "temperature" in inspect.signature(model.sample).parameters:
        return model.sample(n, temperature=temperature)
    return model.sample(n)


def build_model(config, kind: ModuleType, data: DataSource) -> nn.Module:
    """The kind's model for the data's image shape; a shape the model cannot take is a user error."""
    try:
        return kind.build_model(config, data.shape, data.levels)
    except ValueError as err:
        raise RlgenError(
            f"{config.kind} cannot model {config.data.dataset} images of shape {data.shape}: {err}"
        ) from None


def epoch_metrics(model: nn.Module, config, kind: ModuleType, data: DataSource) -> dict[str, float]:
    """What is evaluated every ``eval_every`` epochs: the kind's ``epoch_metrics``, else test bits/dim."""
    if hasattr(kind, "epoch_metrics"):
        return kind.epoch_metrics(model, config, data)
    return {"test_bits_per_dim": test_bits_per_dim(model, data.test_batches(256))}


def final_metrics(model: nn.Module, config, kind: ModuleType, data: DataSource) -> dict[str, float]:
    """The epoch metrics plus what the kind adds (on the first test images of a streamed set)."""
    metrics = epoch_metrics(model, config, kind, data)
    if hasattr(kind, "final_metrics"):
        metrics.update(kind.final_metrics(model, config, data.test_head()[0]))
    return metrics


def load_trained(config, run: RunDir, kind: ModuleType, checkpoint: str = "final") -> tuple[nn.Module, DataSource]:
    """The run's model (final weights, or the best/last checkpoint) in eval mode, and its data. With model
    selection (a validation split, or InfoGAN's train.keep) the final weights are the best ones; "last" gives
    the last epoch's."""
    data = load_data_source(config.data)
    model = build_model(config, kind, data)
    if checkpoint == "final" and (run / MODEL_FILE).is_file():
        path = run / MODEL_FILE
    else:
        found = run.checkpoints.get("best" if checkpoint == "best" else "latest")
        if found is None:
            hint = ("no best checkpoint (it needs data.validation > 0, or infogan's train.keep: most_informative)"
                    if checkpoint == "best" else "no checkpoint")  # fmt: skip
            raise RlgenError(f"{run.path} has no trained model yet (no {MODEL_FILE} and {hint})")
        path = found.path / MODEL_FILE
    load_weights(model, path)
    return model.eval(), data


SAMPLE_CHUNK = 500
"""Samples drawn per call for the Inception scores (a PixelCNN or flow drawing thousands at once on CIFAR
holds all their activations)."""


def evaluate_generative(config, run: RunDir, kind: ModuleType, options: EvalOptions) -> GenerativeResult:
    """The kind's final metrics; with ``options.inception_weights`` also the real Inception score and FID."""
    from rlgen.generative.inception_metrics import SPLITS, inception_metrics
    from rlgen.models.inception import load_inception

    network = None
    if options.inception_weights is not None:  # checked before anything slow
        if options.inception_samples < SPLITS:
            raise RlgenError(f"--inception-samples {options.inception_samples} is too few: the Inception score "
                             f"is averaged over {SPLITS} splits, so give at least {SPLITS}")  # fmt: skip
        network = load_inception(options.inception_weights)
    model, data = load_trained(config, run, kind, options.checkpoint)
    torch.manual_seed(0)
    metrics = final_metrics(model, config, kind, data)
    if network is not None:
        torch.manual_seed(0)
        n = options.inception_samples
        samples = torch.cat([sample_images(model, config, min(SAMPLE_CHUNK, n - start))
                             for start in range(0, n, SAMPLE_CHUNK)])  # fmt: skip
        reference, _ = data.test_head(options.inception_samples)  # fewer when the test split is smaller
        metrics.update(inception_metrics(network, samples, reference, data.levels))
    return GenerativeResult(metrics, {"levels": data.levels, "dataset": config.data.dataset})
