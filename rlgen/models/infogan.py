"""InfoGAN (Chen et al. 2016, arXiv 1606.03657): latent codes c appended to the noise z, and a Q head on the
discriminator's trunk that recovers c from G(z, c); the variational lower bound of the mutual information
(Section 5, Eq. 4: L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)} [log Q(c | x)] + H(c)) is maximised by both G and Q.

Codes: ``categorical`` codes (one-hot, uniform over their values; Q predicts logits) and ``continuous``
codes (uniform in [-1, 1]; Q predicts a factored Gaussian's mean with the standard deviation fixed at 1,
as the original code's MNIST set-up does, so log Q is a scaled squared error).

With ``d_ema_decay`` > 0 the discriminator's trunk and the Q head are also kept as a Polyak/EMA average, and
Q's predictions on real images (the code as a classifier, the code information) use the average: the test-time
parameter averaging of the improved-GAN code (Salimans et al. 2016; its semi-supervised classifier is tested
with averaged discriminator parameters, ``train_mnist_feature_matching.py``), here for Q. Its batch-norm
statistics are recomputed on real training images before use (standing statistics, BigGAN Appendix C.1), since
the live statistics belong to the live weights.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rlgen.models import gan
from rlgen.models.gan import GAN, Discriminator, Generator


class QHead(nn.Module):
    """features -> (categorical logits per code, continuous means)."""

    def __init__(self, features: int, categorical: Sequence[int], continuous: int, hidden: int = 128):
        super().__init__()
        self.categorical, self.continuous = tuple(categorical), continuous
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.1),
                                 nn.Linear(hidden, sum(self.categorical) + continuous))  # fmt: skip

    def forward(self, features: Tensor) -> tuple[list[Tensor], Tensor]:
        out = self.net(features)
        logits = list(out[:, : sum(self.categorical)].split(self.categorical, dim=1))
        return logits, out[:, sum(self.categorical) :]


class InfoGAN(GAN):
    """A :class:`GAN` whose generator input is [z, one-hot categorical codes, continuous codes]."""

    AVERAGED = {**GAN.AVERAGED, "ema_q_head": "q_head"}

    def __init__(self, generator: Generator, discriminator: Discriminator, levels: int, *, noise_dim: int,
                 categorical: Sequence[int], continuous: int, ema_decay: float = 0.999,
                 d_ema_decay: float = 0.0):  # fmt: skip
        super().__init__(generator, discriminator, levels, ema_decay=ema_decay, d_ema_decay=d_ema_decay)
        if generator.z_dim != noise_dim + sum(categorical) + continuous:
            raise ValueError("the generator's input must be noise_dim + sum(categorical) + continuous")
        self.noise_dim, self.categorical, self.continuous = noise_dim, tuple(categorical), continuous
        self.q_head = QHead(discriminator.feature_dim, categorical, continuous)
        self.ema_q_head = copy.deepcopy(self.q_head).requires_grad_(False) if d_ema_decay > 0 else None
        self._averaged_q_stale = True

    def init_q_head(self, std: float) -> None:
        """N(0, std) weights for the Q head (and its average)."""
        gan.normal_init(self.q_head, std)
        if self.ema_q_head is not None:
            self.ema_q_head.load_state_dict(self.q_head.state_dict())

    def update_ema(self) -> None:
        """Update the averaged generator, and the averaged discriminator trunk and Q head when kept."""
        t = int(self.ema_updates)
        super().update_ema()
        if self.ema_q_head is not None:
            gan.average_into(self.ema_q_head, self.q_head, gan.warmed_decay(self.d_ema_decay, t))
            self._averaged_q_stale = True

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args) -> None:  # noqa: ANN002 - nn.Module's
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._averaged_q_stale = True

    def _q_network(self, averaged: bool) -> nn.Module:
        """images in [-1, 1] -> Q's outputs, through the averaged trunk and head when kept and ``averaged``."""
        if averaged and self.ema_q_head is not None:
            return _QNetwork(self.ema_discriminator, self.ema_q_head)
        return _QNetwork(self.discriminator, self.q_head)

    def refresh_averaged_q(self, images: Tensor) -> None:
        """Standing batch-norm statistics of the averaged trunk and Q head from 1,024 of these (real, integer)
        images; nothing without averages. Call before predicting with the average."""
        from rlgen.models.likelihoods import to_unit

        if self.ema_q_head is None:
            return

        def real_batch(n: int) -> Tensor:
            return to_unit(images[torch.randint(len(images), (n,))], self.levels)

        gan.standing_statistics(_QNetwork(self.ema_discriminator, self.ema_q_head), real_batch)
        self._averaged_q_stale = False

    def sample_codes(self, n: int) -> tuple[Tensor, Tensor]:
        """(categorical code values (n, n_categorical) as integers, continuous codes (n, continuous))."""
        cats = (
            torch.stack([torch.randint(k, (n,)) for k in self.categorical], 1)
            if self.categorical
            else torch.zeros(n, 0, dtype=torch.long)
        )
        return cats, torch.rand(n, self.continuous) * 2 - 1

    def latent(self, noise: Tensor, cats: Tensor, cont: Tensor) -> Tensor:
        one_hot = [F.one_hot(cats[:, i], k).float() for i, k in enumerate(self.categorical)]
        return torch.cat([noise, *one_hot, cont], 1)

    def sample_latent(self, n: int) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """(generator input [noise, codes], (categorical values, continuous codes)) for n samples."""
        cats, cont = self.sample_codes(n)
        return self.latent(torch.rand(n, self.noise_dim) * 2 - 1, cats, cont), (cats, cont)

    def sample_z(self, n: int) -> Tensor:
        return self.sample_latent(n)[0]

    def info_loss(self, features: Tensor, cats: Tensor, cont: Tensor, lambda_cat: float, lambda_cont: float) -> Tensor:
        """-L_I (without the constant H(c)): lambda_cat * CE(categorical) + lambda_cont * Gaussian NLL (std 1)."""
        logits, means = self.q_head(features)
        loss = features.new_zeros(())
        for i, code_logits in enumerate(logits):
            loss = loss + lambda_cat * F.cross_entropy(code_logits, cats[:, i])
        if self.continuous:
            nll = 0.5 * (cont - means) ** 2 + 0.5 * math.log(2 * math.pi)
            loss = loss + lambda_cont * nll.sum(1).mean()
        return loss

    @torch.no_grad()
    def code_probabilities(self, images: Tensor, code: int = 0, batch_size: int = 1000,
                           averaged: bool = True) -> Tensor:  # fmt: skip
        """Q(c | x) of categorical code ``code`` for integer images (eval mode), in batches; with the averaged
        trunk and Q head when the model keeps them and ``averaged`` (see :meth:`refresh_averaged_q`)."""
        from rlgen.models.likelihoods import to_unit

        if averaged and self.ema_q_head is not None and self._averaged_q_stale:
            raise RuntimeError("the averaged Q's batch-norm statistics are stale: call refresh_averaged_q first")
        network, was = self._q_network(averaged), self.training
        self.eval()
        chunks = [network(to_unit(part, self.levels))[0][code].softmax(1) for part in images.split(batch_size)]
        self.train(was)
        return torch.cat(chunks)

    def predict_code(self, images: Tensor, code: int = 0, averaged: bool = True) -> Tensor:
        """The most likely value of categorical code ``code`` for integer images (Q on real data)."""
        return self.code_probabilities(images, code, averaged=averaged).argmax(1)

    def code_information(self, images: Tensor, code: int = 0, averaged: bool = True) -> float:
        """Q's estimate of the mutual information between categorical code ``code`` and real images, in nats:
        H(E_x[Q(c | x)]) - E_x[H(Q(c | x))] (the information-maximisation clustering criterion of Bridle et
        al. 1992 and Krause et al. 2010). It needs no labels. It is log k when Q assigns every image to one
        value with certainty and uses all values equally, and lower when Q hesitates between values on real
        images (two code values sharing a digit) or leaves values unused."""
        from rlgen.models.information import label_information

        return float(label_information(self.code_probabilities(images, code, averaged=averaged).double()))


class _QNetwork(nn.Module):
    """A discriminator trunk and a Q head as one module: images -> Q's outputs."""

    def __init__(self, discriminator: Discriminator, q_head: QHead):
        super().__init__()
        self.discriminator, self.q_head = discriminator, q_head

    def forward(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        return self.q_head(self.discriminator.features(x))
