"""One GAN training step (discriminator then generator), with every technique of Salimans et al. 2016 as a
switch, the semi-supervised K+1 objective (Section 5) and InfoGAN's mutual-information term.

Used by ``kind: gan`` and ``kind: infogan`` through the generative trainer's learner hook; the trainer owns
the loop, checkpoints and resume, this owns the two optimisers and the historical averages.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rlgen.errors import RlgenError, TrainingDiverged
from rlgen.models import gan_losses as L
from rlgen.models.diff_augment import diff_augment
from rlgen.models.gan import GAN
from rlgen.models.infogan import InfoGAN
from rlgen.models.likelihoods import to_unit
from rlgen.models.unrolled import call_with, unrolled_parameters


class GanLearner:
    def __init__(self, model: GAN, config, data) -> None:  # noqa: ANN001 - kind Config, DataSource
        self.model, self.t, self.m = model, config.techniques, config.model
        lr, betas = config.train.learning_rate, (self.m.adam_beta1, 0.999)
        d_params = list(model.discriminator.parameters())
        if isinstance(model, InfoGAN):
            d_params += list(model.q_head.parameters())  # Q shares D's trunk and optimiser (original code)
        self.opt_g = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas)
        d_lr = self.m.d_learning_rate if self.m.d_learning_rate is not None else lr
        self.opt_d = torch.optim.Adam(d_params, lr=d_lr, betas=betas)
        self.history = None
        if self.t.historical_averaging > 0:
            self.history = {"g": L.HistoricalAverage(model.generator), "d": L.HistoricalAverage(model.discriminator)}
        self.semisupervised = self.m.objective == "semisupervised"
        if self.semisupervised:
            self.labelled = self._labelled_subset(data)

    def _labelled_subset(self, data) -> tuple[Tensor, Tensor]:  # noqa: ANN001
        train = getattr(data, "train", None)
        if train is None:
            raise RlgenError("the semi-supervised objective needs a labelled dataset (digits, mnist or cifar10)")
        subset = train.per_class(self.m.labels_per_class, self.m.label_seed)
        return subset.tensors()

    # ---------------------------------------------------------------- latents

    def _latent(self, n: int) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        if isinstance(self.model, InfoGAN):
            return self.model.sample_latent(n)
        return self.model.sample_z(n), None

    def _info(self, features: Tensor, codes: tuple[Tensor, Tensor] | None) -> Tensor:
        if codes is None:
            return features.new_zeros(())
        return self.model.info_loss(features, *codes, self.m.lambda_categorical, self.m.lambda_continuous)

    def _seen(self, images: Tensor) -> Tensor:
        """Images as D sees them: augmented when ``techniques.diff_augment`` is on (Zhao et al. 2020, Eq. 2-3:
        the same family of transformations for real and fake images, drawn afresh per image, in both players'
        updates)."""
        return diff_augment(images, self.t.diff_augment) if self.t.diff_augment else images

    # ---------------------------------------------------------------- discriminator

    def _standard_d_loss(self, d, x: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:  # noqa: ANN001 - d(x) -> (logits, features)
        """(loss, the fake images' features)."""
        real_logits, _ = d(self._seen(x))
        fake_logits, fake_features = d(self._seen(fake))
        real_t, fake_t = L.discriminator_targets(
            len(x), len(fake), real_target=self.t.label_smoothing, flip=self.t.label_noise
        )
        return L.discriminator_loss(real_logits, fake_logits, real_t, fake_t), fake_features

    def _semisupervised_d_loss(self, x: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """(loss, the fake images' features)."""
        images, labels = self.labelled
        pick = torch.randint(len(images), (len(x),))
        labelled_logits, _ = self.model.discriminator(self._seen(to_unit(images[pick], self.model.levels)))
        real_logits, _ = self.model.discriminator(self._seen(x))
        fake_logits, fake_features = self.model.discriminator(self._seen(fake))
        supervised = L.semisupervised_supervised_loss(labelled_logits, labels[pick])
        # the original code weights the unlabelled term's two halves by 0.5 each
        unsupervised = L.semisupervised_unsupervised_loss(real_logits, fake_logits)
        return supervised + self.m.unlabelled_weight * 0.5 * unsupervised, fake_features

    def _d_step(self, x: Tensor) -> float:
        z, codes = self._latent(len(x))
        fake = self.model.generator(z).detach()
        if self.semisupervised:
            loss, fake_features = self._semisupervised_d_loss(x, fake)
        else:
            loss, fake_features = self._standard_d_loss(self.model.discriminator, x, fake)
        loss = loss + self._info(fake_features, codes)
        if self.history is not None:
            loss = loss + self.t.historical_averaging * self.history["d"].penalty()
        self._apply(self.opt_d, loss, "discriminator")
        return float(loss.detach())

    # ---------------------------------------------------------------- generator

    def _discriminator_for_generator(self, x: Tensor, fake: Tensor):  # noqa: ANN202 - d(x) -> (logits, features)
        if self.t.unrolled_steps == 0:
            return self.model.discriminator
        detached_real = x.detach()

        def unroll_loss(d) -> Tensor:  # noqa: ANN001
            if self.semisupervised:
                seen_real, seen_fake = self._seen(detached_real), self._seen(fake)
                return 0.5 * L.semisupervised_unsupervised_loss(d(seen_real)[0], d(seen_fake)[0])
            return self._standard_d_loss(d, detached_real, fake)[0]

        state = unrolled_parameters(self.model.discriminator, unroll_loss, self.t.unrolled_steps, self.t.unrolled_lr)
        return lambda images: call_with(self.model.discriminator, state, images)

    def _g_step(self, x: Tensor) -> float:
        z, codes = self._latent(len(x))
        fake = self.model.generator(z)
        d = self._discriminator_for_generator(x, fake)
        seen_fake = self._seen(fake)
        fake_logits, fake_features = d(seen_fake)
        if self.t.feature_matching != "off":
            _, real_features = d(self._seen(x))
            loss = L.feature_matching_loss(real_features, fake_features, self.t.feature_matching)
        elif self.semisupervised:
            # -log D(G(z)) with D = Z / (Z + 1) = sigmoid(logsumexp(l)): the non-saturating loss on that logit
            loss = L.generator_loss(torch.logsumexp(fake_logits, 1))
        else:
            loss = L.generator_loss(fake_logits)
        if codes is not None:
            # L_I is measured by the real Q (on the real discriminator's trunk), not the unrolled copy
            real_d_features = (
                fake_features if d is self.model.discriminator else self.model.discriminator.features(seen_fake)
            )
            loss = loss + self._info(real_d_features, codes)
        if self.history is not None:
            loss = loss + self.t.historical_averaging * self.history["g"].penalty()
        self._apply(self.opt_g, loss, "generator")
        return float(loss.detach())

    # ---------------------------------------------------------------- step

    def _apply(self, optimizer: torch.optim.Optimizer, loss: Tensor, who: str) -> None:
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"the {who} loss became {float(loss)}; lower train.learning_rate")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def step(self, images: Tensor, labels: Tensor) -> dict[str, float]:
        """One discriminator and one generator update on a batch of integer images (labels unused: the
        semi-supervised objective draws from its own labelled subset)."""
        x = to_unit(images, self.model.levels)
        d_loss = self._d_step(x)
        g_loss = self._g_step(x)
        self.model.update_ema()
        if self.history is not None:
            for average in self.history.values():
                average.update()
        return {"d_loss": d_loss, "g_loss": g_loss}

    def state_dict(self) -> dict[str, Any]:
        state = {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}
        if self.history is not None:
            state.update({f"history_{k}": v.state_dict() for k, v in self.history.items()})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.history is not None:
            for key, average in self.history.items():
                average.load_state_dict(state[f"history_{key}"])
