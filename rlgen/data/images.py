"""Image datasets as integer levels: scikit-learn's digits (bundled), MNIST (IDX files), CIFAR-10 (python
batches). Nothing is downloaded; a missing path says where to get the files.

Every loader returns an :class:`ImageSet`: ``images`` uint8 of shape (N, C, H, W) with values in
``0..levels-1``, integer ``labels`` (N,), and ``levels`` (17 for digits, 256 for MNIST and CIFAR-10), the
number bits/dim is computed with.
"""

from __future__ import annotations

import gzip
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rlgen.errors import RlgenError

DIGITS_TEST_SIZE = 297  # 1797 digits -> 1500 train / 297 test, a fixed permutation (seed 0)
MNIST_URL = "https://yann.lecun.com/exdb/mnist/ (or any mirror of the four *-ubyte files)"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html (the 'CIFAR-10 python version', extracted)"


@dataclass(frozen=True)
class ImageSet:
    images: np.ndarray
    labels: np.ndarray
    levels: int

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")
        if len(self.images) and int(self.images.max()) >= self.levels:
            raise ValueError(f"image values reach {int(self.images.max())} but levels is {self.levels}")

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(self.images.astype(np.int64)), torch.from_numpy(self.labels.astype(np.int64))

    def per_class(self, n: int, seed: int) -> ImageSet:
        """``n`` examples of every class, chosen with ``seed`` (for semi-supervised training)."""
        rng = np.random.default_rng(seed)
        keep = []
        for label in np.unique(self.labels):
            idx = np.flatnonzero(self.labels == label)
            if len(idx) < n:
                raise RlgenError(f"class {label} has only {len(idx)} examples, fewer than the {n} asked for")
            keep.append(rng.choice(idx, n, replace=False))
        keep = np.sort(np.concatenate(keep))
        return ImageSet(self.images[keep], self.labels[keep], self.levels)


def load_digits(split: str) -> ImageSet:
    """scikit-learn's 8x8 digits (17 grey levels), fixed 1500/297 train/test split."""
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    order = np.random.default_rng(0).permutation(len(data.images))
    idx = order[DIGITS_TEST_SIZE:] if split == "train" else order[:DIGITS_TEST_SIZE]
    images = data.images[idx].astype(np.uint8)[:, None]
    return ImageSet(images, data.target[idx].astype(np.int64), levels=17)


def _open_maybe_gz(path: Path) -> bytes:
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            raw = candidate.read_bytes()
            return gzip.decompress(raw) if candidate.suffix == ".gz" else raw
    raise RlgenError(f"MNIST file {path.name}[.gz] not found in {path.parent}; get it from {MNIST_URL}")


def read_idx(raw: bytes, source: str) -> np.ndarray:
    """An IDX array (LeCun's format: zero bytes, dtype code 0x08 = uint8, rank, big-endian sizes)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise RlgenError(f"{source} is not an IDX file of unsigned bytes (bad magic number)")
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(shape)):
        raise RlgenError(f"{source} is truncated: header says {shape}, found {data.size} values")
    return data.reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` as an IDX file of unsigned bytes (the inverse of :func:`read_idx`)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _mnist_prefix(split: str) -> str:
    return "train" if split == "train" else "t10k"


def write_mnist(path: str | Path, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    """One split of MNIST-format IDX files (images (N, 28, 28) in 0..255, labels (N,)) in folder ``path``."""
    folder, prefix = Path(path), _mnist_prefix(split)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))


def load_mnist(path: str | Path, split: str) -> ImageSet:
    """MNIST from the four standard IDX files (optionally gzipped) in ``path``; 256 levels."""
    folder = Path(path)
    if not folder.is_dir():
        raise RlgenError(f"MNIST folder {folder} not found; put the IDX files there (from {MNIST_URL})")
    prefix = _mnist_prefix(split)
    images = read_idx(_open_maybe_gz(folder / f"{prefix}-images-idx3-ubyte"), f"{prefix}-images-idx3-ubyte")
    labels = read_idx(_open_maybe_gz(folder / f"{prefix}-labels-idx1-ubyte"), f"{prefix}-labels-idx1-ubyte")
    return ImageSet(images[:, None].copy(), labels.astype(np.int64), levels=256)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """CIFAR-10's python batches are pickles of {bytes: list | bytes | ndarray}. Only the numpy array
    reconstructors are allowed, so a tampered file cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch")
        return super().find_class(module, name)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise RlgenError(f"CIFAR-10 batch {path} not found; get it from {CIFAR_URL}")
    try:
        batch = _ArraysOnlyUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"], np.uint8), np.asarray(batch[b"labels"], np.int64)
    except (pickle.UnpicklingError, KeyError, EOFError, ValueError, TypeError) as err:
        raise RlgenError(f"{path} is not a CIFAR-10 python batch: {err}") from None
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(path: str | Path, split: str) -> ImageSet:
    """CIFAR-10 from the python batches in ``path`` (``data_batch_1..5``, ``test_batch``); 256 levels."""
    folder = Path(path)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    parts = [_cifar_batch(folder / name) for name in names]
    return ImageSet(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), levels=256)


def load_image_set(name: str, split: str, path: str | None = None) -> ImageSet:
    """A dataset by its config name: ``digits``, ``mnist`` or ``cifar10`` (the last two need ``path``)."""
    if split not in ("train", "test"):
        raise RlgenError(f"split must be 'train' or 'test', got {split!r}")
    if name == "digits":
        return load_digits(split)
    if name in ("mnist", "cifar10"):
        if not path:
            where = MNIST_URL if name == "mnist" else CIFAR_URL
            raise RlgenError(f"data.path is required for {name} (a folder with the files from {where})")
        return load_mnist(path, split) if name == "mnist" else load_cifar10(path, split)
    raise RlgenError(f"unknown dataset {name!r}; choose digits, mnist or cifar10")
