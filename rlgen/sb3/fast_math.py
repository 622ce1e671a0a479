"""Two speed settings for SB3 training that change how, not what, it computes.

- Adam's fused kernel (torch >= 2.4, CPU and CUDA): one kernel updates every parameter tensor instead of
  about ten small ops per tensor. Same update rule (Kingma & Ba 2015, Algorithm 1), up to float rounding.
- No argument validation in ``torch.distributions`` while training: SB3 builds a new distribution for every
  minibatch and every env step, and validation checks each parameter tensor every time. A policy whose
  parameters became NaN is still caught: NaN actions give NaN rewards or losses, which
  :class:`rlgen.sb3.callbacks.TrainingGuard` turns into a clear "training diverged" error (with validation
  on, the same fault was a ValueError traceback from deep inside SB3).

On Pendulum PPO (4 envs, 64-sample minibatches) the two together cut a training iteration by ~17%
(``docs/benchmarks.md``, GAIL vs imitation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.distributions import Distribution

FUSED_DEVICES = ("auto", "cpu", "cuda")


def with_fused_adam(kwargs: dict[str, Any], device: str) -> dict[str, Any]:
    """``kwargs`` with ``policy_kwargs.optimizer_kwargs.fused = True`` where that is safe: the optimiser is
    SB3's default Adam and the config chose neither ``fused`` nor ``foreach`` itself."""
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    optimizer_kwargs = dict(policy_kwargs.get("optimizer_kwargs") or {})
    chosen = {"fused", "foreach"} & optimizer_kwargs.keys()
    if policy_kwargs.get("optimizer_class", torch.optim.Adam) is not torch.optim.Adam or chosen:
        return kwargs
    if not any(device.startswith(name) for name in FUSED_DEVICES):
        return kwargs
    policy_kwargs["optimizer_kwargs"] = {**optimizer_kwargs, "fused": True}
    return {**kwargs, "policy_kwargs": policy_kwargs}


@contextmanager
def distribution_validation_off() -> Iterator[None]:
    """Turn off ``torch.distributions`` argument validation inside the block; restore it afterwards."""
    before = Distribution._validate_args
    Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(before)
