"""SB3's PPO with the same update and less work per minibatch.

:class:`LeanPPO` replaces only ``PPO.train``. The update is SB3 2.x's, step for step (clipped surrogate,
Schulman et al. 2017, Eq. 7; optional value clipping; entropy bonus; approximate-KL early stop; global
grad-norm clipping), and it draws the same minibatch permutation from numpy's RNG, so with the same seed
it produces the same parameters (``tests/test_sb3_fast_math.py`` checks this). What changes:

- the rollout buffer is turned into tensors once per epoch (one permuted copy sliced into minibatches)
  instead of once per minibatch;
- the gradient norm is clipped with two ``torch._foreach`` calls on a parameter list made once, instead of
  ``clip_grad_norm_``'s regrouping of the parameters on every call;
- the logged statistics stay tensors until the end of ``train`` (one ``.item()`` each, not four per
  minibatch); the approximate KL is read per minibatch only when ``target_kl`` needs it.

Where the per-minibatch Python overhead dominates (small MLP policies, 64-sample minibatches, a CPU) this
is most of what an SB3 PPO iteration spends outside the networks; see docs/benchmarks.md.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.utils import explained_variance


class LeanPPO(PPO):
    """PPO whose ``train`` is SB3's update with less per-minibatch overhead (same results, same seed)."""

    def train(self) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        progress = self._current_progress_remaining
        clip_range = self.clip_range(progress)  # type: ignore[operator]
        clip_range_vf = None if self.clip_range_vf is None else self.clip_range_vf(progress)  # type: ignore[operator]
        params = [p for p in self.policy.parameters() if p.requires_grad]
        stats: dict[str, list[torch.Tensor]] = {"pg": [], "value": [], "entropy": [], "clip": [], "kl": []}
        loss = torch.zeros(())
        for epoch in range(self.n_epochs):
            stats["kl"] = []  # SB3 logs the last epoch's approximate KL
            loss, stopped = self._train_epoch(params, clip_range, clip_range_vf, stats)
            self._n_updates += 1
            if stopped:
                if self.verbose >= 1:
                    print(f"Early stopping at step {epoch} due to reaching max kl: {stats['kl'][-1].item():.2f}")
                break
        self._log(stats, loss, clip_range, clip_range_vf)

    def _train_epoch(self, params: list[torch.Tensor], clip_range: float, clip_range_vf: float | None,
                     stats: dict[str, list[torch.Tensor]]) -> tuple[torch.Tensor, bool]:  # fmt: skip
        """One pass over the buffer; (last loss, whether the approximate KL stopped it early, as SB3)."""
        loss = torch.zeros(())
        for batch in self._minibatches():
            loss, approx_kl = self._minibatch_loss(batch, clip_range, clip_range_vf, stats)
            if self.target_kl is not None and approx_kl.item() > 1.5 * self.target_kl:
                return loss, True
            self.policy.optimizer.zero_grad()
            loss.backward()
            _clip_grad_norm(params, self.max_grad_norm)
            self.policy.optimizer.step()
        return loss, False

    def _minibatches(self):  # noqa: ANN202 - yields the buffer's (Dict)RolloutBufferSamples
        """SB3's minibatches: one ``get()`` (one permutation, as SB3 draws) sliced into ``batch_size`` rows."""
        everything = next(self.rollout_buffer.get(None))
        total = self.rollout_buffer.buffer_size * self.rollout_buffer.n_envs
        for start in range(0, total, self.batch_size):
            rows = slice(start, start + self.batch_size)
            yield type(everything)(*(_rows(field, rows) for field in everything))

    def _minibatch_loss(
        self, batch: Any, clip_range: float, clip_range_vf: float | None, stats: dict[str, list[torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        actions = batch.actions
        if isinstance(self.action_space, spaces.Discrete):
            actions = actions.long().flatten()
        values, log_prob, entropy = self.policy.evaluate_actions(batch.observations, actions)
        values = values.flatten()
        advantages = batch.advantages
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        # Schulman et al. 2017, Eq. 7: L^CLIP = E[min(r A, clip(r, 1 - eps, 1 + eps) A)]
        ratio = torch.exp(log_prob - batch.old_log_prob)
        policy_loss = -torch.min(
            advantages * ratio, advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
        ).mean()
        values_pred = values
        if clip_range_vf is not None:
            values_pred = batch.old_values + torch.clamp(values - batch.old_values, -clip_range_vf, clip_range_vf)
        value_loss = F.mse_loss(batch.returns, values_pred)
        entropy_loss = torch.mean(log_prob) if entropy is None else -torch.mean(entropy)
        with torch.no_grad():
            log_ratio = log_prob - batch.old_log_prob
            approx_kl = torch.mean((torch.exp(log_ratio) - 1) - log_ratio)  # Schulman's k3 estimator, as SB3
            logged = {"pg": policy_loss, "value": value_loss, "entropy": entropy_loss, "kl": approx_kl}
            for key, value in logged.items():
                stats[key].append(value.detach())
            stats["clip"].append(torch.mean((torch.abs(ratio - 1) > clip_range).float()))
        return policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss, approx_kl

    def _log(self, stats: dict[str, list[torch.Tensor]], loss: torch.Tensor, clip_range: float,
             clip_range_vf: float | None) -> None:  # fmt: skip
        """The same ``train/`` records as SB3's PPO."""
        buffer = self.rollout_buffer
        names = {"entropy": "entropy_loss", "pg": "policy_gradient_loss", "value": "value_loss", "kl": "approx_kl",
                 "clip": "clip_fraction"}  # fmt: skip
        for key, name in names.items():
            if stats[key]:
                self.logger.record(f"train/{name}", float(torch.stack(stats[key]).double().mean()))
        self.logger.record("train/loss", loss.item())
        self.logger.record(
            "train/explained_variance", explained_variance(buffer.values.flatten(), buffer.returns.flatten())
        )
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", torch.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)


def _rows(field: Any, rows: slice) -> Any:
    return {key: value[rows] for key, value in field.items()} if isinstance(field, dict) else field[rows]


@torch.no_grad()
def _clip_grad_norm(params: list[torch.Tensor], max_norm: float) -> None:
    """``torch.nn.utils.clip_grad_norm_`` (L2, same 1e-6 and clamp at 1) for one device and dtype."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
