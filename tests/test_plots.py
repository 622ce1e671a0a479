"""Figures are by-products: they skip what cannot be drawn and never fail the run that asked for them."""

from __future__ import annotations

from pathlib import Path

from rlgen.plots import plot_columns, plot_progress


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def test_plot_columns_skips_non_finite_values_and_missing_columns(tmp_path: Path) -> None:
    csv_path = _write_csv(tmp_path / "progress.csv", ["step,a", "1,0.5", "2,nan", "3,0.7", "4,-inf", "5,inf"])
    out = plot_columns(csv_path, "step", {"a": "a", "absent": "absent"}, tmp_path / "a.png", ylabel="a")
    assert out == tmp_path / "a.png" and out.stat().st_size > 0


def test_a_plot_that_cannot_be_written_warns_instead_of_raising(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    _write_csv(tmp_path / "progress.csv", ["time/total_timesteps,r", "1,0.5", "2,0.7"])
    blocked = tmp_path / "plots"
    blocked.write_text("a file where the plots folder should be")
    assert plot_progress(tmp_path, {"r": "reward"}, blocked / "r.png", ylabel="r", title="t") is None
    assert "warning: plot_columns could not write its figure" in capsys.readouterr().err


def test_a_plot_that_cannot_be_drawn_warns_instead_of_raising(tmp_path: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    import rlgen.plots

    def broken_save(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 -- e.g. matplotlib failing on 1e308 ticks
        raise ValueError("arange: cannot compute length")

    monkeypatch.setattr(rlgen.plots, "_save", broken_save)
    csv_path = _write_csv(tmp_path / "progress.csv", ["step,a", "1,0.5", "2,0.7"])
    assert plot_columns(csv_path, "step", ["a"], tmp_path / "a.png", ylabel="a") is None
    assert "ValueError: arange" in capsys.readouterr().err
