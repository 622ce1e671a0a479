"""Each image model's loss goes down on a tiny batch of digits; VAE extras (IW-NLL, free bits, sampling)."""

from __future__ import annotations

import math

import pytest
import torch

from rlgen.data.images import load_image_set
from rlgen.models.flows.multiscale import glow, realnvp
from rlgen.models.ladder_vae import LadderVAE
from rlgen.models.likelihoods import gaussian_log_density
from rlgen.models.pixelcnn import PixelCNN
from rlgen.models.vae import VAE

SHAPE, LEVELS = (1, 8, 8), 17
MODELS = {
    "glow": lambda: glow(SHAPE, LEVELS, steps=2, hidden=16),
    "glow_shared": lambda: glow(SHAPE, LEVELS, steps=2, hidden=16, share_coupling=True),
    "glow_shared_heads": lambda: glow(SHAPE, LEVELS, steps=2, hidden=16, share_coupling=True, step_heads=True),
    "realnvp": lambda: realnvp(SHAPE, LEVELS, hidden=16),
    "pixelcnn": lambda: PixelCNN(SHAPE, LEVELS, channels=16, n_layers=3),
    "vae": lambda: VAE(SHAPE, LEVELS, latent_dim=8, features=64),
    "vae_iaf": lambda: VAE(SHAPE, LEVELS, latent_dim=8, features=64, posterior="iaf", iaf_hidden=(32,)),
    "vae_ladder": lambda: LadderVAE(SHAPE, LEVELS, latent_dim=8, features=64, posterior="iaf", iaf_hidden=(32,)),
    "vae_pixelcnn": lambda: VAE(SHAPE, LEVELS, latent_dim=8, features=64, decoder="pixelcnn", pixelcnn_channels=8),
}


@pytest.fixture(scope="module")
def batch():
    images, _ = load_image_set("digits", "train").tensors()
    return images[:32]


@pytest.mark.parametrize("name", list(MODELS))
def test_loss_goes_down_on_a_tiny_batch(name, batch):
    torch.manual_seed(0)
    model = MODELS[name]()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss, metrics = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        assert metrics["bits_per_dim"] > 0
    assert sum(losses[-5:]) / 5 < 0.9 * sum(losses[:5]) / 5, losses[::5]
    samples = model.eval().sample(2)
    assert samples.shape == (2, *SHAPE) and samples.min() >= 0 and samples.max() < LEVELS


def test_vae_iw_nll_is_tighter_than_the_elbo_and_free_bits_change_the_objective(batch):
    torch.manual_seed(0)
    model = VAE(SHAPE, LEVELS, latent_dim=8, features=64, posterior="iaf", iaf_hidden=(32,))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(30):
        loss, _ = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    torch.manual_seed(1)
    elbo_nll = torch.stack([-(lambda t: t[0] - t[1].sum(1))(model.terms(batch)) for _ in range(20)]).mean()
    iw = model.iw_nll(batch, k=50).mean()
    assert float(iw) < float(elbo_nll)
    free = VAE(SHAPE, LEVELS, latent_dim=8, features=64, kl_min=5.0, kl_groups=4)
    free.load_state_dict(VAE(SHAPE, LEVELS, latent_dim=8, features=64).state_dict())
    torch.manual_seed(2)
    objective, metrics = free.loss(batch)
    assert float(objective) * 64 * math.log(2) > metrics["recon_nats"] + 4 * 5.0 - 1e-2  # each group pays >= kl_min
    assert 0 <= model.active_units(batch) <= 8


def test_auxiliary_decoder_adds_its_weighted_term_and_keeps_z_in_use():
    """AGAVE (Lucas & Verbeek 2018): objective = -log p(x|z) - w log r(x|z) + KL for one z; trained on
    digits, the PixelCNN-decoder VAE with r(x|z) puts several times more information in z than without."""
    images, _ = load_image_set("digits", "train").tensors()
    x = images[:256]
    model = VAE(SHAPE, LEVELS, latent_dim=8, features=64, decoder="pixelcnn", pixelcnn_channels=16, aux_weight=2.0)
    torch.manual_seed(3)
    objective, metrics = model.loss(x[:16])
    torch.manual_seed(3)
    log_lik, kl_dims, aux = model.loss_terms(x[:16])
    expected = (-log_lik.mean() - 2.0 * aux.mean() + kl_dims.sum(1).mean()) / (64 * math.log(2))
    assert torch.allclose(objective, expected)
    grads = torch.autograd.grad(-log_lik.mean(), list(model.decoder.parameters()), allow_unused=True)
    assert all(g is None or not g.any() for g in grads)  # r(x|z) learns from its own term only
    assert metrics["aux_recon_nats"] == pytest.approx(float(-aux.mean().detach()))
    assert torch.equal(model.decode_typical(z := torch.randn(4, 8)), model.aux_head.typical(model.decoder(z), 1))
    kl = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        model = VAE(SHAPE, LEVELS, latent_dim=8, features=64, decoder="pixelcnn", pixelcnn_channels=16,
                    aux_weight=weight)  # fmt: skip
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(150):
            loss, metrics = model.loss(x[torch.randint(0, len(x), (64,))])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        kl[weight] = metrics["kl_nats"]
    assert kl[1.0] > 2 * kl[0.0], kl
    with pytest.raises(ValueError, match="aux_weight"):
        VAE(SHAPE, LEVELS, aux_weight=1.0)  # a conv decoder is already factorised


def trained_ladder(batch, steps: int = 30) -> LadderVAE:
    torch.manual_seed(0)
    model = LadderVAE(SHAPE, LEVELS, latent_dim=8, features=64, posterior="iaf", iaf_hidden=(32,), kl_groups=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss, _ = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_ladder_inference_is_bidirectional_and_its_iw_nll_beats_its_elbo(batch):
    model = trained_ladder(batch)
    h = model.features(batch)
    # the lower posterior q(z_1 | x, z_2) reads the top-down state: other z_2 draws give other parameters
    torch.manual_seed(1)
    first = model.infer(h)[3][:, 2 * 8 :]
    torch.manual_seed(2)
    second = model.infer(h)[3][:, 2 * 8 :]
    assert not torch.allclose(first, second)
    # ... and the bottom-up features: other images give other parameters for the same z_2 draw
    torch.manual_seed(1)
    other = model.infer(model.features(batch.flip(0)))[3][:, 2 * 8 :]
    assert not torch.allclose(first, other.flip(0))
    torch.manual_seed(3)
    elbo_nll = torch.stack([-(lambda t: t[0] - t[1].sum(1))(model.terms(batch)) for _ in range(20)]).mean()
    assert float(model.iw_nll(batch, k=50).mean()) < float(elbo_nll)
    assert model.terms(batch)[1].shape == (len(batch), 16)  # per-dimension KL terms of both layers
    assert 0 <= model.active_units(batch) <= 16


def test_ladder_prior_density_and_zero_temperature_sampling():
    mean, log_std, z = torch.randn(5, 3), torch.randn(5, 3) * 0.3, torch.randn(5, 3)
    expected = torch.distributions.Normal(mean, log_std.exp()).log_prob(z)
    torch.testing.assert_close(gaussian_log_density(z, mean, log_std), expected)
    model = randomise_ladder(LadderVAE(SHAPE, LEVELS, latent_dim=4, features=32, stochastic_layers=3).eval())
    torch.manual_seed(5)
    cold = model.prior_decoder_input(2, temperature=0.0)
    torch.manual_seed(6)
    assert torch.equal(cold, model.prior_decoder_input(2, temperature=0.0))
    with torch.no_grad():  # by hand: z_3 = 0, then each lower z is its prior's mean
        z, state = torch.zeros(2, 4), None
        for layer in (1, 0):
            state, z, _ = model._top_down_state(layer, z, state)
        torch.testing.assert_close(cold, model._decoder_input(z, state))
    warm = model.prior_decoder_input(2, temperature=1.0)
    assert not torch.allclose(cold, warm)
    assert model.sample(3).shape == (3, *SHAPE)


def randomise_ladder(model: LadderVAE) -> LadderVAE:
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def test_ladder_rejects_a_single_layer_and_bad_groups():
    with pytest.raises(ValueError, match="stochastic_layers"):
        LadderVAE(SHAPE, LEVELS, stochastic_layers=1)
    with pytest.raises(ValueError, match="kl_groups"):
        LadderVAE(SHAPE, LEVELS, latent_dim=6, kl_groups=4)
