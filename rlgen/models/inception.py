"""Inception-v3 as the Inception score and FID use it: the TensorFlow graph of 2015-12-05 that both reference
codes load (the improved-GAN code's ``inception_score.py`` for IS, Salimans et al. 2016 Section 4; TTUR's
``fid.py`` for FID, Heusel et al. 2017), in the layout of its PyTorch port, pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``. rlgen never downloads it: a user who has the file passes its path.

The graph differs from torchvision's ImageNet Inception-v3 in four places, all followed here because the
scores are only comparable with the graph's numbers: 1,008 output classes; no auxiliary head; the average
pools of the A, C and first E blocks leave padding out of the mean (TF's ``avg_pool`` with SAME padding);
and the last E block pools by max, not average. Inputs are 299 x 299 RGB in [-1, 1], resized bilinearly.
Layer names and shapes are those of the port (torchvision's), so its state dict loads as it is.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rlgen.errors import RlgenError

SIZE = 299
FEATURES = 2048
CLASSES = 1008
WEIGHTS_HINT = "pt_inception-2015-12-05-6726825d.pth, from pytorch-fid's GitHub releases"


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, as the TF graph), ReLU."""

    def __init__(self, channels_in: int, channels_out: int, kernel, stride=1, padding=0) -> None:  # noqa: ANN001
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(channels_out, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _same_avg_pool(x: Tensor) -> Tensor:
    """3x3 stride-1 average over the pixels inside the image (TF's SAME padding leaves the pad out)."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, channels_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(channels_in, 64, 1)
        self.branch5x5_1 = BasicConv2d(channels_in, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(channels_in, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(channels_in, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_same_avg_pool(x)),
        ], 1)  # fmt: skip


class InceptionB(nn.Module):
    def __init__(self, channels_in: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(channels_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(channels_in, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), double, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, channels_in: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(channels_in, 192, 1)
        self.branch7x7_1 = BasicConv2d(channels_in, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(channels_in, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(channels_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):  # fmt: skip
            double = layer(double)
        return torch.cat([self.branch1x1(x), single, double, self.branch_pool(_same_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, channels_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(channels_in, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(channels_in, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        seven = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            seven = layer(seven)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """``max_pool``: the graph's last block pools by max (3x3, stride 1, same size); the first by average."""

    def __init__(self, channels_in: int, *, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(channels_in, 320, 1)
        self.branch3x3_1 = BasicConv2d(channels_in, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(channels_in, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(channels_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        single = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _same_avg_pool(x)
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(single), self.branch3x3_2b(single),
            self.branch3x3dbl_3a(double), self.branch3x3dbl_3b(double),
            self.branch_pool(pooled),
        ], 1)  # fmt: skip


class FidInceptionV3(nn.Module):
    """The 2015-12-05 Inception graph: ``forward`` gives (pool3 features (N, 2048), score logits (N, 1008)).

    The score logits leave out the softmax layer's bias: the improved-GAN code's ``inception_score.py``
    multiplies pool3 by the layer's weight matrix alone, so the published Inception scores are computed
    without it (torch-fidelity's "unbiased logits" follow the same code). ``fc.bias`` is loaded but unused."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURES, CLASSES)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x``: RGB images in [-1, 1] of any size (resized to 299 x 299 here)."""
        if x.shape[-2:] != (SIZE, SIZE):
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):  # fmt: skip
            x = block(x)
        features = x.mean((2, 3))
        return features, features @ self.fc.weight.T


def load_inception(path: Path) -> FidInceptionV3:
    """The network with the weights in ``path`` (a state dict, loaded with ``weights_only=True``), in eval
    mode; a one-line error naming the file when it is missing, not a state dict, or another network's."""
    path = Path(path)
    if not path.is_file():
        raise RlgenError(f"Inception weights file {path} not found; give the path of {WEIGHTS_HINT}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - unpickling errors have many types; all mean "not a state dict"
        raise RlgenError(f"cannot read Inception weights {path}: {str(err).splitlines()[0]}; expected "
                         f"{WEIGHTS_HINT}") from None  # fmt: skip
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise RlgenError(f"{path} is not a state dict of tensors; expected {WEIGHTS_HINT}")
    network = FidInceptionV3()
    expected = {k: v.shape for k, v in network.state_dict().items() if not k.endswith("num_batches_tracked")}
    given = {k: v.shape for k, v in state.items() if not k.endswith("num_batches_tracked")}
    if given != expected:
        missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
        reshaped = sorted(k for k in set(given) & set(expected) if given[k] != expected[k])
        first = (missing or extra or reshaped)[0]
        raise RlgenError(f"{path} does not hold the FID Inception weights ({len(missing)} missing, {len(extra)} "
                         f"unexpected, {len(reshaped)} reshaped tensors, e.g. {first!r}); expected "
                         f"{WEIGHTS_HINT}")  # fmt: skip
    network.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
    return network.eval()
