"""Flows: every layer and whole flows invert exactly, and log_det matches the autograd Jacobian."""

from __future__ import annotations

import pytest
import torch

from rlgen.models.data_init import ActNorm
from rlgen.models.flows.coupling import ChannelCoupling, CheckerboardCoupling, CouplingNet, SharedCouplingNet
from rlgen.models.flows.layers import InvConv1x1, Squeeze
from rlgen.models.flows.multiscale import MultiScaleFlow, Split, gaussian_log_prob, glow, realnvp

SHAPE = (1, 4, 2, 2)


@pytest.fixture(autouse=True)
def _float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(previous)


def randomise(module: torch.nn.Module, scale: float = 0.3) -> torch.nn.Module:
    """Perturb every parameter (zero-initialised layers would make couplings trivially the identity)."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))
    return module


def brute_log_det(layer, x: torch.Tensor) -> float:
    jac = torch.autograd.functional.jacobian(lambda v: layer(v.view(x.shape))[0].flatten(), x.flatten())
    return float(torch.linalg.slogdet(jac)[1])


def coupling_net(in_ch, out_ch):
    return CouplingNet(in_ch, out_ch, hidden=8)


def layers():
    actnorm = ActNorm(4)
    actnorm(torch.randn(8, 4, 2, 2) * 3 + 1)  # data-dependent initialisation
    shared = SharedCouplingNet(2, 4, hidden=8, n_steps=3)
    with_heads = SharedCouplingNet(2, 4, hidden=8, n_steps=3, step_heads=True)
    return {
        "actnorm": actnorm,
        "invconv": InvConv1x1(4),
        "invconv_lu": InvConv1x1(4, lu=True),
        "affine": ChannelCoupling(4, coupling_net(2, 4)),
        "affine_flip": ChannelCoupling(4, coupling_net(2, 4), flip=True),
        "additive": ChannelCoupling(4, coupling_net(2, 2), affine=False),
        "checkerboard": CheckerboardCoupling(4, 2, 2, coupling_net(4, 8), parity=1),
        "shared_step2": ChannelCoupling(4, shared, step=2),
        "shared_heads_step1": ChannelCoupling(4, with_heads, step=1),
        "squeeze": Squeeze(),
    }


@pytest.mark.parametrize("name", list(layers()))
def test_layer_inverts_and_log_det_matches_jacobian(name):
    layer = randomise(layers()[name]).eval()
    x = torch.randn(SHAPE) if name != "squeeze" else torch.randn(1, 1, 4, 2)
    y, log_det = layer(x)
    back, inv_log_det = layer.inverse(y)
    torch.testing.assert_close(back, x, atol=1e-5, rtol=0)
    assert log_det.shape == (1,)
    assert abs(float(log_det.detach()) - brute_log_det(layer, x)) < 1e-5
    assert abs(float((inv_log_det + log_det).detach())) < 1e-5


def test_split_round_trip_and_learned_prior():
    split = randomise(Split(4, learned=True))
    x = torch.randn(3, 4, 2, 2)
    (z1, z2), log_p = split(x)
    torch.testing.assert_close(split.inverse(z1, z2), x)
    mean, log_scale = split.prior_params(z1)
    torch.testing.assert_close(log_p, gaussian_log_prob(z2, mean, log_scale))
    assert split.inverse(z1).shape == x.shape  # z2 sampled from the prior


def initialised(flow: MultiScaleFlow, shape) -> MultiScaleFlow:
    flow.train()
    flow.encode(torch.rand(16, *shape) - 0.5)  # ActNorm initialisation
    return randomise(flow, 0.05).eval()


@pytest.mark.parametrize("build", [glow, realnvp])
def test_whole_flow_inverts(build):
    kwargs = {"steps": 3} if build is glow else {}
    flow = initialised(build((1, 4, 4), 17, hidden=8, **kwargs), (1, 4, 4))
    y = torch.rand(2, 1, 4, 4) - 0.5
    top, factored, _ = flow.encode(y)
    torch.testing.assert_close(flow.decode(top, factored), y, atol=1e-5, rtol=0)


def test_realnvp_log_density_matches_brute_force_change_of_variables():
    flow = initialised(realnvp((1, 4, 4), 17, hidden=8), (1, 4, 4))
    y = torch.rand(1, 1, 4, 4) - 0.5

    def latents(v):
        top, factored, _ = flow.encode(v.view(1, 1, 4, 4))
        return torch.cat([z.flatten() for z in factored] + [top.flatten()])

    jac = torch.autograd.functional.jacobian(latents, y.flatten())
    z = latents(y.flatten())
    top, factored, log_p = flow.encode(y)
    n_factored = sum(f.numel() for f in factored)
    prior = gaussian_log_prob(z[:n_factored].view(1, -1), torch.zeros(1), torch.zeros(1))
    prior = prior + gaussian_log_prob(top, flow.top_mean, flow.top_log_scale)
    assert abs(float(log_p) - float(prior + torch.linalg.slogdet(jac)[1])) < 1e-5


@pytest.mark.parametrize("options", [{}, {"lu": False, "affine": False}, {"share_coupling": True, "step_heads": True}])
def test_glow_log_density_matches_brute_force_change_of_variables(options):
    """Glow's learned split prior N(mu(z1), sigma(z1)) is the bijection eps = (z2 - mu(z1)) / sigma(z1) followed
    by N(0, I), so log p(y) = log N(eps; 0, I) + log|det d eps / d y| for the whole flow, computed by autograd."""
    flow = initialised(glow((1, 4, 4), 17, hidden=8, steps=2, **options), (1, 4, 4))
    splits = [m for m in flow.modules() if isinstance(m, Split)]
    assert splits and all(split.prior is not None for split in splits)
    y = torch.rand(1, 1, 4, 4) - 0.5

    def standardised(v):
        kept = []
        hooks = [split.register_forward_hook(lambda _m, _i, out: kept.append(out[0])) for split in splits]
        top, _, _ = flow.encode(v.view(1, 1, 4, 4))
        for hook in hooks:
            hook.remove()
        eps = []
        for split, (z1, z2) in zip(splits, kept, strict=True):
            mean, log_scale = split.prior_params(z1)
            eps.append(((z2 - mean) * torch.exp(-log_scale)).flatten())
        eps.append(((top - flow.top_mean) * torch.exp(-flow.top_log_scale)).flatten())
        return torch.cat(eps)

    jac = torch.autograd.functional.jacobian(standardised, y.flatten())
    eps = standardised(y.flatten())
    brute = gaussian_log_prob(eps.view(1, -1), torch.zeros(1), torch.zeros(1)) + torch.linalg.slogdet(jac)[1]
    _, _, log_p = flow.encode(y)
    assert abs(float(log_p) - float(brute)) < 1e-5


def test_shared_coupling_cuts_coupling_parameters():
    def coupling_params(flow):
        nets = {id(m): m for m in flow.modules() if isinstance(m, CouplingNet)}
        return sum(p.numel() for net in nets.values() for p in net.parameters())

    plain = glow((1, 8, 8), 17, steps=8, hidden=32)
    shared = glow((1, 8, 8), 17, steps=8, hidden=32, share_coupling=True)
    assert coupling_params(shared) <= 0.2 * coupling_params(plain)
    with_heads = glow((1, 8, 8), 17, steps=16, hidden=128, share_coupling=True, step_heads=True)
    assert coupling_params(with_heads) <= 0.1 * coupling_params(glow((1, 8, 8), 17, steps=16, hidden=128))


def test_step_heads_give_each_step_its_own_output():
    net = randomise(SharedCouplingNet(2, 4, hidden=8, n_steps=3, step_heads=True))
    x = torch.randn(2, 2, 4, 4)
    outputs = [net(x, step) for step in range(3)]
    assert outputs[0].shape == (2, 4, 4, 4)
    assert not torch.allclose(outputs[0], outputs[1])
    assert len(net.net) == 4  # the shared body ends in a ReLU: the zero-initialised outputs are per step
    assert all(float(head.weight.abs().sum()) == 0 for head in SharedCouplingNet(2, 4, 8, 3, step_heads=True).heads)


def test_flow_sample_and_loss_shapes():
    flow = glow((1, 8, 8), 17, steps=2, hidden=8)
    x = torch.randint(0, 17, (4, 1, 8, 8))
    loss, metrics = flow.loss(x)
    assert loss.shape == () and metrics["bits_per_dim"] > 0
    samples = flow.eval().sample(3, temperature=0.7)
    assert samples.shape == (3, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 16
