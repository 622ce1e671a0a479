"""The real Inception score and FID of a generative run's samples, for a user who has the Inception weights
file (``rlgen evaluate RUN --inception-weights FILE``; nothing is downloaded). Without it, the digits
classifier's score and Frechet distance (:mod:`rlgen.generative.sample_quality`) stand in.

- **Inception score** (Salimans et al. 2016, Section 4): exp(E_x KL(p(y|x) || p(y))) over the graph's 1,008
  classes (softmax of pool3 times the last layer's weights, without its bias, as the reference code computes
  it), computed on 10 splits of the samples and reported as their mean and standard deviation, as
  the improved-GAN code's ``inception_score.py`` does (the paper's Table 3 numbers are such means).
- **FID** (Heusel et al. 2017, the Frechet Inception Distance they define): the Frechet distance between
  Gaussians fitted to the 2,048 pool3 features of the samples and of as many test images (all of them when
  the test split is smaller; ``fid_reference_images`` says how many).

Grey images are repeated over three channels; every image is resized to 299 x 299 by the network. The
numbers are only comparable across papers at the same sample count (FID is biased upwards at small counts:
TTUR recommends at least 10,000; below 2,048 its covariances are singular).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from rlgen.errors import RlgenError
from rlgen.generative.sample_quality import frechet_distance
from rlgen.models.inception import FidInceptionV3
from rlgen.models.information import label_information
from rlgen.models.likelihoods import to_unit
from rlgen.progress import progress_bar

SPLITS = 10
BATCH = 50


def _as_rgb(images: Tensor, levels: int) -> Tensor:
    """Integer images (N, C, H, W) -> floats in [-1, 1] with three channels."""
    x = to_unit(images, levels)
    if x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise RlgenError(f"the Inception network reads grey or RGB images, not {x.shape[1]} channels")
    return x


def _batches(images: Tensor, bar) -> Iterator[Tensor]:  # noqa: ANN001 - tqdm or None
    for start in range(0, len(images), BATCH):
        yield images[start : start + BATCH]
        if bar is not None:
            bar.update(min(BATCH, len(images) - start))


@torch.no_grad()
def _features_and_probabilities(network: FidInceptionV3, images: Tensor, levels: int, bar) -> tuple[Tensor, Tensor]:  # noqa: ANN001
    features, probs = [], []
    for batch in _batches(images, bar):
        pool3, logits = network(_as_rgb(batch, levels))
        features.append(pool3.double())
        probs.append(logits.double().softmax(1))
    return torch.cat(features), torch.cat(probs)


def inception_score(probs: Tensor, splits: int = SPLITS) -> tuple[float, float]:
    """(mean, std) over ``splits`` parts of exp(E KL(p(y|x) || p(y))) (Salimans et al. 2016, Section 4), with
    the improved-GAN code's parts: rows i*N//splits up to (i+1)*N//splits, the std over parts (np.std)."""
    n = len(probs)
    if n < splits:
        raise ValueError(f"{n} samples cannot fill {splits} splits")
    parts = [probs[i * n // splits : (i + 1) * n // splits] for i in range(splits)]
    scores = [math.exp(float(label_information(part))) for part in parts]
    return float(np.mean(scores)), float(np.std(scores))


def inception_metrics(network: FidInceptionV3, samples: Tensor, reference: Tensor, levels: int) -> dict[str, float]:
    """Inception score of ``samples`` and their FID to ``reference`` (integer images in ``levels`` levels)."""
    bar = progress_bar(len(samples) + len(reference), "inception", "image")
    try:
        sample_features, probs = _features_and_probabilities(network, samples, levels, bar)
        reference_features, _ = _features_and_probabilities(network, reference, levels, bar)
    finally:
        if bar is not None:
            bar.close()
    score, spread = inception_score(probs)
    return {
        "inception_score": score,
        "inception_score_std": spread,
        "fid": frechet_distance(sample_features.numpy(), reference_features.numpy()),
        "inception_samples": len(samples),
        "fid_reference_images": len(reference),
    }
