"""Unrolled GAN (Metz et al. 2017, arXiv 1611.02163, Section 2.2): the generator's loss is evaluated
against a copy of the discriminator advanced k optimisation steps, differentiating through those steps
(Eq. 7: f_K(theta_G, theta_D) = f(theta_G, theta_D^K), theta_D^{k+1} = theta_D^k + eta df/dtheta_D^k).

The steps are functional (``torch.func.functional_call`` on a dict of tensors), so the real discriminator's
parameters and buffers are never modified. The paper's experiments unroll with the discriminator's own
optimiser (Adam); this follows Eq. 7 as written, plain gradient steps of size ``lr``, which keeps the
second-order graph small and needs no optimiser state inside the unrolled copy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

DiscriminatorLoss = Callable[[Callable[[Tensor], tuple[Tensor, Tensor]]], Tensor]


def unrolled_parameters(
    discriminator: nn.Module, loss_fn: DiscriminatorLoss, steps: int, lr: float
) -> dict[str, Tensor]:
    """theta_D^k after ``steps`` gradient steps on ``loss_fn(d)``, where ``d(x) -> (logits, features)`` runs the
    discriminator with the current unrolled parameters. The graph keeps the dependence on the generator
    (the fake images inside ``loss_fn`` are not detached), so the generator's gradient sees the unrolling."""
    params = {name: p for name, p in discriminator.named_parameters()}
    buffers = {name: b.clone() for name, b in discriminator.named_buffers()}  # batch-norm statistics stay untouched
    for _ in range(steps):
        loss = loss_fn(lambda x, p=params: functional_call(discriminator, (p, buffers), (x,)))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - lr * g for (name, p), g in zip(params.items(), grads, strict=True)}
    return {**params, **buffers}


def call_with(discriminator: nn.Module, state: dict[str, Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """Run the discriminator with the unrolled parameters ``state``."""
    return functional_call(discriminator, state, (x,))
