"""InfoGAN (Chen et al. 2016, arXiv 1606.03657): latent codes c appended to the noise z, and a Q head on the
discriminator's trunk that recovers c from G(z, c); the variational lower bound of the mutual information
(Section 5, Eq. 4: L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)} [log Q(c | x)] + H(c)) is maximised by both G and Q.

Codes: ``categorical`` codes (one-hot, uniform over their values; Q predicts logits) and ``continuous``
codes (uniform in [-1, 1]; Q predicts a factored Gaussian's mean with the standard deviation fixed at 1,
as the original code's MNIST set-up does, so log Q is a scaled squared error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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

    def __init__(self, generator: Generator, discriminator: Discriminator, levels: int, *, noise_dim: int,
                 categorical: Sequence[int], continuous: int, ema_decay: float = 0.999):  # fmt: skip
        super().__init__(generator, discriminator, levels, ema_decay=ema_decay)
        if generator.z_dim != noise_dim + sum(categorical) + continuous:
            raise ValueError("the generator's input must be noise_dim + sum(categorical) + continuous")
        self.noise_dim, self.categorical, self.continuous = noise_dim, tuple(categorical), continuous
        self.q_head = QHead(discriminator.feature_dim, categorical, continuous)

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
    def code_probabilities(self, images: Tensor, code: int = 0, batch_size: int = 1000) -> Tensor:
        """Q(c | x) of categorical code ``code`` for integer images (eval mode), in batches."""
        from rlgen.models.likelihoods import to_unit

        was = self.training
        self.eval()
        chunks = [self.q_head(self.discriminator.features(to_unit(part, self.levels)))[0][code].softmax(1)
                  for part in images.split(batch_size)]  # fmt: skip
        self.train(was)
        return torch.cat(chunks)

    def predict_code(self, images: Tensor, code: int = 0) -> Tensor:
        """The most likely value of categorical code ``code`` for integer images (Q on real data)."""
        return self.code_probabilities(images, code).argmax(1)

    def code_information(self, images: Tensor, code: int = 0) -> float:
        """Q's estimate of the mutual information between categorical code ``code`` and real images, in nats:
        H(E_x[Q(c | x)]) - E_x[H(Q(c | x))] (the information-maximisation clustering criterion of Bridle et
        al. 1992 and Krause et al. 2010). It needs no labels. It is log k when Q assigns every image to one
        value with certainty and uses all values equally, and lower when Q hesitates between values on real
        images (two code values sharing a digit) or leaves values unused."""
        from rlgen.models.information import label_information

        return float(label_information(self.code_probabilities(images, code).double()))
