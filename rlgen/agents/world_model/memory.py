"""Stage 3, M: encode the frames into a latent series once (``RUN/memory/series.npz``), then train the
MDN-RNN on random windows of it with z re-sampled from (mu, sigma) every batch; checkpoints every epoch
(resumable), ``progress.csv``, ``plots/memory_loss.png``, the final ``RUN/memory/mdn_rnn.pt`` and
``metrics.json`` (M on the test episodes: ``held_out_fit``)."""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from rlgen.agents.world_model.config import Config
from rlgen.agents.world_model.series import LatentSeries, batch, encode_series, window_count, windows
from rlgen.data.frame_shards import FrameShards
from rlgen.envs.action_codec import ActionCodec
from rlgen.errors import RlgenError, TrainingDiverged, TrainingInterrupted
from rlgen.models.mdn_rnn import MDNRNN, mixture_log_prob
from rlgen.plots import plot_columns
from rlgen.progress import append_csv_row, progress_bar
from rlgen.runs import RunDir, atomic_save
from rlgen.stop import StopRequest

MEMORY_DIR = "memory"
SERIES_FILE = "series.npz"
WEIGHTS_FILE = "mdn_rnn.pt"
COLUMNS = ("epoch", "z_nll", "reward_mse", "done_bce", "test_z_nll", "seconds")


def build_memory(config: Config, latent_dim: int, action_dim: int) -> MDNRNN:
    m = config.memory
    return MDNRNN(latent_dim, action_dim, hidden=m.hidden, mixtures=m.mixtures, reward_head=m.reward_head,
                  done_head=m.done_head, sigma_floor=m.sigma_floor)  # fmt: skip


def load_memory(config: Config, run: RunDir, latent_dim: int, action_dim: int) -> MDNRNN:
    model = build_memory(config, latent_dim, action_dim)
    path = run / MEMORY_DIR / WEIGHTS_FILE
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
    except (OSError, RuntimeError) as err:
        raise RlgenError(f"cannot load M from {path}: {str(err).splitlines()[0]}") from None
    return model.eval()


def latent_series(run: RunDir, shards: FrameShards, vision: torch.nn.Module, codec: ActionCodec) -> LatentSeries:
    """The encoded series, made once (V is fixed once its stage is done)."""
    path = run / MEMORY_DIR / SERIES_FILE
    if not path.is_file():
        path.parent.mkdir(exist_ok=True)
        bar = progress_bar(shards.manifest["episodes"], "encode", "episode")
        series = encode_series(shards, vision, codec, progress=bar.update if bar is not None else None)
        if bar is not None:
            bar.close()
        series.save(path)
    return LatentSeries.load(path)


@torch.no_grad()
def held_out_fit(model: MDNRNN, series: LatentSeries, window: int = 50) -> dict[str, float]:
    """M on the test episodes, teacher-forced on V's posterior means: z NLL per dimension and, with a reward
    head, how well it predicts the reward, per step (R^2) and summed over ``window``-step windows (Pearson r).
    CarRacing's per-step reward is a spike when a tile is first touched, whose timing no model can know, so
    even a perfect head has a low per-step R^2; the window sums are what a dream's return adds up. A figure
    that is undefined (rewards or window sums without variance) is left out."""
    nll, count, predicted, real = 0.0, 0, [], []
    for episode in series.split("test"):
        steps, f0, s0 = series.steps(episode), series.frame_start[episode], series.step_start[episode]
        z = torch.from_numpy(series.mu[f0 : f0 + steps + 1])[None]
        out = model(z[:, :-1], torch.from_numpy(series.actions[s0 : s0 + steps])[None])[0]
        nll -= float(mixture_log_prob(out.logits, out.mu, out.sigma, z[:, 1:]).sum())
        count += steps * z.shape[-1]
        if out.reward is not None:
            predicted.append(out.reward[0].numpy())
            real.append(series.rewards[s0 : s0 + steps])
    metrics = {"test_z_nll_at_posterior_means": nll / count}
    if predicted:
        p, r = np.concatenate(predicted), np.concatenate(real)
        if np.ptp(r) > 0:
            metrics["reward_r2_per_step"] = float(1 - np.mean((p - r) ** 2) / np.var(r))
        sums = np.array([(a[i : i + window].sum(), b[i : i + window].sum())
                         for a, b in zip(predicted, real, strict=True)
                         for i in range(0, len(a) - window + 1, window)]).reshape(-1, 2)  # fmt: skip
        if len(sums) > 2 and np.all(np.ptp(sums, axis=0) > 0):
            metrics[f"reward_r_{window}_step_sums"] = float(np.corrcoef(sums.T)[0, 1])
    return metrics


class MemoryTrainer:
    def __init__(self, config: Config, run: RunDir, series: LatentSeries):
        self.config, self.cfg, self.series = config, config.memory, series
        self.folder = RunDir(run / MEMORY_DIR)
        self.folder.path.mkdir(exist_ok=True)
        torch.manual_seed(config.env.seed)
        self.model = build_memory(config, series.mu.shape[1], series.actions.shape[1])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.cfg.learning_rate)
        self.epoch = 0

    def _loss(self, tensors):  # noqa: ANN001, ANN202
        z, actions, rewards, dones, mask = tensors
        return self.model.loss(z, actions, rewards, dones, mask, reward_weight=self.cfg.reward_weight,
                               done_weight=self.cfg.done_weight)  # fmt: skip

    def _train_epoch(self, stop: StopRequest) -> dict[str, float]:
        rng = np.random.default_rng([self.config.env.seed, self.epoch])
        picks = windows(self.series, self.series.split("train"), self.cfg.seq_len, rng)
        totals: dict[str, float] = {}
        for start in range(0, len(picks), self.cfg.batch_size):
            chunk = picks[start : start + self.cfg.batch_size]
            loss, metrics = self._loss(batch(self.series, chunk, self.cfg.seq_len, rng))
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"M's loss became {float(loss)} in epoch {self.epoch + 1}; lower "
                                       "memory.learning_rate or raise memory.sigma_floor")  # fmt: skip
            self.optimizer.zero_grad()
            loss.backward()
            if self.cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.optimizer.step()
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0.0) + value * len(chunk) / len(picks)
            if stop.signum is not None:
                self.checkpoint()
                raise TrainingInterrupted(
                    f"interrupted in M's epoch {self.epoch + 1}; checkpoint of epoch {self.epoch} saved; "
                    f"continue with: rlgen train --resume {self.folder.path.parent}"
                )
        return totals

    @torch.no_grad()
    def test_nll(self) -> float:
        rng = np.random.default_rng([self.config.env.seed, 10**6])
        picks = windows(self.series, self.series.split("test"), self.cfg.seq_len, rng)[: self.cfg.batch_size]
        return self._loss(batch(self.series, picks, self.cfg.seq_len, rng))[1]["z_nll"]

    def checkpoint(self) -> None:
        def write(directory):  # noqa: ANN001, ANN202
            torch.save(self.model.state_dict(), directory / WEIGHTS_FILE)
            torch.save(self.optimizer.state_dict(), directory / "optimizer.pt")
            (directory / "state.json").write_text(json.dumps({"epoch": self.epoch}))

        self.folder.checkpoints.save(self.epoch, write)

    def restore(self) -> None:
        found = self.folder.checkpoints.get("latest")
        if found is None:
            return
        try:
            self.model.load_state_dict(torch.load(found.path / WEIGHTS_FILE, weights_only=True))
            self.optimizer.load_state_dict(torch.load(found.path / "optimizer.pt", weights_only=True))
            self.epoch = int(json.loads((found.path / "state.json").read_text())["epoch"])
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            raise RlgenError(f"cannot resume M from {found.path}: {str(err).splitlines()[0]}") from None
        print(f"M: resuming at epoch {self.epoch}")

    def epochs_to_train(self) -> int:
        """``memory.epochs``, raised until they make ``memory.min_updates`` optimiser steps on this data."""
        windows_per_epoch = window_count(self.series, self.series.split("train"), self.cfg.seq_len)
        steps_per_epoch = -(-windows_per_epoch // self.cfg.batch_size)
        needed = -(-self.cfg.min_updates // steps_per_epoch)
        if needed > self.cfg.epochs:
            print(f"M: {self.cfg.epochs} epochs are {self.cfg.epochs * steps_per_epoch} updates on this data; "
                  f"training {needed} epochs to reach memory.min_updates={self.cfg.min_updates}")  # fmt: skip
        return max(self.cfg.epochs, needed)

    def train(self) -> None:
        self.restore()
        epochs = self.epochs_to_train()
        bar = progress_bar(epochs, "M (MDN-RNN)", "epoch", initial=self.epoch)
        with StopRequest() as stop:
            while self.epoch < epochs:
                started = time.perf_counter()
                row = self._train_epoch(stop)
                self.epoch += 1
                seconds = round(time.perf_counter() - started, 2)
                row.update(epoch=self.epoch, test_z_nll=self.test_nll(), seconds=seconds)
                append_csv_row(self.folder / "progress.csv", row, COLUMNS)
                self.checkpoint()
                if bar is not None:
                    bar.set_postfix_str(f"z_nll {row['z_nll']:.3f}, test {row['test_z_nll']:.3f}")
                    bar.update(1)
                else:
                    print(f"M epoch {self.epoch}: z_nll {row['z_nll']:.3f}, test z_nll {row['test_z_nll']:.3f}")
        if bar is not None:
            bar.close()
        atomic_save(self.folder / WEIGHTS_FILE, lambda p: torch.save(self.model.state_dict(), p))
        metrics = held_out_fit(self.model.eval(), self.series)
        (self.folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
        print("M on the test episodes: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        plot_columns(self.folder / "progress.csv", "epoch", ["z_nll", "test_z_nll"],
                     self.folder.plots / "memory_loss.png", ylabel="NLL of z' per dimension (nats)",
                     title="M (MDN-RNN)")  # fmt: skip
