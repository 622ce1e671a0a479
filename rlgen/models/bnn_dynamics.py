"""A BNN dynamics model p(s' | s, a) with standardised inputs and targets (VIME's model of the world)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rlgen.models.bnn import BNN, ELBOTerms
from rlgen.models.info_gain import Mode, information_gain
from rlgen.models.standardizer import RunningStandardizer


@dataclass(frozen=True)
class Transitions:
    """A batch of (s, a, s') as float tensors of shape (N, obs_dim), (N, act_dim), (N, obs_dim)."""

    obs: Tensor
    act: Tensor
    next_obs: Tensor

    def __post_init__(self) -> None:
        n = self.obs.shape[0]
        if self.act.shape[0] != n or self.next_obs.shape != self.obs.shape:
            raise ValueError(
                f"transition shapes disagree: obs {tuple(self.obs.shape)}, act {tuple(self.act.shape)}, "
                f"next_obs {tuple(self.next_obs.shape)}"
            )


class BNNDynamics(nn.Module):
    """BNN on standardised [s, a] predicting the standardised s' (or s' - s when ``predict_delta``).

    Standardisation statistics are running statistics over every transition passed to :meth:`observe`.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        *,
        hidden: Sequence[int] = (32,),
        prior_sd: float = 0.5,
        likelihood_sd: float = 5.0,
        predict_delta: bool = False,
    ):
        super().__init__()
        self.bnn = BNN(obs_dim + act_dim, obs_dim, hidden=hidden, prior_sd=prior_sd, likelihood_sd=likelihood_sd)
        self.input_stats = RunningStandardizer(obs_dim + act_dim)
        self.target_stats = RunningStandardizer(obs_dim)
        self.predict_delta = predict_delta

    def _raw_target(self, batch: Transitions) -> Tensor:
        return batch.next_obs - batch.obs if self.predict_delta else batch.next_obs

    def observe(self, batch: Transitions) -> None:
        """Update the standardisation statistics with new transitions."""
        self.input_stats.update(torch.cat([batch.obs, batch.act], dim=1))
        self.target_stats.update(self._raw_target(batch))

    def xy(self, batch: Transitions) -> tuple[Tensor, Tensor]:
        """Standardised inputs and targets."""
        x = self.input_stats(torch.cat([batch.obs, batch.act], dim=1))
        return x, self.target_stats(self._raw_target(batch))

    def elbo(self, batch: Transitions, *, n_samples: int, kl_weight: float) -> ELBOTerms:
        x, y = self.xy(batch)
        return self.bnn.elbo(x, y, n_samples=n_samples, kl_weight=kl_weight)

    def information_gain(
        self, batch: Transitions, *, step_size: float, n_samples: int, mode: Mode, max_kl: float
    ) -> Tensor:
        """VIME's per-transition information gain (see :mod:`rlgen.models.info_gain`)."""
        x, y = self.xy(batch)
        return information_gain(self.bnn, x, y, step_size=step_size, n_samples=n_samples, mode=mode, max_kl=max_kl)

    @torch.no_grad()
    def predict(self, obs: Tensor, act: Tensor) -> Tensor:
        """Posterior-mean prediction of s' in the raw observation scale."""
        x = self.input_stats(torch.cat([obs, act], dim=1))
        target = self.target_stats.inverse(self.bnn.predict_mean(x))
        return obs + target if self.predict_delta else target
