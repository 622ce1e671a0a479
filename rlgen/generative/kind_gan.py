"""``kind: gan`` — a GAN with every technique of "Improved Techniques for Training GANs" (Salimans et al.
2016) as a switch, and its semi-supervised K+1 classifier (``model.objective: semisupervised``).

Every ``eval_every`` epochs: the classifier score, Frechet distance and mode coverage of 1,000 samples
(:mod:`rlgen.generative.sample_quality`), and for the semi-supervised objective the test error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.errors import ConfigError
from rlgen.generative import common
from rlgen.generative.config import GenerativeRunConfig

SEED_KEY = common.SEED_KEY
QUALITY_SAMPLES = 1000
PROGRESS_COLUMNS = ("epoch", "step", "d_loss", "g_loss", "classifier_score", "frechet_distance", "mode_coverage",
                    "test_error", "code_accuracy", "seconds")  # fmt: skip
PLOTS = {"losses": ("d_loss", "g_loss"), "classifier_score": ("classifier_score",),
         "frechet_distance": ("frechet_distance",)}  # fmt: skip


@dataclass(frozen=True)
class GANModelConfig:
    """Networks, objective and optimiser."""

    arch: Literal["mlp", "conv", "infogan"] = "mlp"
    """mlp (the paper's MNIST networks), conv (DCGAN, from the shared conv stacks) or infogan (InfoGAN's
    28x28 MNIST networks: conv with 64/128 channels and 4x4 kernels; give fc_hidden [1024] as the paper)."""
    init_std: float | None = None
    """Draw conv and dense weights from N(0, init_std) with zero biases (DCGAN and InfoGAN: 0.02); null:
    PyTorch's default initialisation. Weight-normalised layers (the mlp discriminator) keep their
    data-dependent initialisation."""
    z_dim: int = 100
    """Size of the uniform noise z."""
    g_hidden: tuple[int, ...] = (500, 500)
    """Generator hidden layers (mlp)."""
    d_hidden: tuple[int, ...] = (1000, 500, 250, 250, 250)
    """Discriminator hidden layers (mlp); the last one is the feature-matching layer."""
    fc_hidden: tuple[int, ...] = ()
    """conv: fully connected hidden layers in the generator (before the first feature map) and in the
    discriminator (after the convs), as InfoGAN's MNIST networks (1024)."""
    input_noise: float = 0.3
    """Std of the Gaussian noise on the discriminator's input (mlp; 0: off)."""
    hidden_noise: float = 0.5
    """Std of the Gaussian noise after each discriminator layer (mlp; 0: off)."""
    d_train_scale: bool = False
    """mlp: train the weight-norm scales of the discriminator's hidden layers (false: frozen after the
    data-dependent initialisation, as the original improved-GAN code does)."""
    ema_decay: float = 0.999
    """Polyak/EMA average of the generator used for samples and metrics (0: the raw generator)."""
    d_ema_decay: float = 0.0
    """EMA of the discriminator used to measure the semi-supervised test error, and for InfoGAN of the
    discriminator trunk and Q head used for the code accuracy and information (0: the raw ones)."""
    adam_beta1: float = 0.5
    """Adam's beta1 for both players (0.5 as DCGAN and the original code)."""
    d_learning_rate: float | None = None
    """The discriminator's (and InfoGAN's Q head's) learning rate; null: train.learning_rate for both."""
    objective: Literal["standard", "semisupervised"] = "standard"
    """standard GAN, or the K+1 classifier of Section 5 (needs a labelled dataset)."""
    labels_per_class: int = 10
    """Semi-supervised: labelled examples per class (the rest of the training set is unlabelled)."""
    label_seed: int = 0
    """Semi-supervised: seed choosing the labelled examples."""
    unlabelled_weight: float = 1.0
    """Semi-supervised: weight of the unlabelled (real vs fake) loss."""

    def __post_init__(self) -> None:
        if self.z_dim < 1 or self.labels_per_class < 1:
            raise ValueError("'z_dim' and 'labels_per_class' must be >= 1")
        if self.d_learning_rate is not None and self.d_learning_rate <= 0:
            raise ValueError(f"'d_learning_rate' must be > 0 (or null), got {self.d_learning_rate}")
        if self.init_std is not None and self.init_std <= 0:
            raise ValueError(f"'init_std' must be > 0 (or null), got {self.init_std}")
        if any(h < 1 for h in self.fc_hidden):
            raise ValueError(f"'fc_hidden' sizes must be >= 1, got {list(self.fc_hidden)}")
        for name in ("ema_decay", "d_ema_decay"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be in [0, 1), got {getattr(self, name)}")


@dataclass(frozen=True)
class TechniquesConfig:
    """Salimans et al. 2016 (Sections 3.1-3.4) and relatives; all off by default (the DCGAN baseline)."""

    feature_matching: Literal["off", "l2", "l1"] = "off"
    """Generator matches the mean discriminator features of real data (Section 3.1); l1 as the CIFAR code."""
    minibatch_discrimination: bool = False
    """Minibatch discrimination layer before the discriminator's output (Section 3.2)."""
    mbd_kernels: int = 100
    """Minibatch discrimination: B, the number of kernels."""
    mbd_dim: int = 5
    """Minibatch discrimination: C, the dimension of each kernel."""
    historical_averaging: float = 0.0
    """Coefficient of ||theta - mean of past theta||^2 for both players (Section 3.3; 0: off)."""
    virtual_batch_norm: bool = False
    """Virtual batch norm in the generator, reference batch fixed at the start (Section 3.4)."""
    vbn_reference: int = 64
    """Size of the virtual-batch-norm reference batch."""
    label_smoothing: float = 1.0
    """One-sided label smoothing: the real target alpha (0.9 turns it on; fakes stay 0)."""
    label_noise: float = 0.0
    """Fraction of discriminator labels flipped at random."""
    minibatch_std: bool = False
    """Append the across-batch standard deviation as a feature (Karras et al. 2018)."""
    unrolled_steps: int = 0
    """Unrolled GAN (Metz et al. 2017): discriminator steps unrolled in the generator's loss (0: off)."""
    unrolled_lr: float = 1e-3
    """Step size of the unrolled discriminator steps."""
    diff_augment: tuple[str, ...] = ()
    """Differentiable augmentation (Zhao et al. 2020) of every image D sees, real and fake, in both players'
    updates: any of translation, cutout (empty: off). For small training sets, where D memorises the data."""

    def __post_init__(self) -> None:
        if not 0 < self.label_smoothing <= 1:
            raise ValueError(f"'label_smoothing' is the real target in (0, 1], got {self.label_smoothing}")
        if not 0 <= self.label_noise < 0.5:
            raise ValueError(f"'label_noise' must be in [0, 0.5), got {self.label_noise}")
        if self.historical_averaging < 0 or self.unrolled_steps < 0 or self.unrolled_lr <= 0:
            raise ValueError("'historical_averaging' and 'unrolled_steps' must be >= 0, 'unrolled_lr' > 0")
        if self.mbd_kernels < 1 or self.mbd_dim < 1 or self.vbn_reference < 2:
            raise ValueError("'mbd_kernels' and 'mbd_dim' must be >= 1, 'vbn_reference' >= 2")
        from rlgen.models.diff_augment import POLICIES

        unknown = [p for p in self.diff_augment if p not in POLICIES]
        if unknown or len(set(self.diff_augment)) != len(self.diff_augment):
            bad = f"unknown {unknown}" if unknown else "a repeat"
            raise ValueError(f"'diff_augment' takes each of {', '.join(POLICIES)} at most once, got "
                             f"{list(self.diff_augment)} ({bad})")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Config(GenerativeRunConfig):
    """A generative adversarial network on an image dataset."""

    kind: Literal["gan"] = "gan"
    """Experiment type."""
    model: GANModelConfig = field(default_factory=GANModelConfig)
    """Networks, objective and optimiser."""
    techniques: TechniquesConfig = field(default_factory=TechniquesConfig)
    """The improved training techniques, each a switch."""


def build_networks(config, image_shape, z_dim: int, outputs: int):  # noqa: ANN001, ANN201 - (Generator, Discriminator)
    from rlgen.models.gan import Discriminator, Generator, normal_init

    m, t = config.model, config.techniques
    generator = Generator(image_shape, z_dim, arch=m.arch, hidden=m.g_hidden, fc_hidden=m.fc_hidden,
                          norm="virtual" if t.virtual_batch_norm else "batch", n_ref=t.vbn_reference)  # fmt: skip
    discriminator = Discriminator(
        image_shape,
        outputs,
        arch=m.arch,
        hidden=m.d_hidden,
        input_noise=m.input_noise,
        hidden_noise=m.hidden_noise,
        train_scale=m.d_train_scale,
        fc_hidden=m.fc_hidden,
        minibatch_discrimination=t.minibatch_discrimination,
        mbd_kernels=t.mbd_kernels,
        mbd_dim=t.mbd_dim,
        minibatch_std=t.minibatch_std,
    )
    if m.init_std is not None:
        normal_init(generator, m.init_std)
        normal_init(discriminator, m.init_std)
    return generator, discriminator


def build_model(config: Config, image_shape, levels: int):  # noqa: ANN201 - GAN
    from rlgen.models.gan import GAN

    semisupervised = config.model.objective == "semisupervised"
    generator, discriminator = build_networks(config, image_shape, config.model.z_dim, 10 if semisupervised else 1)
    return GAN(generator, discriminator, levels, ema_decay=config.model.ema_decay, d_ema_decay=config.model.d_ema_decay)


def make_learner(model, config: Config, data):  # noqa: ANN001, ANN201 - GanLearner
    from rlgen.generative.gan_learner import GanLearner

    return GanLearner(model, config, data)


def quality(model, config, data) -> dict[str, float]:  # noqa: ANN001
    """Classifier score, Frechet distance and mode coverage of samples drawn with a fixed seed."""
    import torch

    from rlgen.generative.sample_quality import classifier_for, sample_quality

    if not hasattr(data, "train"):
        return {}  # frames: no labels to train the scoring classifier on
    with torch.random.fork_rng():  # the metric must not move the run's random stream
        classifier = classifier_for(config.data.dataset, data.train)  # its first load draws initial weights
        torch.manual_seed(12345)
        samples = model.sample(QUALITY_SAMPLES)
    return sample_quality(classifier, samples, data.test)


def test_error(model, data) -> float:  # noqa: ANN001
    """Error of the K+1 discriminator's classifier (argmax over the K real classes) on the test set."""
    import torch

    from rlgen.models.likelihoods import to_unit

    images, labels = data.test.tensors()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits, _ = model.eval_discriminator()(to_unit(images, model.levels))
    model.train(was_training)
    return float((logits.argmax(1) != labels).float().mean())


def epoch_metrics(model, config: Config, data) -> dict[str, float]:  # noqa: ANN001
    metrics = quality(model, config, data)
    if config.model.objective == "semisupervised":
        metrics["test_error"] = test_error(model, data)
    return metrics


def validate(config: Config) -> None:
    common.validate_data(config)
    common.reject_validation_split(config)
    if config.model.objective == "semisupervised" and config.data.dataset == "frames":
        raise ConfigError("model.objective: semisupervised needs a labelled dataset (digits, mnist or cifar10)")
    if config.model.d_ema_decay > 0 and config.model.arch != "mlp":
        raise ConfigError(f"model.d_ema_decay averages the discriminator, but arch {config.model.arch}'s "
                          "batch-norm statistics would not match the averaged weights; use arch mlp or "
                          "d_ema_decay: 0")  # fmt: skip


train, evaluate, sample = common.kind_functions(__name__)
