"""Figures written into run directories (matplotlib, headless)."""

from __future__ import annotations

import csv
import functools
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PlotFn = TypeVar("PlotFn", bound=Callable[..., object])
PROGRESS_STEPS = "time/total_timesteps"
"""The x column of ``progress.csv`` in SB3-based runs."""


def never_fails(plot: PlotFn) -> PlotFn:
    """A figure is a by-product: a plotting error (a full disk, a matplotlib edge case) prints a one-line
    warning and returns None instead of failing the training run that wanted the figure."""

    @functools.wraps(plot)
    def guarded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return plot(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 -- any plotting failure, see the docstring
            plt.close("all")
            print(f"warning: {plot.__name__} could not write its figure: {type(err).__name__}: {err}", file=sys.stderr)
            return None

    return guarded  # type: ignore[return-value]


def _finite_pairs(xs: list[float], ys: list[float]) -> list[tuple[float, float]]:
    return [(a, b) for a, b in zip(xs, ys, strict=False) if math.isfinite(a) and math.isfinite(b)]


def read_csv_columns(path: Path) -> dict[str, list[float]]:
    """Numeric columns of a CSV file (empty cells skipped per column); {} when the file is absent."""
    if not path.is_file():
        return {}
    columns: dict[str, list[float]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                try:
                    columns.setdefault(key, []).append(float(value))
                except (TypeError, ValueError):
                    columns.setdefault(key, []).append(float("nan"))
    return columns


@never_fails
def plot_returns(run_path: Path, out: Path, *, title: str = "") -> Path:
    """Training episode return (from ``progress.csv``) and evaluation return ± std (``evaluations.csv``)."""
    progress = read_csv_columns(run_path / "progress.csv")
    evals = read_csv_columns(run_path / "evaluations.csv")
    fig, ax = plt.subplots(figsize=(7, 4))
    steps, returns = progress.get(PROGRESS_STEPS), progress.get("rollout/ep_rew_mean")
    if steps and returns:
        pairs = _finite_pairs(steps, returns)
        if pairs:
            ax.plot(*zip(*pairs, strict=True), label="training episodes (mean of last 100)")
    if evals.get("timesteps"):
        x, mean, std = evals["timesteps"], evals["mean_return"], evals["std_return"]
        ax.errorbar(x, mean, yerr=std, fmt="o-", capsize=3, label="evaluation (mean ± std)")
    return _save(fig, ax, out, xlabel="environment steps", ylabel="episode return", title=title)


@never_fails
def save_image_grid(images, levels: int, out: Path, *, columns: int = 8, scale: int = 4) -> Path:
    """Integer images (N, C, H, W) of ``levels`` values as one PNG grid (1-pixel gaps), upscaled ``scale``x."""
    import numpy as np

    array = np.asarray(images, dtype=np.float64) * (255.0 / (levels - 1))
    n, c, h, w = array.shape
    rows = -(-n // columns)
    grid = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1, c), 255.0)
    for index in range(n):
        r, col = divmod(index, columns)
        grid[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + col * (w + 1) : 1 + col * (w + 1) + w] = array[index].transpose(
            1, 2, 0
        )
    grid = np.kron(grid, np.ones((scale, scale, 1))).clip(0, 255).astype(np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(out, grid[:, :, 0] if c == 1 else grid, cmap="gray" if c == 1 else None, vmin=0, vmax=255)
    return out


@never_fails
def plot_columns(
    csv_path: Path,
    x: str,
    ys: list[str] | dict[str, str],
    out: Path,
    *,
    ylabel: str,
    title: str = "",
    xlabel: str | None = None,
) -> Path:
    """Line plot of some columns of a CSV file against another; ``ys`` may map columns to legend labels."""
    columns = read_csv_columns(csv_path)
    labels = ys if isinstance(ys, dict) else {y: y for y in ys}
    fig, ax = plt.subplots(figsize=(7, 4))
    for y, label in labels.items():
        pairs = _finite_pairs(columns.get(x, []), columns.get(y, []))
        if pairs:
            ax.plot(*zip(*pairs, strict=True), "o-" if len(pairs) < 30 else "-", label=label)
    return _save(fig, ax, out, xlabel=xlabel or x, ylabel=ylabel, title=title)


def plot_progress(run_path: Path, ys: dict[str, str], out: Path, *, ylabel: str, title: str) -> Path | None:
    """Columns of an SB3-based run's ``progress.csv`` (legend labels in ``ys``) against environment steps."""
    return plot_columns(run_path / "progress.csv", PROGRESS_STEPS, ys, out, ylabel=ylabel, xlabel="environment steps",
                        title=title)  # fmt: skip


@never_fails
def plot_confusion(counts, row_labels: list[str], column_labels: list[str], out: Path, *, title: str) -> Path:  # noqa: ANN001
    """A table of counts (rows: predicted groups, columns: true labels) as a heat map with each count written
    in its cell."""
    fig, ax = plt.subplots(figsize=(0.55 * len(column_labels) + 2.5, 0.45 * len(row_labels) + 1.5))
    ax.imshow(counts, cmap="Blues")
    top = counts.max() if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        if value:
            colour = "white" if value > top / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(column_labels)), column_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel("label")
    ax.set_title(title)
    return _write_figure(fig, out)


def _save(fig, ax, out: Path, *, xlabel: str, ylabel: str, title: str) -> Path:  # noqa: ANN001
    """Label, grid, legend (when there are labelled lines), write the PNG and close the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return _write_figure(fig, out)


def _write_figure(fig, out: Path) -> Path:  # noqa: ANN001
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
