"""Each image model's loss goes down on a tiny batch of digits; VAE extras (IW-NLL, free bits, sampling)."""

from __future__ import annotations

import math

import pytest
import torch

from rlgen.data.images import load_image_set
from rlgen.models.flows.multiscale import glow, realnvp
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
