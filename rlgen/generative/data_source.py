"""Where a generative run's images come from: an in-memory image set (digits, MNIST, CIFAR-10) or frame
shards streamed from disk (``data.dataset: frames``). Both give the trainer the same five things: the image
shape and levels, the number of training images, shuffled training batches per epoch, test batches, and the
first few test images; with ``data.validation`` > 0 also validation batches, from a part of the training set
held out the same way for every seed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from rlgen.data.frame_shards import FrameShards
from rlgen.data.images import ImageSet, load_image_set
from rlgen.errors import RlgenError

Batch = tuple[torch.Tensor, torch.Tensor]
HEAD_MAX = 2048
"""Test images held in memory for reconstructions and the VAE's IW-NLL and active units (streamed sets)."""
VALIDATION_SEED = 20_161_109
"""Fixed seed of the validation split: every run and seed of a dataset holds out the same items."""


def held_out(count: int, fraction: float, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) sorted indices of ``count`` items, ``fraction`` of them held out (at least one)."""
    held = max(1, round(count * fraction))
    if held >= count:
        raise RlgenError(f"data.validation {fraction} leaves no {what} to train on ({count} in all); lower it")
    order = np.random.default_rng(VALIDATION_SEED).permutation(count)
    return np.sort(order[held:]), np.sort(order[:held])


def _batch(images: np.ndarray, labels: np.ndarray | None = None) -> Batch:
    x = torch.from_numpy(images.astype(np.int64))
    y = torch.zeros(len(x), dtype=torch.int64) if labels is None else torch.from_numpy(labels.astype(np.int64))
    return x, y


def _in_order(images: ImageSet, batch_size: int) -> Iterator[Batch]:
    for start in range(0, len(images), batch_size):
        yield _batch(images.images[start : start + batch_size], images.labels[start : start + batch_size])


@dataclass(frozen=True)
class InMemoryImages:
    train: ImageSet
    test: ImageSet
    validation: ImageSet | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.train.shape

    @property
    def levels(self) -> int:
        return self.train.levels

    @property
    def train_count(self) -> int:
        return len(self.train)

    def train_batches(self, batch_size: int, seed: int) -> Iterator[Batch]:
        # index the stored (uint8) arrays per batch: an int64 copy of the whole set each epoch costs 8x its memory
        order = torch.randperm(len(self.train), generator=torch.Generator().manual_seed(seed)).numpy()
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            yield _batch(self.train.images[idx], self.train.labels[idx])

    def test_batches(self, batch_size: int) -> Iterator[Batch]:
        yield from _in_order(self.test, batch_size)

    def validation_batches(self, batch_size: int) -> Iterator[Batch] | None:
        return None if self.validation is None else _in_order(self.validation, batch_size)

    def test_head(self, n: int | None = None) -> Batch:
        return _batch(self.test.images[:n], self.test.labels[:n])


@dataclass(frozen=True)
class StreamedFrames:
    """Frame shards: training frames shuffled within pools of a few episodes, test episodes in order."""

    shards: FrameShards
    limit: int = 0
    validation_fraction: float = 0.0

    @property
    def _train_and_validation(self) -> tuple[list[int], list[int]]:
        episodes = self.shards.split("train")
        if not self.validation_fraction:
            return episodes, []
        kept, held = held_out(len(episodes), self.validation_fraction, "training episodes")
        return [episodes[i] for i in kept], [episodes[i] for i in held]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.shards.shape

    @property
    def levels(self) -> int:
        return self.shards.levels

    @property
    def train_count(self) -> int:
        count = self.shards.frames_in(self._train_and_validation[0])
        return min(count, self.limit) if self.limit else count

    def train_batches(self, batch_size: int, seed: int) -> Iterator[Batch]:
        seen = 0
        for frames in self.shards.stream_frames(self._train_and_validation[0], batch_size=batch_size, seed=seed):
            if self.limit:
                frames = frames[: self.limit - seen]
            yield _batch(frames)
            seen += len(frames)
            if self.limit and seen >= self.limit:
                return

    def test_batches(self, batch_size: int) -> Iterator[Batch]:
        return self._in_order(self.shards.split("test"), batch_size)

    def validation_batches(self, batch_size: int) -> Iterator[Batch] | None:
        episodes = self._train_and_validation[1]
        return self._in_order(episodes, batch_size) if episodes else None

    def _in_order(self, episodes: list[int], batch_size: int) -> Iterator[Batch]:
        for frames in self.shards.stream_frames(episodes, batch_size=batch_size, seed=None):
            yield _batch(frames)

    def test_head(self, n: int | None = None) -> Batch:
        n = min(n or HEAD_MAX, HEAD_MAX)
        for frames in self.shards.stream_frames(self.shards.split("test"), batch_size=n, seed=None):
            return _batch(frames)
        raise AssertionError("a test split is never empty")


DataSource = InMemoryImages | StreamedFrames


def load_data_source(data) -> DataSource:  # noqa: ANN001 - generative DataConfig
    """The data a config's ``data`` section names."""
    if data.dataset == "frames":
        return StreamedFrames(FrameShards.open(data.path), data.limit, data.validation)
    train = load_image_set(data.dataset, "train", data.path or None)
    test = load_image_set(data.dataset, "test", data.path or None)
    validation = None
    if data.validation:
        kept, held = held_out(len(train), data.validation, "training images")
        train, validation = _subset(train, kept), _subset(train, held)
    if data.limit:
        train = _subset(train, np.arange(min(data.limit, len(train))))
    return InMemoryImages(train, test, validation)


def _subset(images: ImageSet, idx: np.ndarray) -> ImageSet:
    return ImageSet(images.images[idx], images.labels[idx], images.levels)
