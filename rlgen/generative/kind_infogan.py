"""``kind: infogan`` — InfoGAN (Chen et al. 2016): a GAN whose generator also takes latent codes that a Q head
on the discriminator must recover (:mod:`rlgen.models.infogan`).

Every ``eval_every`` epochs: the first categorical code used as an unsupervised classifier of the test set
(accuracy after Hungarian matching of code values to labels), Q's estimate of the information the code
carries about the real training images (``code_information``, nats; no labels used) and the sample-quality
metrics. With ``model.d_ema_decay`` > 0 both come from the averaged Q (:mod:`rlgen.models.infogan`), and the
live Q's are logged beside them (``live_code_accuracy``, ``live_code_information``). At the end:
``code_confusion.png`` (code values against test labels), ``traversals.png`` (one row per value of the first
categorical code, same noise along each column) and ``traversal_continuous_<i>.png`` (each continuous code
swept over [-2, 2], one row per categorical value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rlgen.generative import common
from rlgen.generative import kind_gan as gan
from rlgen.generative.config import GenerativeRunConfig, TrainSection

SEED_KEY = common.SEED_KEY
LIVE_COLUMNS = ("live_code_accuracy", "live_code_information")
"""With ``model.d_ema_decay`` > 0: the code's accuracy and information through the live (not averaged) Q."""
PROGRESS_COLUMNS = (*gan.PROGRESS_COLUMNS[:-1], "code_information", *LIVE_COLUMNS, "seconds")
PLOTS = {**gan.PLOTS, "code_accuracy": ("code_accuracy", LIVE_COLUMNS[0]),
         "code_information": ("code_information", LIVE_COLUMNS[1])}  # fmt: skip
TRAVERSAL_STEPS = 10


@dataclass(frozen=True)
class InfoGANModelConfig(gan.GANModelConfig):
    """The GAN's networks plus the latent codes and their weights in L_I."""

    z_dim: int = 62
    """Size of the incompressible noise z (62 in the paper's MNIST set-up)."""
    categorical: tuple[int, ...] = (10,)
    """Number of values of each categorical code."""
    continuous: int = 2
    """Number of continuous codes (uniform in [-1, 1])."""
    lambda_categorical: float = 1.0
    """Weight of the categorical codes' L_I term (1 in the paper)."""
    lambda_continuous: float = 0.1
    """Weight of the continuous codes' L_I term (smaller, so it is on the categorical term's scale)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.objective != "standard":
            raise ValueError("InfoGAN uses the standard objective")
        if any(k < 2 for k in self.categorical) or self.continuous < 0 or not (self.categorical or self.continuous):
            raise ValueError("give at least one code: categorical codes need >= 2 values, continuous >= 0")


@dataclass(frozen=True)
class InfoGANTrainSection(TrainSection):
    """Optimisation, evaluation and checkpoints, and which weights the run keeps."""

    keep: Literal["last", "most_informative"] = "last"
    """Which weights become model.pt: the last epoch's, or those of the evaluation where the categorical code
    carried the most information about the real training images (``code_information``, Q's label-free
    estimate of I(c; x); model selection without labels). The last weights stay in checkpoints/."""


@dataclass(frozen=True, kw_only=True)
class Config(GenerativeRunConfig):
    """InfoGAN on an image dataset."""

    kind: Literal["infogan"] = "infogan"
    """Experiment type."""
    train: InfoGANTrainSection = field(default_factory=InfoGANTrainSection)
    """Optimisation, evaluation, checkpoints and which weights to keep."""
    model: InfoGANModelConfig = field(default_factory=InfoGANModelConfig)
    """Networks, codes and optimiser."""
    techniques: gan.TechniquesConfig = field(default_factory=gan.TechniquesConfig)
    """The improved training techniques (all off in the paper's set-up)."""


def build_model(config: Config, image_shape, levels: int):  # noqa: ANN201 - InfoGAN
    from rlgen.models.infogan import InfoGAN

    m = config.model
    latent = m.z_dim + sum(m.categorical) + m.continuous
    generator, discriminator = gan.build_networks(config, image_shape, latent, 1)
    model = InfoGAN(generator, discriminator, levels, noise_dim=m.z_dim, categorical=m.categorical,
                    continuous=m.continuous, ema_decay=m.ema_decay, d_ema_decay=m.d_ema_decay)  # fmt: skip
    if m.init_std is not None:
        model.init_q_head(m.init_std)
    return model


make_learner = gan.make_learner


def code_accuracy(model, data, averaged: bool = True) -> float:  # noqa: ANN001
    """The first categorical code as a classifier of the test set (:func:`matched_accuracy`); through the
    averaged Q when the model keeps one and ``averaged``."""
    images, labels = data.test.tensors()
    return matched_accuracy(model.predict_code(images, averaged=averaged).numpy(), labels.numpy(), model.categorical[0])


def matched_accuracy(predicted, labels, n_values: int) -> float:  # noqa: ANN001 - integer arrays
    """Accuracy of cluster ids as labels after matching ids to labels one to one (Hungarian algorithm on the
    confusion matrix, ``scipy.optimize.linear_sum_assignment``)."""
    return matched_fraction(*matched_confusion(predicted, labels, n_values))


def matched_fraction(confusion, matched) -> float:  # noqa: ANN001 - from matched_confusion
    """The fraction of the counted images whose cluster id is the one matched to their label."""
    return float(confusion[matched, range(len(matched))].sum() / confusion.sum())


def matched_confusion(predicted, labels, n_values: int):  # noqa: ANN001, ANN201 - integer arrays
    """(counts[cluster id, label], the cluster id matched to each label): the one-to-one matching that
    maximises the matched counts (``scipy.optimize.linear_sum_assignment``)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    k = max(n_values, int(labels.max()) + 1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (predicted, labels), 1)
    rows, cols = linear_sum_assignment(-confusion)
    matched = np.empty(k, dtype=np.int64)
    matched[cols] = rows
    return confusion, matched


def plot_code_confusion(model, data, run) -> None:  # noqa: ANN001
    """code_confusion.png: test images counted by the first categorical code's value (rows, ordered by the
    label each value is matched to) and their label (columns); off-diagonal cells show merged or split
    classes."""
    from rlgen.plots import plot_confusion

    images, labels = data.test.tensors()
    confusion, matched = matched_confusion(model.predict_code(images).numpy(), labels.numpy(), model.categorical[0])
    accuracy = matched_fraction(confusion, matched)
    rows = [f"code {value} -> {label}" for label, value in enumerate(matched)]
    title = f"code accuracy {100 * accuracy:.1f}% (Hungarian matching)"
    plot_confusion(confusion[matched], rows, [str(label) for label in range(len(matched))], run / "code_confusion.png",
                   title=title)  # fmt: skip


def epoch_metrics(model, config: Config, data) -> dict[str, float]:  # noqa: ANN001
    import torch

    metrics = gan.quality(model, config, data)
    if model.categorical and hasattr(data, "test"):
        train_images = torch.from_numpy(data.train.images)  # uint8: no copy
        model.refresh_averaged_q(train_images)
        metrics["code_accuracy"] = code_accuracy(model, data)
        metrics["code_information"] = model.code_information(train_images)
        if model.ema_q_head is not None:
            metrics[LIVE_COLUMNS[0]] = code_accuracy(model, data, averaged=False)
            metrics[LIVE_COLUMNS[1]] = model.code_information(train_images, averaged=False)
    return metrics


def extra_images(model, data, run, levels: int, samples: int) -> None:  # noqa: ANN001
    """code_confusion.png on a labelled test set; traversal grids of the codes (fixed noise per column), none
    when ``samples`` is 0."""
    import torch

    if model.categorical and hasattr(data, "test"):
        plot_code_confusion(model, data, run)
    if not samples:
        return

    from rlgen.models.likelihoods import from_unit
    from rlgen.plots import save_image_grid

    with torch.random.fork_rng():
        torch.manual_seed(0)
        noise = torch.rand(TRAVERSAL_STEPS, model.noise_dim) * 2 - 1
        base_cont = torch.zeros(TRAVERSAL_STEPS, model.continuous)
        if model.categorical:
            k = model.categorical[0]
            rows = [_latent_with(model, noise, value, base_cont) for value in range(k)]
            grid = from_unit(model.generate(torch.cat(rows)), levels)
            save_image_grid(grid, levels, run / "traversals.png", columns=TRAVERSAL_STEPS)
        sweep = torch.linspace(-2, 2, TRAVERSAL_STEPS)
        for i in range(model.continuous):
            rows = []
            for value in range(model.categorical[0] if model.categorical else 1):
                cont = base_cont.clone()
                cont[:, i] = sweep
                rows.append(_latent_with(model, noise[:1].expand(TRAVERSAL_STEPS, -1), value, cont))
            images = from_unit(model.generate(torch.cat(rows)), levels)
            save_image_grid(images, levels, run / f"traversal_continuous_{i}.png", columns=TRAVERSAL_STEPS)


def _latent_with(model, noise, value: int, cont):  # noqa: ANN001, ANN202
    import torch

    cats = torch.zeros(len(noise), len(model.categorical), dtype=torch.long)
    if model.categorical:
        cats[:, 0] = value
    return model.latent(noise, cats, cont)


def selection(config: Config) -> tuple[str, bool] | None:
    """(metric, higher is better) the trainer keeps the best weights on, or None to keep the last."""
    return ("code_information", True) if config.train.keep == "most_informative" else None


def validate(config: Config) -> None:
    from rlgen.errors import ConfigError

    common.validate_data(config)
    common.reject_validation_split(config)
    measures_code = bool(config.model.categorical) and config.data.dataset != "frames"
    if config.train.keep == "most_informative" and not measures_code:
        raise ConfigError("train.keep: most_informative selects on the categorical code's information about the "
                          "training images (not measured on frames); give model.categorical a code and an image "
                          "dataset, or set train.keep: last")  # fmt: skip
    if config.model.d_ema_decay > 0 and not measures_code:
        raise ConfigError("model.d_ema_decay averages Q for the categorical code's accuracy and information, which "
                          "need a categorical code and an image dataset; set model.d_ema_decay: 0")  # fmt: skip


train, evaluate, sample = common.kind_functions(__name__)
