"""Differentiable augmentation for GANs on small datasets (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training", arXiv 2006.10738).

Section 3 (Eq. 2-3): the same family of random transformations T is applied to every image the
discriminator sees, real and generated, in both players' updates: L_D = f(-D(T(x))) + f(D(T(G(z)))) and
L_G = f(-D(T(G(z)))). T is differentiable, so the generator's gradient flows through it. D then cannot
memorise a small training set, and because fakes are augmented too, G is not pushed to produce augmented
images (augmenting reals only would be). Fresh T per image and per call, as the authors' code does.

Policies (Section 3.2 and the released ``DiffAugment_pytorch.py``):
- ``translation``: shift by up to 1/8 of the image size in each direction; vacated pixels take ``fill``.
- ``cutout``: a square of half the image size at a random centre set to ``fill``.

Deviation: the released code fills with 0, mid-grey in [-1, 1]; here ``fill`` defaults to -1, the background
of digit images (level 0), so a shifted digit is still a plausible digit. Either way D sees the same
transformation family on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

POLICIES = ("translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def diff_augment(x: Tensor, policies: Sequence[str], fill: float = -1.0) -> Tensor:
    """Apply each policy in turn to a batch of images in [-1, 1], shape (n, c, h, w)."""
    for policy in policies:
        if policy == "translation":
            x = translate(x, TRANSLATION_RATIO, fill)
        elif policy == "cutout":
            x = cutout(x, CUTOUT_RATIO, fill)
        else:
            raise ValueError(f"unknown augmentation {policy!r}; choose from {', '.join(POLICIES)}")
    return x


def translate(x: Tensor, ratio: float, fill: float) -> Tensor:
    """Each image shifted by an integer offset in [-ratio * size, ratio * size] per axis (out[i, j] =
    in[i + dy, j + dx], ``fill`` outside)."""
    n, _, h, w = x.shape
    max_y, max_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-max_y, max_y + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-max_x, max_x + 1, (n, 1, 1), device=x.device)
    padded = F.pad(x, (max_x, max_x, max_y, max_y), value=fill).permute(0, 2, 3, 1)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + dy + max_y
    cols = torch.arange(w, device=x.device).view(1, 1, w) + dx + max_x
    return padded[torch.arange(n, device=x.device).view(n, 1, 1), rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float, fill: float) -> Tensor:
    """A (ratio * h) x (ratio * w) square per image, at a random centre (it may overhang the border), set to
    ``fill``."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - size_y % 2), (n, 1, 1), device=x.device) - size_y // 2
    left = torch.randint(0, w + (1 - size_x % 2), (n, 1, 1), device=x.device) - size_x // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + size_y) & (xs >= left) & (xs < left + size_x)
    return torch.where(inside.unsqueeze(1), torch.full_like(x, fill), x)
