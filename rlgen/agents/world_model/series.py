"""Latent series: every collected episode encoded once by V into the posterior's mu and log sigma (stored,
not z, so M can be trained on a fresh z ~ N(mu, sigma) every batch, as the paper's code does), with the
actions as M's input features, rewards and terminations; and the random windows M is trained on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rlgen.agents.world_model.vision import encode
from rlgen.data.frame_shards import FrameShards
from rlgen.envs.action_codec import ActionCodec
from rlgen.errors import RlgenError
from rlgen.runs import atomic_save

ARRAYS = ("mu", "log_std", "actions", "rewards", "terminated", "frame_start", "step_start", "test")


@dataclass(frozen=True)
class LatentSeries:
    """Episodes concatenated: frames [frame_start[i], frame_start[i+1]) and steps [step_start[i], ...)."""

    mu: np.ndarray
    log_std: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    frame_start: np.ndarray
    step_start: np.ndarray
    test: np.ndarray
    """bool per episode: held out (every 10th episode, as the frame shards' test split)."""

    @property
    def episodes(self) -> int:
        return len(self.step_start) - 1

    def steps(self, episode: int) -> int:
        return int(self.step_start[episode + 1] - self.step_start[episode])

    def split(self, name: str) -> list[int]:
        return [i for i in range(self.episodes) if bool(self.test[i]) == (name == "test")]

    def save(self, path: Path) -> None:
        atomic_save(path, lambda p: np.savez(p, **{key: getattr(self, key) for key in ARRAYS}))

    @classmethod
    def load(cls, path: Path) -> LatentSeries:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(**{key: data[key] for key in ARRAYS})
        except (OSError, KeyError, ValueError) as err:
            raise RlgenError(f"cannot read the latent series {path}: {err}; delete it to encode again") from None


@torch.no_grad()
def encode_series(shards: FrameShards, vision: torch.nn.Module, codec: ActionCodec, progress=None) -> LatentSeries:  # noqa: ANN001
    """Encode every episode of ``shards`` (one episode in memory at a time)."""
    test = set(shards.split("test"))
    parts: dict[str, list[np.ndarray]] = {key: [] for key in ("mu", "log_std", "actions", "rewards", "terminated")}
    frame_start, step_start = [0], [0]
    for index in range(shards.manifest["episodes"]):
        episode = shards.load_episode(index)
        mu, log_std = encode(vision, episode["frames"])
        parts["mu"].append(mu)
        parts["log_std"].append(log_std)
        parts["actions"].append(codec.features(episode["actions"]))
        parts["rewards"].append(episode["rewards"].astype(np.float32))
        parts["terminated"].append(episode["terminated"].astype(np.float32))
        frame_start.append(frame_start[-1] + len(mu))
        step_start.append(step_start[-1] + len(episode["rewards"]))
        if progress is not None:
            progress(1)
    return LatentSeries(**{key: np.concatenate(value) for key, value in parts.items()},
                        frame_start=np.asarray(frame_start), step_start=np.asarray(step_start),
                        test=np.asarray([i in test for i in range(len(step_start) - 1)]))  # fmt: skip


def window_count(series: LatentSeries, episodes: list[int], seq_len: int) -> int:
    """Windows in one epoch over these episodes: their steps divided by ``seq_len``, at least 1."""
    return max(1, sum(series.steps(i) for i in episodes) // seq_len)


def windows(series: LatentSeries, episodes: list[int], seq_len: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(episode, first step) of the windows of one epoch: about steps / seq_len windows, each in a random
    episode (weighted by its length) at a random offset."""
    lengths = np.array([series.steps(i) for i in episodes], dtype=np.float64)
    count = window_count(series, episodes, seq_len)
    chosen = rng.choice(len(episodes), size=count, p=lengths / lengths.sum())
    return [(episodes[i], int(rng.integers(0, max(1, series.steps(episodes[i]) - seq_len + 1)))) for i in chosen]


def batch(series: LatentSeries, picks: list[tuple[int, int]], seq_len: int, rng: np.random.Generator):  # noqa: ANN201
    """Tensors for ``MDNRNN.loss``: z (B, L+1, D) drawn from N(mu, sigma), actions (B, L, A), rewards, dones and
    mask (B, L); windows shorter than ``seq_len`` (short episodes) are padded and masked."""
    size, dim, act_dim = len(picks), series.mu.shape[1], series.actions.shape[1]
    mu = np.zeros((size, seq_len + 1, dim), np.float32)
    std = np.zeros_like(mu)
    actions = np.zeros((size, seq_len, act_dim), np.float32)
    rewards, dones, mask = (np.zeros((size, seq_len), np.float32) for _ in range(3))
    for row, (episode, first) in enumerate(picks):
        steps = min(seq_len, series.steps(episode) - first)
        f0, s0 = series.frame_start[episode] + first, series.step_start[episode] + first
        mu[row, : steps + 1] = series.mu[f0 : f0 + steps + 1]
        std[row, : steps + 1] = np.exp(series.log_std[f0 : f0 + steps + 1])
        actions[row, :steps] = series.actions[s0 : s0 + steps]
        rewards[row, :steps] = series.rewards[s0 : s0 + steps]
        dones[row, :steps] = series.terminated[s0 : s0 + steps]
        mask[row, :steps] = 1.0
    z = mu + std * rng.standard_normal(mu.shape).astype(np.float32)
    return tuple(torch.from_numpy(a) for a in (z, actions, rewards, dones, mask))
