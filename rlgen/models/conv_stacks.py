"""Convolutional encoder/decoder stacks for 8x8, 28x28, 32x32 and 64x64 images, shared by the VAE, the
GANs and the world model.

The 64x64 pair is the World Models VAE (Ha & Schmidhuber 2018, Appendix A.1): encoder 4 convs of
32/64/128/256 channels, kernel 4, stride 2, ReLU (-> 2x2x256 = 1024 features); decoder a dense layer to
1024 then 4 transposed convs 128/64/32/C with kernels 5/5/6/6, stride 2. The smaller sizes follow the same
pattern with fewer layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

# (channels, kernel, stride, padding) per encoder conv, keyed by image side.
ENCODERS: dict[int, list[tuple[int, int, int, int]]] = {
    8: [(32, 3, 1, 1), (64, 3, 2, 1)],
    28: [(32, 3, 2, 1), (64, 3, 2, 1)],
    32: [(32, 4, 2, 1), (64, 4, 2, 1), (128, 4, 2, 1)],
    64: [(32, 4, 2, 0), (64, 4, 2, 0), (128, 4, 2, 0), (256, 4, 2, 0)],
}
# (start shape after the dense layer, then (channels, kernel, stride, padding) per transposed conv;
# the last layer's channels are the output channels, written as 0 here).
DECODERS: dict[int, tuple[tuple[int, int, int], list[tuple[int, int, int, int]]]] = {
    8: ((64, 4, 4), [(32, 4, 2, 1), (0, 3, 1, 1)]),
    28: ((64, 7, 7), [(32, 4, 2, 1), (0, 4, 2, 1)]),
    32: ((128, 4, 4), [(64, 4, 2, 1), (32, 4, 2, 1), (0, 4, 2, 1)]),
    64: ((1024, 1, 1), [(128, 5, 2, 0), (64, 5, 2, 0), (32, 6, 2, 0), (0, 6, 2, 0)]),
}

# InfoGAN's MNIST networks (Chen et al. 2016, Appendix C.1, Table 1; ``arch: infogan`` of the GANs): twice the
# channels of the 28x28 stacks above and 4x4 kernels; 28x28 only.
INFOGAN_MNIST_ENCODER = [(64, 4, 2, 1), (128, 4, 2, 1)]
INFOGAN_MNIST_DECODER = ((128, 7, 7), [(64, 4, 2, 1), (0, 4, 2, 1)])


def _side(image_shape: Sequence[int]) -> int:
    _, h, w = image_shape
    if h != w or h not in ENCODERS:
        raise ValueError(f"conv stacks exist for square 8, 28, 32 and 64 pixel images, got {h}x{w}")
    return h


class ConvEncoder(nn.Module):
    """Image (B, C, H, W) in [-1, 1] -> features (B, out_features)."""

    def __init__(self, image_shape: Sequence[int], out_features: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = image_shape[0]
        for out, kernel, stride, pad in ENCODERS[_side(image_shape)]:
            layers += [nn.Conv2d(channels, out, kernel, stride, pad), nn.ReLU()]
            channels = out
        self.convs = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, *image_shape)).shape[1]
        self.fc = nn.Linear(flat, out_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.convs(x))


class ConvDecoder(nn.Module):
    """Vector (B, in_features) -> map (B, out_channels, H, W) (e.g. a likelihood head's parameters)."""

    def __init__(self, in_features: int, image_shape: Sequence[int], out_channels: int):
        super().__init__()
        start, convs = DECODERS[_side(image_shape)]
        self.start = start
        self.fc = nn.Linear(in_features, start[0] * start[1] * start[2])
        layers: list[nn.Module] = []
        channels = start[0]
        for i, (out, kernel, stride, pad) in enumerate(convs):
            last = i == len(convs) - 1
            out = out_channels if last else out
            layers.append(nn.ConvTranspose2d(channels, out, kernel, stride, pad))
            if not last:
                layers.append(nn.ReLU())
            channels = out
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        h = torch.relu(self.fc(z)).view(z.shape[0], *self.start)
        return self.deconvs(h)
