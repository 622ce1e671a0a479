"""Figures written into run directories (matplotlib, headless)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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


def plot_returns(run_path: Path, out: Path, *, title: str = "") -> Path:
    """Training episode return (from ``progress.csv``) and evaluation return ± std (``evaluations.csv``)."""
    progress = read_csv_columns(run_path / "progress.csv")
    evals = read_csv_columns(run_path / "evaluations.csv")
    fig, ax = plt.subplots(figsize=(7, 4))
    steps, returns = progress.get("time/total_timesteps"), progress.get("rollout/ep_rew_mean")
    if steps and returns:
        pairs = [(s, r) for s, r in zip(steps, returns, strict=False) if r == r and s == s]
        if pairs:
            ax.plot(*zip(*pairs, strict=True), label="training episodes (mean of last 100)")
    if evals.get("timesteps"):
        x, mean, std = evals["timesteps"], evals["mean_return"], evals["std_return"]
        ax.errorbar(x, mean, yerr=std, fmt="o-", capsize=3, label="evaluation (mean ± std)")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
