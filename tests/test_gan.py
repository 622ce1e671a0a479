"""GAN techniques do what they should, the K+1 losses match a brute-force softmax, unrolling leaves the real
discriminator alone, and InfoGAN's Q recovers its categorical code after a tiny run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import CONFIGS
from torch import nn

from rlgen.errors import ConfigError
from rlgen.kinds import load_run_config
from rlgen.models import gan_losses as L
from rlgen.models.gan import GAN, Discriminator, Generator
from rlgen.models.gan_layers import MinibatchDiscrimination, MinibatchStdDev, VirtualBatchNorm
from rlgen.models.likelihoods import from_unit, to_unit
from rlgen.models.unrolled import call_with, unrolled_parameters


def test_minibatch_discrimination_sees_collapse():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(16, kernels=8, kernel_dim=4)
    diverse = torch.randn(32, 16) * 3
    collapsed = diverse[:1].repeat(32, 1) + 1e-3 * torch.randn(32, 16)
    closeness_diverse, closeness_collapsed = layer.closeness(diverse), layer.closeness(collapsed)
    # o(x)_b = sum_{j != i} exp(-L1): near n - 1 = 31 for a collapsed batch, far lower for a diverse one
    assert closeness_collapsed.mean() > 30 > 10 > closeness_diverse.mean()
    assert torch.all(layer.closeness(diverse[:1]) == 0)  # self-pairs excluded
    assert layer(diverse).shape == (32, 16 + 8)


def test_minibatch_std_feature():
    x = torch.randn(10, 3, 4, 4)
    out = MinibatchStdDev()(x)
    assert out.shape == (10, 4, 4, 4)
    expected = x.std(0, unbiased=False).mean()
    assert torch.allclose(out[:, 3], expected.expand(10, 4, 4), atol=1e-5)


@pytest.mark.parametrize("shape", [(8,), (4, 3, 3)])
def test_virtual_batch_norm_output_independent_of_batch(shape):
    torch.manual_seed(0)
    layer = VirtualBatchNorm(shape[0], n_ref=16)
    reference, x = torch.randn(16, *shape), torch.randn(1, *shape)
    batch_a = torch.cat([reference, x, torch.randn(5, *shape)])
    batch_b = torch.cat([reference, torch.randn(9, *shape) * 10, x])
    assert torch.allclose(layer(batch_a)[16], layer(batch_b)[-1], atol=1e-6)
    # the example's own statistics count with weight 1/(n+1)
    combined = torch.cat([reference, x])
    if len(shape) == 1:
        mean = reference.mean(0) * 16 / 17 + x[0] / 17
        var = (reference**2).mean(0) * 16 / 17 + x[0] ** 2 / 17 - mean**2
        assert torch.allclose(layer(combined)[16], (x[0] - mean) / torch.sqrt(var + 1e-5), atol=1e-5)


def test_generator_with_vbn_is_per_example():
    torch.manual_seed(0)
    generator = Generator((1, 8, 8), 6, arch="mlp", hidden=(16,), norm="virtual", n_ref=8)
    z = torch.rand(5, 6)
    alone, together = generator(z[:1]), generator(z)[:1]
    assert torch.allclose(alone, together, atol=1e-6)


def test_label_smoothing_and_noise_targets():
    real, fake = L.discriminator_targets(100, 100, real_target=0.9)
    assert torch.allclose(real, torch.tensor(0.9)) and torch.all(fake == 0)  # one-sided: fakes stay 0
    g = torch.Generator().manual_seed(0)
    real, fake = L.discriminator_targets(5000, 5000, real_target=0.9, flip=0.1, generator=g)
    values = {round(v, 6) for v in torch.cat([real, fake]).unique().tolist()}
    assert values == {0.0, 0.9}
    assert abs(float((real == 0).float().mean()) - 0.1) < 0.02 and abs(float((fake > 0).float().mean()) - 0.1) < 0.02


def test_semisupervised_losses_match_brute_force_softmax():
    torch.manual_seed(0)
    logits_real, logits_fake, labels = torch.randn(20, 10) * 3, torch.randn(20, 10) * 3, torch.randint(10, (20,))
    with_zero = lambda logits: torch.cat([logits, torch.zeros(len(logits), 1)], 1)  # noqa: E731
    p_real, p_fake = F.softmax(with_zero(logits_real), 1), F.softmax(with_zero(logits_fake), 1)
    # unlabelled: -log(1 - p(fake | x)) on data, -log p(fake | G(z)) on samples
    brute = -torch.log(1 - p_real[:, 10]).mean() - torch.log(p_fake[:, 10]).mean()
    assert torch.allclose(L.semisupervised_unsupervised_loss(logits_real, logits_fake), brute, atol=1e-5)
    # labelled: -log p(y | x, y < K+1) = -log p(y | x) + log p(real | x)
    brute_sup = (-torch.log(p_real[torch.arange(20), labels]) + torch.log(1 - p_real[:, 10])).mean()
    assert torch.allclose(L.semisupervised_supervised_loss(logits_real, labels), brute_sup, atol=1e-5)
    assert torch.allclose(L.real_probability(logits_real), 1 - p_real[:, 10], atol=1e-6)


def test_historical_average_penalty():
    module = torch.nn.Linear(3, 2)
    history = L.HistoricalAverage(module)
    assert float(history.penalty().detach()) == 0.0  # parameters equal their history mean
    with torch.no_grad():
        module.weight.add_(1.0)
    assert float(history.penalty().detach()) == pytest.approx(6.0)
    history.update()  # mean of (start, start + 1) = start + 0.5
    assert float(history.penalty().detach()) == pytest.approx(6 * 0.25)


def test_feature_matching_norms():
    real, fake = torch.zeros(4, 3), torch.ones(4, 3)
    assert float(L.feature_matching_loss(real, fake, "l2")) == pytest.approx(3.0)
    assert float(L.feature_matching_loss(real, 2 * fake, "l1")) == pytest.approx(2.0)


def test_unrolled_steps_leave_the_discriminator_alone():
    torch.manual_seed(0)
    generator = Generator((1, 8, 8), 4, arch="conv")
    discriminator = Discriminator((1, 8, 8), arch="conv")
    x = torch.rand(8, 1, 8, 8) * 2 - 1
    discriminator(x)  # initialise
    before = {k: v.clone() for k, v in discriminator.state_dict().items()}
    fake = generator(torch.rand(8, 4))

    def loss_fn(d):  # noqa: ANN001
        real_t, fake_t = L.discriminator_targets(8, 8)
        return L.discriminator_loss(d(x)[0], d(fake)[0], real_t, fake_t)

    state = unrolled_parameters(discriminator, loss_fn, steps=2, lr=0.1)
    logits, _ = call_with(discriminator, state, fake)
    L.generator_loss(logits).backward()
    assert all(torch.equal(before[k], v) for k, v in discriminator.state_dict().items())
    assert any(not torch.equal(state[k], before[k]) for k, _ in discriminator.named_parameters())
    assert all(p.grad is not None for p in generator.parameters())


def test_ema_generator_tracks_the_generator():
    generator = Generator((1, 8, 8), 4, arch="conv")
    model = GAN(generator, Discriminator((1, 8, 8), arch="conv"), 17, ema_decay=0.5)
    with torch.no_grad():
        for p in generator.parameters():
            p.add_(1.0)
    old = [p.clone() for p in model.ema_generator.parameters()]
    model.update_ema()  # update 0 is warmed up: decay min(0.5, 1 / 10)
    for avg, was, new in zip(model.ema_generator.parameters(), old, generator.parameters(), strict=True):
        assert torch.allclose(avg, 0.1 * was + 0.9 * new)
    model.ema_updates.fill_(10**6)  # long after the warm-up the configured decay applies
    old = [p.clone() for p in model.ema_generator.parameters()]
    with torch.no_grad():
        for p in generator.parameters():
            p.add_(1.0)
    model.update_ema()
    for avg, was, new in zip(model.ema_generator.parameters(), old, generator.parameters(), strict=True):
        assert torch.allclose(avg, 0.5 * was + 0.5 * new)
    images = model.sample(3)
    assert images.dtype == torch.long and images.min() >= 0 and images.max() <= 16
    assert torch.equal(from_unit(to_unit(images, 17), 17), images)
    assert model.ema_discriminator is None and model.eval_discriminator() is model.discriminator


def test_ema_warm_up_follows_tensorflows_num_updates_rule():
    from rlgen.models.gan import warmed_decay

    assert warmed_decay(0.999, 0) == pytest.approx(0.1)
    assert warmed_decay(0.999, 90) == pytest.approx(91 / 100)
    assert warmed_decay(0.999, 10**6) == 0.999


def _perturbed_conv_gan(seed: int) -> GAN:
    torch.manual_seed(seed)
    generator = Generator((1, 8, 8), 4, arch="conv")
    model = GAN(generator, Discriminator((1, 8, 8), arch="conv"), 17, ema_decay=0.5)
    with torch.no_grad():
        for name, p in generator.named_parameters():
            if "weight" in name and p.dim() > 1:
                p.mul_(3.0).add_(0.5)
    return model


def test_averaged_generator_uses_batch_norm_statistics_of_its_own_weights():
    """Standing statistics (BigGAN, Appendix C.1): in eval mode each batch-norm layer of the averaged
    generator must normalise its own activations to about zero mean and unit variance. Copying the live
    generator's running statistics (never updated here) leaves the shifted activations un-normalised."""
    model = _perturbed_conv_gan(0)
    model.update_ema()
    outputs: list[torch.Tensor] = []
    norms = [m for m in model.eval_generator().modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for m in norms]
    state = torch.random.get_rng_state()
    model.generate(model.sample_z(512))
    for hook in hooks:
        hook.remove()
    assert len(outputs) == len(norms) >= 2
    for out in outputs:  # the affine parameters are still 1 and 0: the output is the normalised activation
        per_channel = out.transpose(0, 1).flatten(1)
        assert per_channel.mean(1).abs().max() < 0.2
        assert (per_channel.var(1) - 1).abs().max() < 0.3
    assert not torch.equal(state, torch.random.get_rng_state())  # only sample_z above drew from the stream
    before = torch.random.get_rng_state()
    model.update_ema()
    model.eval_generator()  # recomputing the statistics leaves the global random stream alone
    assert torch.equal(before, torch.random.get_rng_state())


def _ema_running_means(model: GAN) -> list[torch.Tensor]:
    return [m.running_mean.clone() for m in model.ema_generator.modules() if isinstance(m, nn.BatchNorm2d)]


def test_standing_statistics_are_recomputed_after_each_update_and_each_load():
    model = _perturbed_conv_gan(0)
    model.update_ema()
    model.eval_generator()
    model.update_ema()  # copies the live generator's (never updated: zero) running means over them again
    assert all(not m.any() for m in _ema_running_means(model))
    model.eval_generator()
    assert all(m.abs().max() > 0.05 for m in _ema_running_means(model))
    model.update_ema()
    saved = model.state_dict()  # the averaged generator's buffers hold the copied zeros here
    fresh = _perturbed_conv_gan(1)
    fresh.eval_generator()
    fresh.load_state_dict(saved)
    fresh.eval_generator()
    assert all(m.abs().max() > 0.05 for m in _ema_running_means(fresh))
    old_style = {k: v for k, v in saved.items() if k != "ema_updates"}  # saved before the warm-up counter
    fresh.load_state_dict(old_style)
    assert int(fresh.ema_updates) == 10**9


def test_standing_statistics_leave_weight_norm_initialisation_alone():
    """The mlp generator's last layer is weight-normalised with data-dependent init; recomputing batch-norm
    statistics must not run that init on the averaged copy."""
    torch.manual_seed(0)
    model = GAN(Generator((1, 8, 8), 4, hidden=(8,)), Discriminator((1, 8, 8), hidden=(16, 8)), 17)
    before = {k: v.clone() for k, v in model.ema_generator.state_dict().items()}
    model.sample(4)
    after = model.ema_generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if "running" not in k and "num_batches" not in k)


def test_ema_discriminator_averages_parameters_and_copies_weight_norm_state():
    """The semi-supervised classifier is measured with averaged discriminator weights (original code)."""
    torch.manual_seed(0)
    discriminator = Discriminator((1, 8, 8), 10, hidden=(16, 8))
    model = GAN(Generator((1, 8, 8), 4, hidden=(8,)), discriminator, 17, ema_decay=0.0, d_ema_decay=0.75)
    discriminator(torch.rand(32, 1, 8, 8))  # data-dependent init of the live discriminator only
    old = [p.clone() for p in model.ema_discriminator.parameters()]
    model.ema_updates.fill_(10**6)  # past the warm-up
    model.update_ema()
    average = model.eval_discriminator()
    assert average is model.ema_discriminator
    for avg, was, new in zip(average.parameters(), old, discriminator.parameters(), strict=True):
        assert torch.allclose(avg, 0.75 * was + 0.25 * new)
    for avg, new in zip(average.buffers(), discriminator.buffers(), strict=True):
        assert torch.equal(avg, new)  # frozen weight-norm scales and the "initialized" flags come along
    assert all(not p.requires_grad for p in average.parameters())


def test_code_accuracy_uses_hungarian_matching():
    from types import SimpleNamespace

    from rlgen.generative.kind_infogan import code_accuracy

    labels = torch.arange(10).repeat(5)
    permutation = torch.tensor(np.random.default_rng(0).permutation(10))
    fake_model = SimpleNamespace(categorical=(10,), predict_code=lambda images, averaged: permutation[labels])
    data = SimpleNamespace(test=SimpleNamespace(tensors=lambda: (torch.zeros(50, 1, 8, 8), labels)))
    assert code_accuracy(fake_model, data) == 1.0


def test_code_confusion_orders_code_values_by_their_matched_label():
    from rlgen.generative.kind_infogan import matched_accuracy, matched_confusion

    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    predicted = np.array([2, 2, 1, 0, 0, 1, 1, 2])  # 0s mostly code 2, 1s code 0, 2s code 1
    confusion, matched = matched_confusion(predicted, labels, 3)
    assert list(matched) == [2, 0, 1]
    assert confusion[matched].tolist() == [[2, 0, 1], [0, 2, 0], [1, 0, 2]]  # the matched counts on the diagonal
    assert matched_accuracy(predicted, labels, 3) == 6 / 8


def test_infogan_q_recovers_its_categorical_code():
    from rlgen.data.images import load_image_set
    from rlgen.generative.data_source import InMemoryImages
    from rlgen.generative.gan_learner import GanLearner
    from rlgen.generative.kind_infogan import build_model

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small nets: one thread is fastest, and immune to busy cores
    config = load_run_config(CONFIGS / "infogan_digits.yaml", overrides=["model.z_dim=16"])
    train = load_image_set("digits", "train")
    model = build_model(config, train.shape, train.levels)
    learner = GanLearner(model, config, InMemoryImages(train, load_image_set("digits", "test")))
    images, labels = train.tensors()
    for _ in range(150):
        idx = torch.randint(len(images), (64,))
        learner.step(images[idx], labels[idx])
    cats, cont = model.sample_codes(500)
    with torch.no_grad():
        model.eval()
        fake = model.generator(model.latent(torch.rand(500, 16) * 2 - 1, cats, cont))
        predicted = model.q_head(model.discriminator.features(fake))[0][0].argmax(1)
    torch.set_num_threads(threads)
    accuracy = float((predicted == cats[:, 0]).float().mean())
    assert accuracy > 0.5, accuracy  # chance is 0.1


def test_averaged_q_follows_the_live_q_and_takes_its_batch_norm_statistics_from_real_images():
    """model.d_ema_decay for InfoGAN: the trunk and Q head are averaged (Salimans et al. 2016's test-time
    averaging), start equal to the live ones, and get standing batch-norm statistics from real images."""
    from rlgen.data.images import load_image_set
    from rlgen.generative.data_source import InMemoryImages
    from rlgen.generative.gan_learner import GanLearner
    from rlgen.generative.kind_infogan import build_model
    from rlgen.models.likelihoods import to_unit

    torch.manual_seed(0)
    overrides = ["model.z_dim=16", "model.d_ema_decay=0.9", "model.fc_hidden=[32]", "model.init_std=0.02"]
    config = load_run_config(CONFIGS / "infogan_digits.yaml", overrides=overrides)
    train = load_image_set("digits", "train")
    model = build_model(config, train.shape, train.levels)
    images, labels = train.tensors()
    live, averaged = model._q_network(averaged=False), model._q_network(averaged=True)
    assert all(torch.equal(a, b) for a, b in zip(averaged.parameters(), live.parameters(), strict=True))
    before = {k: v.clone() for k, v in model.ema_q_head.state_dict().items()}
    learner = GanLearner(model, config, InMemoryImages(train, load_image_set("digits", "test")))
    for _ in range(30):
        idx = torch.randint(len(images), (64,))
        learner.step(images[idx], labels[idx])
    moved = [not torch.equal(v, before[k]) for k, v in model.ema_q_head.state_dict().items() if v.is_floating_point()]
    assert any(moved)
    assert any(not torch.equal(a, b) for a, b in zip(averaged.parameters(), live.parameters(), strict=True))

    rng = torch.get_rng_state()
    model.refresh_averaged_q(images)
    assert torch.equal(torch.get_rng_state(), rng)
    norm = next(m for m in model.ema_discriminator.modules() if isinstance(m, torch.nn.BatchNorm2d))
    features = {}
    hook = norm.register_forward_hook(lambda module, args, out: features.setdefault("x", args[0]))
    with torch.no_grad():
        averaged.eval()
        averaged(to_unit(images, train.levels))
    hook.remove()
    real_mean = features["x"].mean((0, 2, 3))  # over all real images; the standing mean is over 1,024 of them
    assert torch.allclose(norm.running_mean, real_mean, atol=0.05 * real_mean.abs().max())
    probabilities = model.code_probabilities(images[:50])
    assert probabilities.shape == (50, 10) and torch.allclose(probabilities.sum(1), torch.ones(50))
    assert not torch.allclose(probabilities, model.code_probabilities(images[:50], averaged=False))


def test_averaged_q_is_refreshed_before_use_and_loads_from_weights_saved_without_it(tmp_path):
    """Weights of an InfoGAN that kept no averaged Q (d_ema_decay 0, or any run before InfoGAN honoured it)
    load into one that keeps it, the average starting from the live weights; Q's average refuses to predict
    with batch-norm statistics older than its weights. Through the CLI, progress.csv logs both Q's."""
    import csv

    from conftest import assert_user_error, run_cli

    from rlgen.data.images import load_image_set
    from rlgen.generative.kind_infogan import build_model

    train = load_image_set("digits", "train")
    overrides = ["model.z_dim=8", "model.fc_hidden=[16]"]
    plain = build_model(load_run_config(CONFIGS / "infogan_digits.yaml", overrides=overrides), train.shape, 17)
    averaging = build_model(
        load_run_config(CONFIGS / "infogan_digits.yaml", overrides=[*overrides, "model.d_ema_decay=0.99"]),
        train.shape,
        17,
    )
    averaging.load_state_dict(plain.state_dict())
    for average, live in (("ema_q_head", "q_head"), ("ema_discriminator", "discriminator")):
        saved = getattr(plain, live).state_dict()
        assert all(torch.equal(v, saved[k]) for k, v in getattr(averaging, average).state_dict().items())
    images = train.tensors()[0][:64]
    with pytest.raises(RuntimeError, match="refresh_averaged_q"):
        averaging.predict_code(images)
    averaging.refresh_averaged_q(images)
    assert averaging.predict_code(images).shape == (64,)
    averaging.update_ema()
    with pytest.raises(RuntimeError, match="refresh_averaged_q"):
        averaging.code_information(images)

    run = tmp_path / "run"
    cmd = ("train", str(CONFIGS / "infogan_digits.yaml"), "--debug", "--run-dir", str(run))
    assert run_cli(*cmd, "--set", "model.d_ema_decay=0.9").returncode == 0
    with open(run / "progress.csv") as fh:
        row = list(csv.DictReader(fh))[-1]
    assert all(0 <= float(row[key]) <= 1 for key in ("code_accuracy", "live_code_accuracy"))
    assert float(row["live_code_information"]) >= 0
    assert run_cli("evaluate", str(run)).returncode == 0
    no_code = ("--set", "model.categorical=[]", "--set", "model.continuous=2", "--set", "model.d_ema_decay=0.9")
    assert_user_error(run_cli(*cmd[:3], *no_code, cwd=tmp_path), "model.d_ema_decay")


def test_fully_connected_layers_and_a_separate_discriminator_learning_rate():
    """InfoGAN's MNIST set-up: FC hidden layers in both conv networks, D (and Q) at 2e-4 while G uses 1e-3."""
    from rlgen.data.images import load_image_set
    from rlgen.generative.data_source import InMemoryImages
    from rlgen.generative.gan_learner import GanLearner
    from rlgen.generative.kind_infogan import build_model

    overrides = ["model.fc_hidden=[48]", "model.d_learning_rate=2.0e-4", "train.learning_rate=1.0e-3"]
    config = load_run_config(CONFIGS / "infogan_digits.yaml", overrides=overrides)
    train = load_image_set("digits", "train")
    model = build_model(config, train.shape, train.levels)
    widths = [m.out_features for m in model.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert widths[0] == 48 and model.discriminator.feature_dim == 48
    assert all(m.training for m in model.discriminator.modules())  # the width probe must not leave eval mode
    learner = GanLearner(model, config, InMemoryImages(train, load_image_set("digits", "test")))
    assert learner.opt_d.param_groups[0]["lr"] == 2e-4 and learner.opt_g.param_groups[0]["lr"] == 1e-3
    q_params = {id(p) for p in model.q_head.parameters()}
    assert q_params <= {id(p) for p in learner.opt_d.param_groups[0]["params"]}
    images, labels = train.tensors()
    learner.step(images[:16], labels[:16])


def test_infogan_arch_is_the_papers_mnist_network_and_28x28_only():
    """Chen et al. 2016, Appendix C.1: D conv 64 and 128 (4x4, stride 2), FC 1024; G FC 1024, FC 7x7x128,
    deconv 64 and 1 (4x4, stride 2)."""
    from rlgen.models.gan import normal_init

    generator = Generator((1, 28, 28), 74, arch="infogan", fc_hidden=(1024,))
    discriminator = Discriminator((1, 28, 28), arch="infogan", fc_hidden=(1024,))
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(64, (4, 4)), (128, (4, 4))]
    deconvs = [m for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in deconvs] == [(128, 64, (4, 4)), (64, 1, (4, 4))]
    assert discriminator.feature_dim == 1024
    assert generator(torch.rand(3, 74)).shape == (3, 1, 28, 28)
    assert {m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)} == {0.1}
    normal_init(discriminator, 0.02)
    assert abs(float(convs[1].weight.std()) - 0.02) < 0.002 and not convs[1].bias.any()
    with pytest.raises(ValueError, match="28x28"):
        Discriminator((1, 8, 8), arch="infogan")


def test_diff_augment_translation_shifts_whole_images_and_cutout_blanks_a_half_size_square():
    """Zhao et al. 2020: translation moves each image by at most 1/8 of its size, filling with the
    background; cutout sets one (h/2 x w/2) square to the background; both let gradients through."""
    from rlgen.models.diff_augment import cutout, diff_augment, translate

    torch.manual_seed(0)
    x = torch.full((64, 1, 16, 16), -1.0)
    x[:, :, 6:10, 6:10] = torch.rand(64, 1, 4, 4)  # a blob well inside the frame: nothing is shifted out
    shifted = translate(x, 0.125, -1.0)
    for original, moved in zip(x, shifted, strict=True):
        offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(torch.roll(original, (-dy, -dx), dims=(1, 2)), moved)]  # fmt: skip
        assert len(offsets) == 1
    assert len({tuple(m.flatten().tolist()) for m in shifted}) > 10  # offsets differ per image
    ones = torch.ones(256, 1, 16, 16, requires_grad=True)
    cut = cutout(ones, 0.5, -1.0)
    blanked = (cut == -1).flatten(1).sum(1)
    assert int(blanked.max()) == 64 and int(blanked.min()) >= 4 * 4  # 8x8, or at least its quarter at a corner
    cut.sum().backward()
    assert torch.equal(ones.grad, (cut != -1).float())
    with pytest.raises(ValueError, match="unknown augmentation"):
        diff_augment(x, ["flip"])


def test_diff_augment_reaches_every_discriminator_input(monkeypatch):
    """With techniques.diff_augment on, D never sees an un-augmented image in either player's update."""
    from rlgen.data.images import load_image_set
    from rlgen.generative import gan_learner
    from rlgen.generative.data_source import InMemoryImages
    from rlgen.generative.kind_infogan import build_model
    from rlgen.models.diff_augment import diff_augment

    augmented = []

    def recording(images, policies):  # noqa: ANN001, ANN202
        augmented.append(diff_augment(images, policies))
        return augmented[-1]

    monkeypatch.setattr(gan_learner, "diff_augment", recording)
    config = load_run_config(CONFIGS / "infogan_digits.yaml", overrides=["techniques.diff_augment=[cutout]"])
    train = load_image_set("digits", "train")
    model = build_model(config, train.shape, train.levels)
    learner = gan_learner.GanLearner(model, config, InMemoryImages(train, load_image_set("digits", "test")))
    seen = []
    model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    images, labels = train.tensors()
    learner.step(images[:32], labels[:32])
    assert len(seen) == 3  # real and fake for D's step, fake for G's (whose features also feed Q)
    assert all(any(batch is out for out in augmented) for batch in seen)
    with pytest.raises(ConfigError, match="diff_augment"):
        load_run_config(CONFIGS / "infogan_digits.yaml", overrides=["techniques.diff_augment=[flip]"])


def test_code_information_is_log_k_for_a_confident_balanced_q_and_lower_when_two_values_share():
    """Q's estimate of I(c; x) on real images: H(E[Q]) - E[H(Q)]."""
    import math
    from types import SimpleNamespace

    from rlgen.models.infogan import InfoGAN

    def information(probs: torch.Tensor) -> float:
        stub = SimpleNamespace(code_probabilities=lambda images, code=0, averaged=True: probs)
        return InfoGAN.code_information(stub, torch.zeros(len(probs)))

    confident = F.one_hot(torch.arange(10).repeat_interleave(10), 10).float()  # 10 images per value
    assert information(confident) == pytest.approx(math.log(10), abs=1e-6)
    shared = confident.clone()
    shared[:20, :2] = 0.5  # the images of values 0 and 1 split evenly between them
    assert information(shared) < math.log(10) - 0.1
    assert information(torch.full((100, 10), 0.1)) == pytest.approx(0.0, abs=1e-9)
