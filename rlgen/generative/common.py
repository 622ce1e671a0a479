"""The functions every generative kind module exposes, bound to that module (``kinds`` contract)."""

from __future__ import annotations

from types import ModuleType

from rlgen.evaluation import EvalOptions
from rlgen.runs import RunDir

SEED_KEY = "train.seed"


def validate_data(config) -> None:
    """Dataset problems found before a run directory is made (no path given, a missing folder, missing or
    corrupt files), so that a failed start leaves nothing behind that would block the corrected retry."""
    from pathlib import Path

    from rlgen.data.images import CIFAR_URL, MNIST_URL, load_image_set
    from rlgen.errors import ConfigError, RlgenError

    data = config.data
    if data.dataset == "digits":
        return
    if data.dataset == "frames":
        from rlgen.data.frame_shards import FrameShards

        if not data.path:
            raise ConfigError("data.path is required for frames (a folder written by rlgen collect --frames)")
        try:
            FrameShards.open(data.path)
        except RlgenError as err:
            raise ConfigError(str(err)) from None
        return
    where = MNIST_URL if data.dataset == "mnist" else CIFAR_URL
    if not data.path:
        raise ConfigError(f"data.path is required for {data.dataset} (a folder with the files from {where})")
    if not Path(data.path).is_dir():
        raise ConfigError(f"data.path {data.path} is not a folder; put the {data.dataset} files there (from {where})")
    try:  # reads every file once (MNIST in ~0.1 s, CIFAR-10 in ~1 s)
        for split in ("train", "test"):
            load_image_set(data.dataset, split, data.path)
    except RlgenError as err:
        raise ConfigError(str(err)) from None


def reject_validation_split(config) -> None:
    """Kinds without a likelihood (GANs) have nothing to select on a validation split."""
    from rlgen.errors import ConfigError

    if config.data.validation:
        raise ConfigError(f"data.validation selects weights on bits/dim, which kind {config.kind} does not "
                          "report; remove it (set data.validation: 0)")  # fmt: skip


def kind_functions(module_name: str):  # noqa: ANN201 - (train, evaluate, sample)
    """``train``, ``evaluate`` and ``sample`` for the kind module ``module_name`` (its own build_model etc.)."""
    import sys

    def kind() -> ModuleType:
        return sys.modules[module_name]

    def train(config, run: RunDir) -> None:  # noqa: ANN001
        from rlgen.generative.trainer import GenerativeTrainer

        GenerativeTrainer(config, run, kind()).train()

    def evaluate(config, run: RunDir, options: EvalOptions):  # noqa: ANN001, ANN202 - GenerativeResult
        from rlgen.generative.trainer import evaluate_generative

        return evaluate_generative(config, run, kind(), options)

    def sample(config, run: RunDir, n: int, temperature: float | None, checkpoint: str = "final"):  # noqa: ANN001, ANN202
        """(integer images, levels) drawn from the run's model."""
        import torch

        from rlgen.generative.trainer import load_trained, sample_images

        model, data = load_trained(config, run, kind(), checkpoint)
        torch.manual_seed(config.train.seed)
        return sample_images(model, config, n, temperature), data.levels

    return train, evaluate, sample
