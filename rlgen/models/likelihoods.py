"""Likelihood heads for images of discrete levels: Bernoulli, categorical, discretised logistic (and its
mixture), discretised Gaussian (learned or fixed variance).

Convention shared by every image model: data are integer levels ``x`` in ``{0, ..., L-1}`` with shape
``(B, C, H, W)``; networks see ``to_unit(x)`` in ``[-1, 1]``. A head maps a network's output ``params``
(``head.param_channels(C)`` channels) to ``log_prob(params, x)`` in nats per example (summed over C, H, W)
and samples integer levels. Bits/dim: ``nll / (C * H * W * ln 2)`` (:func:`bits_per_dim`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def to_unit(x: Tensor, levels: int) -> Tensor:
    """Integer levels -> floats in [-1, 1] (level 0 -> -1, level L-1 -> 1)."""
    return x.float() * (2.0 / (levels - 1)) - 1.0


def from_unit(u: Tensor, levels: int) -> Tensor:
    """Floats in [-1, 1] -> the nearest integer level (long)."""
    return torch.round((u.clamp(-1, 1) + 1.0) * (levels - 1) / 2.0).long()


def bits_per_dim(nll_nats: Tensor, dims: int) -> Tensor:
    """Negative log-likelihood in nats per example -> bits per dimension."""
    return nll_nats / (dims * math.log(2.0))


class LikelihoodHead:
    """p(x | params) over ``levels`` values per sub-pixel; subclasses define the per-pixel log-probability."""

    def __init__(self, levels: int):
        if levels < 2:
            raise ValueError(f"levels must be >= 2, got {levels}")
        self.levels = levels

    def param_channels(self, channels: int) -> int:
        raise NotImplementedError

    def pixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """log p(x[b, :, i, j]) for every pixel, shape (B, H, W) (channels of a pixel jointly)."""
        raise NotImplementedError

    def sample(self, params: Tensor, channels: int) -> Tensor:
        raise NotImplementedError

    def typical(self, params: Tensor, channels: int) -> Tensor:
        """A noise-free image for display (the location, where the head has one; else a sample)."""
        return self.sample(params, channels)

    def log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """log p(x) per example, in nats, shape (B,)."""
        return self.pixel_log_prob(params, x).flatten(1).sum(1)


class Bernoulli(LikelihoodHead):
    """Binary pixels; ``params`` are logits, one per sub-pixel."""

    def __init__(self, levels: int = 2):
        if levels != 2:
            raise ValueError(f"the Bernoulli head needs binary data (levels 2), got levels {levels}")
        super().__init__(2)

    def param_channels(self, channels: int) -> int:
        return channels

    def pixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        return -F.binary_cross_entropy_with_logits(params, x.float(), reduction="none").sum(1)

    def sample(self, params: Tensor, channels: int) -> Tensor:
        return torch.bernoulli(torch.sigmoid(params)).long()


class Categorical(LikelihoodHead):
    """A softmax over the L levels of each sub-pixel (PixelCNN's 256-way softmax, van den Oord et al. 2016)."""

    def param_channels(self, channels: int) -> int:
        return channels * self.levels

    def _logits(self, params: Tensor) -> Tensor:
        b, _, h, w = params.shape
        return params.view(b, -1, self.levels, h, w)

    def pixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        log_p = F.log_softmax(self._logits(params), dim=2)
        return log_p.gather(2, x.long().unsqueeze(2)).squeeze(2).sum(1)

    def sample(self, params: Tensor, channels: int) -> Tensor:
        logits = self._logits(params).movedim(2, -1)
        return torch.distributions.Categorical(logits=logits).sample()


def _discretised_log_prob(x: Tensor, levels: int, mean: Tensor, log_scale: Tensor, cdf, log_pdf) -> Tensor:
    """log P(bin of x) for a continuous density discretised into L bins of width 2/(L-1) on [-1, 1], the
    edge bins extended to -inf / +inf (Salimans et al. 2017, PixelCNN++, Section 2.1). ``x`` are integer
    levels; ``cdf(t)`` and ``log_pdf(t)`` take the standardised value t = (v - mean) / scale."""
    half_bin = 1.0 / (levels - 1)
    centred = to_unit(x, levels) - mean
    inv_scale = torch.exp(-log_scale)
    upper, lower = inv_scale * (centred + half_bin), inv_scale * (centred - half_bin)
    cdf_upper, cdf_lower = cdf(upper), cdf(lower)
    log_cdf_upper = torch.log(cdf_upper.clamp_min(1e-12))
    log_sf_lower = torch.log((1 - cdf_lower).clamp_min(1e-12))
    delta = cdf_upper - cdf_lower
    # Where the bin mass underflows, use the density at the centre times the bin width (as PixelCNN++).
    mid = log_pdf(inv_scale * centred) - log_scale + math.log(2 * half_bin)
    inner = torch.where(delta > 1e-5, torch.log(delta.clamp_min(1e-12)), mid)
    return torch.where(x == 0, log_cdf_upper, torch.where(x == levels - 1, log_sf_lower, inner))


def _logistic_log_pdf(t: Tensor) -> Tensor:
    return t - 2 * F.softplus(t)


def _gaussian_cdf(t: Tensor) -> Tensor:
    return 0.5 * (1 + torch.erf(t / math.sqrt(2)))


def standard_normal_log_prob(t: Tensor) -> Tensor:
    """log N(t; 0, 1) per element."""
    return -0.5 * t**2 - 0.5 * math.log(2 * math.pi)


def gaussian_log_density(z: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """log N(z; mean, exp(log_std)^2) per element (continuous latents: flow priors, VAE priors)."""
    return standard_normal_log_prob((z - mean) * torch.exp(-log_std)) - log_std


class _DiscretisedLocationScale(LikelihoodHead):
    """A location-scale density per sub-pixel discretised to L bins; ``params``: C means then C log-scales.
    Subclasses name the standard density's ``cdf``, ``log_pdf`` and ``noise`` (a standard draw)."""

    min_log_scale = -7.0

    @staticmethod
    def cdf(t: Tensor) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def log_pdf(t: Tensor) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def noise(like: Tensor) -> Tensor:
        raise NotImplementedError

    def param_channels(self, channels: int) -> int:
        return 2 * channels

    def _mean_log_scale(self, params: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_scale = params.chunk(2, dim=1)
        return mean, log_scale.clamp_min(self.min_log_scale)

    def pixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        mean, log_scale = self._mean_log_scale(params)
        return _discretised_log_prob(x, self.levels, mean, log_scale, self.cdf, self.log_pdf).sum(1)

    def sample(self, params: Tensor, channels: int) -> Tensor:
        mean, log_scale = self._mean_log_scale(params)
        return from_unit(mean + log_scale.exp() * self.noise(mean), self.levels)

    def typical(self, params: Tensor, channels: int) -> Tensor:
        return from_unit(self._mean_log_scale(params)[0], self.levels)


def _logistic_noise(like: Tensor) -> Tensor:
    u = torch.rand_like(like).clamp(1e-5, 1 - 1e-5)
    return u.log() - (-u).log1p()


class DiscretisedLogistic(_DiscretisedLocationScale):
    """One logistic per sub-pixel, discretised to L bins (Kingma et al. 2016, IAF paper, Section 5.2)."""

    cdf = staticmethod(torch.sigmoid)
    log_pdf = staticmethod(_logistic_log_pdf)
    noise = staticmethod(_logistic_noise)


class DiscretisedGaussian(_DiscretisedLocationScale):
    """A Gaussian per sub-pixel discretised to L bins (the VAE's "Gaussian" decoder made a proper pmf, so its
    bits/dim compare with the other heads)."""

    cdf = staticmethod(_gaussian_cdf)
    log_pdf = staticmethod(standard_normal_log_prob)
    noise = staticmethod(torch.randn_like)


class FixedGaussian(DiscretisedGaussian):
    """The World Models VAE's L2 loss made a pmf (Ha & Schmidhuber 2018; hardmaru/WorldModelsExperiments,
    ``vae.py``: r_loss = sum (x - y)^2 with pixels in [0, 1]). That is -log N(x; y, 1/2) up to a constant,
    i.e. sigma = sqrt(1/2) on [0, 1] and sqrt(2) on the heads' [-1, 1] scale; here discretised to L bins so
    bits/dim stay defined. ``params``: the C means only. A learned scale can explain a frame's detail as noise
    early in training (the decoder then predicts the mean frame and z stays unused); the fixed, wide scale
    makes the loss a plain squared error that every pixel's mean must answer."""

    log_scale = 0.5 * math.log(2.0)

    def param_channels(self, channels: int) -> int:
        return channels

    def sample(self, params: Tensor, channels: int) -> Tensor:
        """The location: the fixed sd (0.7 on [0, 1]) weights the loss, it does not model pixel noise, and a
        draw would hide the image (the original code shows the decoder's output)."""
        return self.typical(params, channels)

    def _mean_log_scale(self, params: Tensor) -> tuple[Tensor, Tensor]:
        return params, torch.full_like(params, self.log_scale)


class DiscretisedLogisticMixture(LikelihoodHead):
    """Mixture of K discretised logistics per pixel with linear dependence between channels
    (Salimans et al. 2017, PixelCNN++, Sections 2.1-2.2): the mean of channel c is shifted by
    sum_{j<c} coeff_{cj} * x_j, so the channels of a pixel are modelled jointly.

    ``params`` per pixel: K mixture logits, then K*C means, K*C log-scales, K*C(C-1)/2 coefficients.
    """

    min_log_scale = -7.0

    def __init__(self, levels: int, components: int = 5):
        super().__init__(levels)
        self.components = components

    def param_channels(self, channels: int) -> int:
        k = self.components
        return k + 2 * k * channels + k * channels * (channels - 1) // 2

    def _split(self, params: Tensor, channels: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        b, _, h, w = params.shape
        k, c = self.components, channels
        n_coeff = c * (c - 1) // 2
        logits, means, log_scales, coeffs = params.split([k, k * c, k * c, k * n_coeff], dim=1)
        means = means.view(b, k, c, h, w)
        log_scales = log_scales.view(b, k, c, h, w).clamp_min(self.min_log_scale)
        return logits, means, log_scales, torch.tanh(coeffs.view(b, k, n_coeff, h, w))

    @staticmethod
    def _coupled_means(means: Tensor, coeffs: Tensor, x_unit: Tensor) -> Tensor:
        """means[:, :, c] + sum_{j<c} coeff * x_j (x_unit broadcast over the K components)."""
        out, index = [means[:, :, 0]], 0
        for c in range(1, means.shape[2]):
            shifted = means[:, :, c]
            for j in range(c):
                shifted = shifted + coeffs[:, :, index] * x_unit[:, None, j]
                index += 1
            out.append(shifted)
        return torch.stack(out, dim=2)

    def pixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        channels = x.shape[1]
        logits, means, log_scales, coeffs = self._split(params, channels)
        means = self._coupled_means(means, coeffs, to_unit(x, self.levels))
        x_k = x.unsqueeze(1).expand_as(means)
        per_channel = _discretised_log_prob(x_k, self.levels, means, log_scales, torch.sigmoid, _logistic_log_pdf)
        return torch.logsumexp(per_channel.sum(2) + F.log_softmax(logits, dim=1), dim=1)

    def sample(self, params: Tensor, channels: int) -> Tensor:
        logits, means, log_scales, coeffs = self._split(params, channels)
        pick = torch.distributions.Categorical(logits=logits.movedim(1, -1)).sample()  # (B, H, W)
        one_hot = F.one_hot(pick, self.components).movedim(-1, 1).unsqueeze(2).float()  # (B, K, 1, H, W)
        mean, log_scale = (means * one_hot).sum(1), (log_scales * one_hot).sum(1)
        coeff = (coeffs * one_hot).sum(1)
        raw = mean + log_scale.exp() * _logistic_noise(mean)
        out, index = [], 0
        for c in range(channels):
            value = raw[:, c]
            for j in range(c):
                value = value + coeff[:, index] * out[j]
                index += 1
            out.append(value.clamp(-1, 1))
        return from_unit(torch.stack(out, dim=1), self.levels)


HEADS = {
    "bernoulli": Bernoulli,
    "categorical": Categorical,
    "logistic": DiscretisedLogistic,
    "logistic_mixture": DiscretisedLogisticMixture,
    "gaussian": DiscretisedGaussian,
    "l2": FixedGaussian,
}


def make_head(name: str, levels: int, **kwargs) -> LikelihoodHead:
    """A head by its config name (``bernoulli``, ``categorical``, ``logistic``, ``logistic_mixture``, ``gaussian``,
    ``l2``)."""
    if name not in HEADS:
        raise ValueError(f"unknown likelihood {name!r}; choose one of {', '.join(HEADS)}")
    return HEADS[name](levels, **kwargs)
