"""Sample quality without downloaded weights: a small classifier trained on the dataset's own training split
stands in for the Inception network.

- **classifier score** ("digits score"): the Inception score's formula (Salimans et al. 2016, Section 4)
  with this classifier: exp(E_x KL(p(y|x) || p(y))), from 1 (useless samples) to the number of classes;
- **Frechet distance** (Heusel et al. 2017, FID's formula) between Gaussians fitted to the classifier's
  penultimate features of test images and of samples: ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2));
- **mode coverage**: the fraction of classes that receive at least half their fair share (1 / (2K)) of the
  samples' predicted labels.

The classifier (an MLP, seeded, trained in seconds) is cached in ``$XDG_CACHE_HOME/rlgen`` (default
``~/.cache/rlgen``) and loaded with ``weights_only=True``; a corrupt cache file is retrained.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rlgen.data.images import ImageSet
from rlgen.models.information import label_information
from rlgen.models.likelihoods import to_unit

HIDDEN = 256
EPOCHS = 60


class ImageClassifier(nn.Module):
    def __init__(self, pixels: int, classes: int):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(pixels, HIDDEN), nn.ReLU(), nn.Dropout(0.2),
                                  nn.Linear(HIDDEN, HIDDEN), nn.ReLU())  # fmt: skip
        self.out = nn.Linear(HIDDEN, classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(logits, penultimate features) for images in [-1, 1]."""
        f = self.body(x)
        return self.out(f), f


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rlgen"


def _train_classifier(train: ImageSet) -> ImageClassifier:
    generator = torch.Generator().manual_seed(0)
    torch_state = torch.get_rng_state()
    torch.manual_seed(0)
    images, labels = train.tensors()
    x = to_unit(images, train.levels)
    model = ImageClassifier(int(np.prod(train.shape)), int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(x), generator=generator).split(128):
            loss = F.cross_entropy(model(x[idx])[0], labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    torch.set_rng_state(torch_state)  # training the metric must not change the run's random stream
    return model.eval()


_LOADED: dict[str, ImageClassifier] = {}


def classifier_for(dataset: str, train: ImageSet) -> ImageClassifier:
    """The cached classifier for ``dataset`` (trained on ``train`` the first time)."""
    name = f"classifier_{dataset}_{train.shape[0]}x{train.shape[1]}x{train.shape[2]}_{len(train)}"
    if name not in _LOADED:
        _LOADED[name] = _load_or_train(cache_dir() / f"{name}.pt", train)
    return _LOADED[name]


def _load_or_train(path: Path, train: ImageSet) -> ImageClassifier:
    model = ImageClassifier(int(np.prod(train.shape)), int(train.labels.max()) + 1)
    if path.is_file():
        try:
            model.load_state_dict(torch.load(path, weights_only=True))
            return model.eval()
        except (OSError, RuntimeError, ValueError, EOFError):
            pass  # corrupt or from another version: retrain
    model = _train_classifier(train)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return model


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Between Gaussians fitted to the rows of ``a`` and of ``b`` (Heusel et al. 2017's FID formula)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    return max(0.0, float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b) - 2 * _trace_sqrt_product(cov_a, cov_b)))


def _trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """Tr((A B)^(1/2)) for covariances A, B, as Tr((A^(1/2) B A^(1/2))^(1/2)): X Y and Y X have the same nonzero
    eigenvalues (X = A^(1/2), Y = A^(1/2) B), and the right side is symmetric, so two symmetric eigen-
    decompositions replace the reference code's general matrix square root (scipy's sqrtm of a singular 2,048 x
    2,048 product takes minutes and needs a ridge; this takes a second and needs none)."""
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    return float(np.sqrt(np.linalg.eigvalsh((middle + middle.T) / 2).clip(min=0)).sum())


@torch.no_grad()
def sample_quality(classifier: ImageClassifier, samples: Tensor, test: ImageSet) -> dict[str, float]:
    """classifier score, Frechet distance to the test set, mode coverage, for integer ``samples``."""
    logits, features = classifier(to_unit(samples, test.levels))
    probs = logits.softmax(1)
    test_images, _ = test.tensors()
    _, test_features = classifier(to_unit(test_images, test.levels))
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).float()
    covered = (counts >= len(samples) / (2 * probs.shape[1])).float().mean()
    return {
        "classifier_score": math.exp(float(label_information(probs))),
        "frechet_distance": frechet_distance(
            features.numpy().astype(np.float64), test_features.numpy().astype(np.float64)
        ),
        "mode_coverage": float(covered),
    }
