"""Generator and discriminator networks and the :class:`GAN` container (generator, discriminator, an
exponential moving average of the generator for evaluation).

Two architectures, chosen by ``arch``:

- ``mlp`` — the MLPs of "Improved Techniques for Training GANs" (Salimans et al. 2016, Section 5 and the
  original MNIST code): generator z -> 500 -> 500 (softplus, batch norm) -> pixels; discriminator with
  Gaussian noise (0.3 on the input, 0.5 after each layer) and weight-normalised layers 1000-500-250-250-250.
- ``conv`` — DCGAN (Radford et al. 2016): the generator is the shared conv decoder stack
  (:mod:`rlgen.models.conv_stacks`) with batch norm and ReLU, the discriminator the shared encoder layout with
  strided convs, batch norm (not on the first layer) and LeakyReLU(0.2).
- ``infogan`` — InfoGAN's MNIST networks (Chen et al. 2016, Appendix C.1), 28x28 only: the ``conv`` layout
  with 64/128 channels, 4x4 kernels, a 1024-unit fully connected layer on each side (``fc_hidden``) and
  LeakyReLU(0.1) as the paper states (the released code's ``leaky_rectify`` defaults to 0.01). Two small
  differences from the released code, shared with ``conv``: the batch norm after the generator's 7x7x128
  dense layer is per channel (the code normalises each of the 6,272 units), and the output is tanh on
  [-1, 1] images (the code's MNIST model ends in a sigmoid on [0, 1]).

Images are integers ``0..levels-1``; networks see them scaled to [-1, 1] and the generator ends in tanh.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from rlgen.models.conv_stacks import DECODERS, ENCODERS, INFOGAN_MNIST_DECODER, INFOGAN_MNIST_ENCODER, _side
from rlgen.models.data_init import WNLinear
from rlgen.models.gan_layers import GaussianNoise, MinibatchDiscrimination, MinibatchStdDev, VirtualBatchNorm
from rlgen.models.likelihoods import from_unit


class Generator(nn.Module):
    """z (N, z_dim) -> image (N, C, H, W) in [-1, 1]. ``norm``: ``batch``, ``virtual`` (VBN with a fixed
    reference batch of ``n_ref`` latent vectors drawn at construction) or ``none``. ``fc_hidden`` (conv):
    fully connected layers before the dense layer that makes the first feature map (InfoGAN's MNIST
    generator has one of 1024)."""

    def __init__(self, image_shape: Sequence[int], z_dim: int, *, arch: str = "mlp", hidden: Sequence[int] = (500, 500),
                 norm: str = "batch", n_ref: int = 64, fc_hidden: Sequence[int] = ()):  # fmt: skip
        super().__init__()
        self.image_shape, self.z_dim, self.norm_kind = tuple(image_shape), z_dim, norm
        self.n_ref = n_ref if norm == "virtual" else 0
        self.register_buffer("reference_z", torch.rand(self.n_ref, z_dim, generator=torch.Generator().manual_seed(0)))
        self.net = self._mlp(hidden) if arch == "mlp" else self._conv(fc_hidden, _conv_layout(arch, image_shape)[1])

    def _norm(self, features: int, conv: bool = False) -> nn.Module:
        if self.norm_kind == "virtual":
            return VirtualBatchNorm(features, self.n_ref)  # handles dense and conv activations
        if self.norm_kind == "batch":
            return nn.BatchNorm2d(features) if conv else nn.BatchNorm1d(features)
        return nn.Identity()

    def _mlp(self, hidden: Sequence[int]) -> nn.Sequential:
        layers: list[nn.Module] = []
        width = self.z_dim
        for h in hidden:
            layers += [nn.Linear(width, h), self._norm(h), nn.Softplus()]
            width = h
        layers += [WNLinear(width, math.prod(self.image_shape)), nn.Tanh(), nn.Unflatten(1, self.image_shape)]
        return nn.Sequential(*layers)

    def _conv(self, fc_hidden: Sequence[int], stack) -> nn.Sequential:  # noqa: ANN001 - (start, convs)
        start, convs = stack
        layers: list[nn.Module] = []
        width = self.z_dim
        for h in fc_hidden:
            layers += [nn.Linear(width, h), self._norm(h), nn.ReLU()]
            width = h
        layers += [nn.Linear(width, math.prod(start)), nn.Unflatten(1, start)]
        layers += [self._norm(start[0], conv=True), nn.ReLU()]
        channels = start[0]
        for i, (out, kernel, stride, pad) in enumerate(convs):
            last = i == len(convs) - 1
            out = self.image_shape[0] if last else out
            layers.append(nn.ConvTranspose2d(channels, out, kernel, stride, pad))
            layers += [nn.Tanh()] if last else [self._norm(out, conv=True), nn.ReLU()]
            channels = out
        return nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        if self.n_ref:
            return self.net(torch.cat([self.reference_z, z]))[self.n_ref :]
        return self.net(z)


class Discriminator(nn.Module):
    """image -> ``features(x)`` (the last hidden layer: feature matching, InfoGAN's Q head, the semi-supervised
    classifier) -> ``logits(features)`` with ``outputs`` logits (1 for a GAN, K for the semi-supervised K+1
    classifier whose fake logit is fixed at 0). Optional minibatch discrimination and minibatch std sit
    between the two."""

    def __init__(self, image_shape: Sequence[int], outputs: int = 1, *, arch: str = "mlp",
                 hidden: Sequence[int] = (1000, 500, 250, 250, 250), input_noise: float = 0.3,
                 hidden_noise: float = 0.5, train_scale: bool = False, minibatch_discrimination: bool = False,
                 mbd_kernels: int = 100, mbd_dim: int = 5, minibatch_std: bool = False,
                 fc_hidden: Sequence[int] = ()):  # fmt: skip
        super().__init__()
        self.trunk, width = (
            self._mlp(image_shape, hidden, input_noise, hidden_noise, train_scale)
            if arch == "mlp" else self._conv(image_shape, fc_hidden, arch)
        )  # fmt: skip
        self.feature_dim = width
        # the noise after the last hidden layer sits after the features, so feature matching compares the
        # layer's clean output (the original MNIST code matches layers[-3], the dense layer before its noise)
        head: list[nn.Module] = [GaussianNoise(hidden_noise)] if arch == "mlp" and hidden_noise > 0 else []
        if minibatch_std:
            head.append(MinibatchStdDev())
            width += 1
        if minibatch_discrimination:
            head.append(MinibatchDiscrimination(width, mbd_kernels, mbd_dim))
            width += mbd_kernels
        self.batch_head = nn.Sequential(*head)
        self.out = WNLinear(width, outputs) if arch == "mlp" else nn.Linear(width, outputs)

    @staticmethod
    def _mlp(shape: Sequence[int], hidden: Sequence[int], input_noise: float, hidden_noise: float,
             train_scale: bool) -> tuple[nn.Module, int]:  # fmt: skip
        """Noise on the input, then weight-normalised ReLU layers each followed by noise (the last one's noise
        is in the head). ``train_scale`` False: the weight-norm scales stay at their data-dependent initial
        values, as in the original code's hidden layers."""
        layers: list[nn.Module] = [nn.Flatten(), GaussianNoise(input_noise)]
        width = math.prod(shape)
        for i, h in enumerate(hidden):
            layers += [GaussianNoise(hidden_noise)] if i else []
            layers += [WNLinear(width, h, train_scale=train_scale), nn.ReLU()]
            width = h
        return nn.Sequential(*layers), width

    @staticmethod
    def _conv(shape: Sequence[int], fc_hidden: Sequence[int] = (), arch: str = "conv") -> tuple[nn.Module, int]:
        """Strided convs, then the ``fc_hidden`` fully connected layers (InfoGAN's MNIST discriminator: 1024)."""
        layers: list[nn.Module] = []
        channels = shape[0]
        convs, _, slope = _conv_layout(arch, shape)
        for i, (out, kernel, stride, pad) in enumerate(convs):
            layers += [nn.Conv2d(channels, out, kernel, stride, pad)]
            layers += [nn.BatchNorm2d(out)] if i else []
            layers += [nn.LeakyReLU(slope)]
            channels = out
        layers.append(nn.Flatten())
        with torch.no_grad():
            width = nn.Sequential(*layers).eval()(torch.zeros(2, *shape)).shape[1]
        for h in fc_hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.LeakyReLU(slope)]
            width = h
        return nn.Sequential(*layers).train(), width  # the probe above left the layers in eval mode

    def features(self, x: Tensor) -> Tensor:
        return self.trunk(x)

    def logits(self, features: Tensor) -> Tensor:
        return self.out(self.batch_head(features))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(logits, features)."""
        f = self.features(x)
        return self.logits(f), f


def _conv_layout(arch: str, image_shape: Sequence[int]):  # noqa: ANN202 - (encoder convs, decoder, slope)
    """(the discriminator's convs, the generator's (start shape, transposed convs), LeakyReLU slope) of
    ``arch`` conv or infogan; infogan exists for 28x28 images only."""
    if arch != "infogan":
        side = _side(image_shape)
        return ENCODERS[side], DECODERS[side], 0.2
    if tuple(image_shape[1:]) != (28, 28):
        raise ValueError(f"arch infogan is InfoGAN's 28x28 MNIST network; got {tuple(image_shape)} images "
                         "(use arch conv for other sizes)")  # fmt: skip
    return INFOGAN_MNIST_ENCODER, INFOGAN_MNIST_DECODER, 0.1


def normal_init(module: nn.Module, std: float) -> None:
    """Weights of every conv, transposed conv and dense layer from N(0, std), biases 0 (DCGAN, Radford et al.
    2016, Section 4, and the InfoGAN code use std 0.02). Weight-normalised layers keep their own init."""
    for layer in module.modules():
        if type(layer) in (nn.Conv2d, nn.ConvTranspose2d, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class GAN(nn.Module):
    """Generator, discriminator and the Polyak/EMA average of the generator's weights that evaluation
    and sampling use (``ema_decay`` 0: the raw generator). ``d_ema_decay`` > 0 also keeps an average of the
    discriminator, which the semi-supervised classifier is evaluated with (the original improved-GAN code
    tests with averaged discriminator parameters). Latents are uniform in [-1, 1] as in the original code;
    InfoGAN appends its codes to them (see :mod:`rlgen.models.infogan`).

    Two details make the averaged generator usable from the first epoch:

    - **warm-up**: update t uses decay min(decay, (1 + t) / (10 + t)), as TensorFlow's
      ``ExponentialMovingAverage(num_updates=t)``, so the average is not dominated by the random
      initialisation for the first ~1/(1 - decay) steps (0.999: a thousand steps, dozens of epochs on
      digits);
    - **standing statistics** (Brock et al. 2019, BigGAN, Appendix C.1): batch-norm running statistics
      belong to the weights that produced them, so the live generator's are wrong for the averaged weights
      (the averaged generator in eval mode drew flat grey images). Before the averaged generator is used,
      its batch-norm statistics are recomputed from ``STANDING_BATCHES`` batches of its own activations.
    """

    def __init__(self, generator: Generator, discriminator: Discriminator, levels: int, *, ema_decay: float = 0.999,
                 d_ema_decay: float = 0.0):  # fmt: skip
        super().__init__()
        self.generator, self.discriminator, self.levels, self.ema_decay = generator, discriminator, levels, ema_decay
        self.d_ema_decay = d_ema_decay
        self.ema_generator = copy.deepcopy(generator).requires_grad_(False) if ema_decay > 0 else None
        self.ema_discriminator = copy.deepcopy(discriminator).requires_grad_(False) if d_ema_decay > 0 else None
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        self._standing_statistics_stale = True

    @property
    def z_dim(self) -> int:
        return self.generator.z_dim

    def sample_z(self, n: int) -> Tensor:
        return torch.rand(n, self.z_dim, device=self.generator.reference_z.device) * 2 - 1

    def update_ema(self) -> None:
        """Update the averaged generator (and discriminator, when kept)."""
        t = int(self.ema_updates)
        if self.ema_generator is not None:
            average_into(self.ema_generator, self.generator, warmed_decay(self.ema_decay, t))
            self._standing_statistics_stale = True
        if self.ema_discriminator is not None:
            average_into(self.ema_discriminator, self.discriminator, warmed_decay(self.d_ema_decay, t))
        self.ema_updates += 1

    AVERAGED = {"ema_generator": "generator", "ema_discriminator": "discriminator"}
    """Each averaged module and the live module it averages."""

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args) -> None:  # noqa: ANN002 - nn.Module's
        # weights saved before the warm-up counter existed load as a long-averaged model
        state_dict.setdefault(prefix + "ema_updates", torch.tensor(10**9))
        strict = args[1]
        if strict:
            self._average_from_live_where_missing(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._standing_statistics_stale = True

    def _average_from_live_where_missing(self, state_dict: dict, prefix: str) -> None:
        """Weights saved by a model that kept no average of a module (InfoGAN ignored d_ema_decay before it kept
        one) start that average from the live module's weights."""
        for average, live in self.AVERAGED.items():
            if getattr(self, average) is None or _has_module(state_dict, prefix + average):
                continue
            for key in [k for k in state_dict if k.startswith(f"{prefix}{live}.")]:
                state_dict[f"{prefix}{average}.{key[len(prefix + live) + 1 :]}"] = state_dict[key]

    def eval_generator(self) -> Generator:
        if self.ema_generator is None:
            return self.generator
        if self._standing_statistics_stale:
            standing_statistics(self.ema_generator, self.sample_z)
            self._standing_statistics_stale = False
        return self.ema_generator

    def eval_discriminator(self) -> Discriminator:
        return self.ema_discriminator if self.ema_discriminator is not None else self.discriminator

    @torch.no_grad()
    def generate(self, z: Tensor) -> Tensor:
        """Images in [-1, 1] from the evaluation generator (eval mode: batch norm uses running statistics)."""
        generator = self.eval_generator()
        was_training = generator.training
        generator.eval()
        x = generator(z)
        generator.train(was_training)
        return x

    def sample(self, n: int) -> Tensor:
        """n integer images."""
        return from_unit(self.generate(self.sample_z(n)), self.levels)


def _has_module(state_dict: dict, name: str) -> bool:
    return any(key.startswith(name + ".") for key in state_dict)


EMA_WARMUP = 10
STANDING_BATCHES, STANDING_BATCH_SIZE = 16, 64


def warmed_decay(decay: float, t: int) -> float:
    """The decay of average update t: min(decay, (1 + t) / (EMA_WARMUP + t)) (TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``)."""
    return min(decay, (1 + t) / (EMA_WARMUP + t))


@torch.no_grad()
def standing_statistics(generator: nn.Module, sample_z) -> None:  # noqa: ANN001 - n -> latents
    """Recompute every batch-norm layer's running mean and variance as the plain average over
    ``STANDING_BATCHES`` passes with only the batch-norm layers in training mode (momentum None; any other
    layer, e.g. a weight-normalised one with data-dependent init, stays as it is), leaving the random
    streams untouched (the CPU one, and the generator's CUDA device's)."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    modes, momenta = {m: m.training for m in generator.modules()}, [m.momentum for m in norms]
    generator.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
        norm.train()
    device = next(generator.buffers()).device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(0)
        for _ in range(STANDING_BATCHES):
            generator(sample_z(STANDING_BATCH_SIZE))
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    for module, training in modes.items():
        module.training = training


@torch.no_grad()
def average_into(average: nn.Module, module: nn.Module, decay: float) -> None:
    """theta_avg <- decay * theta_avg + (1 - decay) * theta; buffers (batch-norm statistics, weight-norm
    initialisation state) are copied (the averaged generator's batch-norm statistics are then recomputed
    by :func:`standing_statistics` before use)."""
    for avg, new in zip(average.parameters(), module.parameters(), strict=True):
        avg.lerp_(new, 1 - decay)
    for avg, new in zip(average.buffers(), module.buffers(), strict=True):
        avg.copy_(new)
