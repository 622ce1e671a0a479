"""Frame shards: episodes of preprocessed frames on disk, written by ``rlgen collect --frames`` and streamed
back for training (never all in memory).

Layout of a shard folder::

    DIR/manifest.json          env id, frame shape, how the frames were made, one entry per episode
    DIR/episode_000000.npz     frames (T+1, C, H, W) uint8 (the last one is the final observation),
                               actions (T, ...), rewards (T,) float32, terminated (T,), truncated (T,) bool

Several folders (``A:B``, joined with ``os.pathsep`` as in ``PATH``: ``;`` on Windows) are read as one
collection: their episodes in order, renumbered, so that every 10th is still the test split. They must hold
frames of the same env, crop and shape.

Each episode is one compressed ``.npz`` (no pickle), written atomically by the worker that played it; the
manifest is written last, so a folder without one is an unfinished collection. Episodes whose index is
``TEST_EVERY - 1`` modulo ``TEST_EVERY`` are the test split (every 10th), the rest the training split.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlgen.errors import RlgenError
from rlgen.runs import atomic_save, atomic_write_text

MANIFEST = "manifest.json"
FORMAT = "rlgen-frame-shards-1"
TEST_EVERY = 10
EPISODE_ARRAYS = ("frames", "actions", "rewards", "terminated", "truncated")


def episode_file(index: int) -> str:
    return f"episode_{index:06d}.npz"


def check_new_shard_dir(path: Path) -> None:
    """Refuse a folder that already holds anything (collected frames are never overwritten)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RlgenError(f"{path} already exists and is not empty; choose another --out (frames are never overwritten)")


def write_episode(folder: Path, index: int, episode: dict[str, np.ndarray]) -> int:
    """Save one episode atomically; returns its number of steps T."""
    frames = episode["frames"]
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise ValueError(f"frames must be uint8 (T+1, C, H, W), got {frames.dtype} {frames.shape}")
    steps = len(episode["rewards"])
    if len(frames) != steps + 1:
        raise ValueError(f"{len(frames)} frames for {steps} steps (expected steps + 1)")
    atomic_save(folder / episode_file(index), lambda p: np.savez_compressed(p, **episode))
    return steps


def write_manifest(folder: Path, meta: dict[str, Any], steps: list[int]) -> dict[str, Any]:
    """Write (last) and return the manifest: ``meta`` plus the frame shape and the steps of every episode."""
    manifest = {"format": FORMAT, **meta, "episodes": len(steps), "steps": steps, "frames": sum(steps) + len(steps)}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2))
    return manifest


@dataclass(frozen=True)
class FrameShards:
    """A collected shard folder (or several, as one): the manifest, read eagerly, and the episodes, read one
    at a time."""

    folder: Path
    manifest: dict[str, Any]
    files: tuple[Path, ...] = ()
    """Episode files in order (empty: ``folder``'s own, by index)."""

    @classmethod
    def open(cls, path: str | Path) -> FrameShards:
        """One folder, or several joined with ``os.pathsep`` (a folder whose own name holds it is one folder)."""
        parts = [p for p in str(path).split(os.pathsep) if p]
        if len(parts) > 1 and not Path(path).is_dir():
            return cls.union([cls.open(p) for p in parts])
        folder = Path(parts[0]) if len(parts) == 1 else Path(path)
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            hint = "an unfinished collection (no manifest)" if folder.is_dir() else "not a folder"
            raise RlgenError(f"{folder} is {hint}; make frames with: rlgen collect --frames --env ID --out {folder}")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise RlgenError(f"{manifest_path} is not valid JSON: {err}") from None
        if manifest.get("format") != FORMAT:
            raise RlgenError(
                f"{manifest_path} is not an rlgen frame-shard manifest (format {manifest.get('format')!r})"
            )
        missing = [episode_file(i) for i in range(manifest["episodes"]) if not (folder / episode_file(i)).is_file()]
        if missing:
            raise RlgenError(f"{folder} lacks {len(missing)} episode files (first: {missing[0]}); collect again")
        return cls(folder, manifest)

    @classmethod
    def union(cls, collections: list[FrameShards]) -> FrameShards:
        """The episodes of several collections, in order; the first one's manifest describes the frames."""
        first = collections[0].manifest
        for other in collections[1:]:
            for key in ("env_id", "frame_shape", "crop"):
                theirs, ours = other.manifest.get(key), first.get(key)
                if theirs != ours:
                    raise RlgenError(f"{other.folder} holds frames with {key} {theirs!r}, but {collections[0].folder} "
                                     f"has {ours!r}; join only collections of one env, crop and shape")  # fmt: skip
        steps = [n for c in collections for n in c.manifest["steps"]]
        manifest = {**first, "episodes": len(steps), "steps": steps, "frames": sum(steps) + len(steps),
                    "sources": [str(c.folder) for c in collections]}  # fmt: skip
        files = tuple(c.episode_path(i) for c in collections for i in range(c.manifest["episodes"]))
        return cls(collections[0].folder, manifest, files)

    def episode_path(self, index: int) -> Path:
        return self.files[index] if self.files else self.folder / episode_file(index)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.manifest["frame_shape"])

    @property
    def levels(self) -> int:
        return 256

    def split(self, name: str) -> list[int]:
        """Episode indices of the ``train`` or ``test`` split (every ``TEST_EVERY``-th episode is test)."""
        count = self.manifest["episodes"]
        if count < 2:
            raise RlgenError(f"{self.folder} has {count} episode; collect at least 2 (one is held out for testing)")
        test = [i for i in range(count) if i % TEST_EVERY == TEST_EVERY - 1] or [count - 1]
        return test if name == "test" else [i for i in range(count) if i not in test]

    def frames_in(self, episodes: list[int]) -> int:
        return sum(self.manifest["steps"][i] + 1 for i in episodes)

    def load_episode(self, index: int) -> dict[str, np.ndarray]:
        """One episode's arrays, checked (a truncated or tampered file gives a one-line error)."""
        path = self.episode_path(index)
        try:
            with np.load(path, allow_pickle=False) as data:
                episode = {key: data[key] for key in EPISODE_ARRAYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            raise RlgenError(f"cannot read {path}: {str(err).splitlines()[0]}; collect again") from None
        frames = episode["frames"]
        if frames.dtype != np.uint8 or tuple(frames.shape[1:]) != self.shape:
            raise RlgenError(f"{path} holds {frames.dtype} frames of shape {frames.shape[1:]}, not uint8 {self.shape}")
        return episode

    def stream_frames(self, episodes: list[int], *, batch_size: int, seed: int | None,
                      pool_episodes: int = 8) -> Iterator[np.ndarray]:  # fmt: skip
        """Batches of frames (uint8 N, C, H, W) from ``episodes``; at most ``pool_episodes`` episodes are in
        memory at once. With a ``seed`` the episode order and the frames within each pool are shuffled."""
        rng = np.random.default_rng(seed) if seed is not None else None
        order = list(rng.permutation(episodes)) if rng is not None else list(episodes)
        carry = np.zeros((0, *self.shape), np.uint8)
        for start in range(0, len(order), pool_episodes):
            pool = [carry] + [self.load_episode(int(i))["frames"] for i in order[start : start + pool_episodes]]
            frames = np.concatenate(pool)
            if rng is not None:
                frames = frames[rng.permutation(len(frames))]
            full = len(frames) // batch_size * batch_size
            for first in range(0, full, batch_size):
                yield frames[first : first + batch_size]
            carry = frames[full:]
        if len(carry):
            yield carry
