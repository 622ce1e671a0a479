"""Image-model parts: likelihood heads are normalised, autoregressive masks are causal, data-dependent init."""

from __future__ import annotations

import itertools

import pytest
import torch

from rlgen.models.data_init import ActNorm, WNConv2d, WNLinear
from rlgen.models.likelihoods import HEADS, bits_per_dim, from_unit, make_head, to_unit
from rlgen.models.masked import MADE, DownRightShiftedConv2d, DownShiftedConv2d, MaskedConv2d, down_shift, right_shift
from rlgen.models.vae import VAE


def all_values(channels: int, levels: int) -> torch.Tensor:
    """Every possible 1x1 image: (levels**channels, channels, 1, 1)."""
    grid = list(itertools.product(range(levels), repeat=channels))
    return torch.tensor(grid).view(-1, channels, 1, 1)


@pytest.mark.parametrize("name", list(HEADS))
@pytest.mark.parametrize("channels", [1, 3])
def test_each_head_sums_to_one_over_all_levels_of_a_pixel(name, channels):
    torch.manual_seed(0)
    levels = 2 if name == "bernoulli" else 5
    head = make_head(name, levels)
    x = all_values(channels, levels)
    params = torch.randn(1, head.param_channels(channels), 1, 1).expand(len(x), -1, -1, -1)
    total = head.log_prob(params, x).exp().sum()
    assert abs(float(total) - 1.0) < 1e-5
    sample = head.sample(params[:1].expand(4, -1, -1, -1), channels)
    assert sample.shape == (4, channels, 1, 1) and sample.min() >= 0 and sample.max() < levels


def test_discretised_logistic_puts_mass_near_its_mean():
    head = make_head("logistic", 17)
    x = torch.arange(17).view(17, 1, 1, 1)
    params = torch.tensor([to_unit(torch.tensor(8), 17), -3.0]).view(1, 2, 1, 1).expand(17, -1, -1, -1)
    assert int(head.log_prob(params, x).argmax()) == 8
    assert from_unit(to_unit(x, 17), 17).equal(x)
    assert float(bits_per_dim(torch.tensor(64 * 2.0), 64)) == pytest.approx(2.0 / 0.6931471805599453)


def test_l2_head_trains_like_the_world_models_squared_error():
    """Away from the edge bins, d(-log p)/d(mean) of the fixed Gaussian equals d/d(y) of sum (x - y)^2 on
    [0, 1] pixels (the World Models VAE loss), with y = (mean + 1) / 2."""
    head = make_head("l2", 256)
    x = torch.randint(20, 236, (2, 3, 4, 4))
    mean = (torch.rand(2, 3, 4, 4) * 0.8 - 0.4).requires_grad_(True)
    (-head.log_prob(mean, x).sum()).backward()
    y = ((mean + 1) / 2).detach().requires_grad_(True)
    ((x / 255.0 - y) ** 2).sum().backward()
    assert torch.allclose(mean.grad, y.grad / 2, atol=1e-4)  # dy/dmean = 1/2
    assert head.param_channels(3) == 3
    vae = VAE((3, 8, 8), 256, latent_dim=4, likelihood="l2")  # shows the decoder's output, not sd-0.7 noise
    z = torch.randn(2, 4)
    assert vae.decode_sample(z).equal(vae.decode_typical(z))


def test_unknown_head_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown likelihood 'gausian'"):
        make_head("gausian", 17)


def dependence(fn, x: torch.Tensor, out_index) -> torch.Tensor:
    """|d out[out_index] / d x| per input element."""
    x = x.clone().requires_grad_(True)
    fn(x)[out_index].sum().backward()
    return x.grad.abs()


@pytest.mark.parametrize("ordering", ["natural", "reversed", "random", [2, 0, 4, 1, 3]])
def test_made_output_depends_only_on_earlier_inputs(ordering):
    torch.manual_seed(0)
    made = MADE(5, hidden=[16, 16], out_per_dim=2, ordering=ordering, context_dim=3)
    degrees = made.input_degrees
    context = torch.randn(1, 3)
    for i in range(5):
        grad = dependence(lambda v: made(v, context), torch.randn(1, 5), (slice(None), slice(None), i))
        later = degrees >= degrees[i]
        assert float(grad[0, later].sum()) == 0.0
        assert float(grad[0, ~later].sum()) > 0 or int(degrees[i]) == 1


def raster_order_dependence(net, size: int = 5, channels: int = 1) -> torch.Tensor:
    """(size*size, size*size) 0/1 matrix: entry [i, j] = output pixel i depends on input pixel j."""
    deps = torch.zeros(size * size, size * size)
    for i in range(size * size):
        grad = dependence(net, torch.randn(1, channels, size, size), (0, slice(None), i // size, i % size))
        deps[i] = (grad.sum(1).flatten() > 0).float()
    return deps


def test_masked_conv_stack_is_causal_and_has_a_blind_spot():
    torch.manual_seed(0)
    stack = torch.nn.Sequential(MaskedConv2d(1, 4, 3, "A"), *[MaskedConv2d(4, 4, 3, "B") for _ in range(4)])
    deps = raster_order_dependence(stack)
    assert float(torch.triu(deps).sum()) == 0.0  # never itself or a later pixel
    # The blind spot (van den Oord et al. 2016b, Figure 1): pixel (4, 1) never sees (3, 4), above and to its right.
    assert deps[4 * 5 + 1, 3 * 5 + 4] == 0


def test_shifted_vertical_and_horizontal_stacks_are_causal_without_blind_spot():
    torch.manual_seed(0)
    v_first, h_first = DownShiftedConv2d(1, 4, (2, 3)), DownRightShiftedConv2d(1, 4, (1, 2))
    v_layers = [DownShiftedConv2d(4, 4, (2, 3)) for _ in range(4)]
    h_layers = [DownRightShiftedConv2d(4, 4, (1, 2)) for _ in range(4)]

    def two_stacks(x):
        v, h = down_shift(v_first(x)), right_shift(h_first(x))
        for vl, hl in zip(v_layers, h_layers, strict=True):
            v, h = torch.tanh(vl(v)), torch.tanh(hl(h) + v)  # v already sees only rows above: no extra shift
        return h + v

    deps = raster_order_dependence(two_stacks)
    assert float(torch.triu(deps).sum()) == 0.0
    assert deps[4 * 5 + 1, 3 * 5 + 4] == 1  # the masked stack's blind spot is seen here
    assert float(torch.tril(deps, -1).sum()) == 5 * 5 * 24 / 2  # every earlier pixel is seen


def test_actnorm_and_weight_norm_initialise_from_the_first_batch_only():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 4, 4) * 5 + 2
    actnorm = ActNorm(3)
    y, _ = actnorm(x)
    assert y.mean(dim=(0, 2, 3)).abs().max() < 1e-5 and (y.std(dim=(0, 2, 3)) - 1).abs().max() < 1e-2
    before = actnorm.bias.clone()
    actnorm(x * 3)
    assert torch.equal(actnorm.bias, before)  # not re-initialised
    conv = WNConv2d(3, 6, 3, padding=1)
    out = conv(x)
    assert out.mean(dim=(0, 2, 3)).abs().max() < 1e-4 and (out.std(dim=(0, 2, 3)) - 1).abs().max() < 1e-2
    linear = WNLinear(8, 5)
    out = linear(torch.randn(128, 8) * 4)
    assert out.mean(0).abs().max() < 1e-4
    restored = WNLinear(8, 5)
    restored.load_state_dict(linear.state_dict())
    assert bool(restored.initialized)


def test_pixelcnn_is_causal_without_blind_spot_and_conditions():
    from rlgen.models.pixelcnn import PixelCNN

    torch.manual_seed(0)
    model = PixelCNN((1, 5, 5), 4, channels=8, n_layers=4, cond_dim=3, spatial_channels=2)
    cond, spatial = torch.randn(1, 3), torch.randn(1, 2, 5, 5)

    def unit_input_params(v):  # gradients w.r.t. the (float) input image, through the first convolutions
        from rlgen.models.masked import down_shift, right_shift

        vv, hh = down_shift(model.first_v(v)), right_shift(model.first_h(v))
        for layer in model.layers:
            vv, hh = layer(vv, hh, cond, spatial)
        return model.out(hh)

    deps = raster_order_dependence(unit_input_params)
    assert float(torch.triu(deps).sum()) == 0.0
    assert float(torch.tril(deps, -1).sum()) == 5 * 5 * 24 / 2  # no blind spot
    x = torch.randint(0, 4, (2, 1, 5, 5))
    assert not torch.allclose(
        model.log_prob(x, torch.randn(2, 3), spatial=spatial.expand(2, -1, -1, -1)),
        model.log_prob(x, torch.randn(2, 3), spatial=spatial.expand(2, -1, -1, -1)),
    )
    samples = model.sample(2, torch.randn(2, 3), spatial=spatial.expand(2, -1, -1, -1))
    assert samples.shape == (2, 1, 5, 5) and samples.max() < 4


def test_pixelcnn_row_params_from_the_receptive_field_equal_the_full_image_params():
    """Sampling reads each row's parameters from a window of receptive_field rows; they must be exact."""
    from rlgen.models.pixelcnn import PixelCNN

    torch.manual_seed(0)
    for layers, kernel in ((2, 3), (3, 5)):
        model = PixelCNN((3, 20, 7), 16, channels=8, n_layers=layers, kernel=kernel, cond_dim=3, spatial_channels=2)
        x, cond, spatial = torch.randint(0, 16, (2, 3, 20, 7)), torch.randn(2, 3), torch.randn(2, 2, 20, 7)
        full = model.params(x, cond, spatial=spatial)
        for row in range(20):
            assert torch.allclose(model.row_params(x, row, cond, spatial=spatial), full[:, :, row : row + 1], atol=1e-6)


def test_iaf_log_density_matches_brute_force_change_of_variables():
    from rlgen.models.iaf import IAFPosterior

    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        posterior = IAFPosterior(features=6, latent_dim=4, steps=3, hidden=(16,), context_dim=5)
        for p in posterior.parameters():
            p.data.add_(0.3 * torch.randn_like(p))
        features, eps = torch.randn(1, 6), torch.randn(1, 4)
        z, log_q = posterior.sample(features, eps)
        jac = torch.autograd.functional.jacobian(
            lambda e: posterior.sample(features, e.view(1, 4))[0].flatten(), eps.flatten()
        )
        brute = torch.distributions.Normal(0.0, 1.0).log_prob(eps).sum() - torch.linalg.slogdet(jac)[1]
        assert abs(float(log_q.sum()) - float(brute)) < 1e-8
        assert float((jac - torch.diag(torch.diagonal(jac))).abs().sum()) > 1e-3  # autoregressive, not diagonal
    finally:
        torch.set_default_dtype(torch.float32)


def test_weight_norm_with_a_frozen_scale_keeps_its_initial_scale():
    """train_scale=False (the original improved-GAN hidden layers): g is set from the first batch, is not a
    parameter the optimiser can grow, and survives a save/load."""
    torch.manual_seed(0)
    frozen = WNLinear(8, 5, train_scale=False)
    frozen(torch.randn(128, 8) * 4)
    assert "g" not in dict(frozen.named_parameters()) and "g" in frozen.state_dict()
    initial_g = frozen.g.clone()
    assert not torch.allclose(initial_g, torch.ones(5))
    optimizer = torch.optim.SGD(frozen.parameters(), lr=1.0)
    frozen(torch.randn(16, 8)).pow(2).sum().backward()
    optimizer.step()
    assert torch.equal(frozen.g, initial_g)
    restored = WNLinear(8, 5, train_scale=False)
    restored.load_state_dict(frozen.state_dict())
    assert torch.equal(restored.g, initial_g)
    assert "g" in dict(WNLinear(8, 5).named_parameters())


@pytest.mark.parametrize("side,channels", [(8, 1), (28, 1), (32, 3), (64, 3)])
def test_conv_stacks_map_each_image_size_to_features_and_back(side, channels):
    from rlgen.models.conv_stacks import ConvDecoder, ConvEncoder

    encoder, decoder = ConvEncoder((channels, side, side), 16), ConvDecoder(16, (channels, side, side), 5)
    features = encoder(torch.zeros(2, channels, side, side))
    assert features.shape == (2, 16) and decoder(features).shape == (2, 5, side, side)
    if side == 64:  # the World Models VAE (Ha & Schmidhuber 2018, Appendix A.1): 4 convs, kernel 4, stride 2
        convs = [m for m in encoder.convs if isinstance(m, torch.nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
            (n, (4, 4), (2, 2)) for n in (32, 64, 128, 256)
        ]
        assert encoder.fc.in_features == 2 * 2 * 256
    with pytest.raises(ValueError, match="square 8, 28, 32 and 64"):
        ConvEncoder((channels, side + 1, side + 1), 16)
