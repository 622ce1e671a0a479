"""Save and restore SB3 ``VecNormalize`` statistics as plain ``.npz`` (SB3's own ``save`` pickles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rlgen.envs.normalization import NormStats
from rlgen.errors import RlgenError

STATS_FILE = "vecnormalize.npz"


def find_vecnormalize(venv: VecEnv) -> VecNormalize | None:
    """The ``VecNormalize`` layer in a stack of vec-env wrappers, if any."""
    while venv is not None:
        if isinstance(venv, VecNormalize):
            return venv
        venv = getattr(venv, "venv", None)
    return None


def obs_stats(norm: VecNormalize | None) -> NormStats | None:
    """A frozen copy of the observation statistics (what evaluation applies); None if not normalised."""
    if norm is None or not norm.norm_obs:
        return None
    rms = norm.obs_rms
    return NormStats(rms.mean.copy(), rms.var.copy(), float(rms.count), norm.clip_obs, norm.epsilon)


def save_vecnormalize(norm: VecNormalize, path: Path) -> None:
    """Write observation and return statistics (readable by :meth:`NormStats.load` too)."""
    arrays = {"clip": norm.clip_obs, "epsilon": norm.epsilon}
    if norm.norm_obs:
        arrays.update(mean=norm.obs_rms.mean, var=norm.obs_rms.var, count=norm.obs_rms.count)
    arrays |= {
        "ret_mean": norm.ret_rms.mean,
        "ret_var": norm.ret_rms.var,
        "ret_count": norm.ret_rms.count,
        "clip_reward": norm.clip_reward,
        "gamma": norm.gamma,
        "norm_obs": norm.norm_obs,
        "norm_reward": norm.norm_reward,
    }
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load_vecnormalize(norm: VecNormalize, path: Path) -> None:
    """Restore statistics saved by :func:`save_vecnormalize` into a live ``VecNormalize``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            norm.ret_rms.mean, norm.ret_rms.var = data["ret_mean"].copy(), data["ret_var"].copy()
            norm.ret_rms.count = float(data["ret_count"])
            if not norm.norm_obs:
                return
            if data["mean"].shape != norm.obs_rms.mean.shape:
                raise RlgenError(
                    f"{path}: normalisation statistics of shape {data['mean'].shape} do not fit observations "
                    f"of shape {norm.obs_rms.mean.shape}"
                )
            norm.obs_rms.mean, norm.obs_rms.var = data["mean"].copy(), data["var"].copy()
            norm.obs_rms.count = float(data["count"])
    except (OSError, ValueError, KeyError) as err:
        raise RlgenError(f"corrupt normalisation statistics {path}: {err}") from None


def load_obs_stats(path: Path) -> NormStats | None:
    """Observation statistics from :func:`save_vecnormalize`'s file; None when absent or not normalised."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            normalised = bool(data["norm_obs"]) if "norm_obs" in data else "mean" in data
    except (OSError, ValueError) as err:
        raise RlgenError(f"corrupt normalisation statistics {path}: {err}") from None
    return NormStats.load(path) if normalised else None
