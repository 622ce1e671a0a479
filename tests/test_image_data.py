"""Image datasets: digits split, MNIST IDX parsing, CIFAR-10 batches without arbitrary unpickling."""

from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest

from rlgen.data.images import idx_bytes, load_image_set
from rlgen.errors import RlgenError


def test_digits_fixed_split_and_levels():
    train, test = load_image_set("digits", "train"), load_image_set("digits", "test")
    assert len(train) == 1500 and len(test) == 297 and train.shape == (1, 8, 8) and train.levels == 17
    assert train.images.max() == 16 and train.images.dtype == np.uint8
    assert np.array_equal(load_image_set("digits", "test").images, test.images)  # same split every time
    few = train.per_class(10, seed=3)
    assert len(few) == 100 and set(np.bincount(few.labels)) == {10}


def test_mnist_from_idx_files_plain_and_gzipped(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.arange(5))))
    data = load_image_set("mnist", "test", str(tmp_path))
    assert data.shape == (1, 28, 28) and data.levels == 256 and list(data.labels) == [0, 1, 2, 3, 4]
    assert np.array_equal(data.images[:, 0], images)
    with pytest.raises(RlgenError, match="train-images-idx3-ubyte.*not found.*yann.lecun"):
        load_image_set("mnist", "train", str(tmp_path))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"garbage!")
    with pytest.raises(RlgenError, match="not an IDX file"):
        load_image_set("mnist", "test", str(tmp_path))
    with pytest.raises(RlgenError, match="data.path is required for mnist"):
        load_image_set("mnist", "test")


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_batches_load_arrays_but_refuse_code(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (4, 3072)).astype(np.uint8)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": data, b"labels": [1, 2, 3, 4]}))
    loaded = load_image_set("cifar10", "test", str(tmp_path))
    assert loaded.shape == (3, 32, 32) and np.array_equal(loaded.images.reshape(4, -1), data)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Boom(), b"labels": []}))
    with pytest.raises(RlgenError, match="refusing to load posix.system|refusing to load os.system"):
        load_image_set("cifar10", "test", str(tmp_path))
    with pytest.raises(RlgenError, match="data_batch_1 not found.*cifar"):
        load_image_set("cifar10", "train", str(tmp_path))
    with pytest.raises(RlgenError, match="unknown dataset 'digit'"):
        load_image_set("digit", "train")
