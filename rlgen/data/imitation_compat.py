"""Convert rlgen demonstrations to and from HumanCompatibleAI ``imitation``'s trajectory types.

``imitation`` is not a dependency: :func:`from_trajectories` accepts any objects with its ``Trajectory``
fields (``obs`` with one more row than ``acts``, ``acts``, ``terminal``, and ``rews`` when they are
``TrajectoryWithRew``), and :func:`to_trajectories` imports ``imitation`` only when called.

    from rlgen.data.demonstrations import Demonstrations
    from rlgen.data.imitation_compat import from_trajectories, to_trajectories
    trajs = to_trajectories(Demonstrations.load("demos/pendulum.npz"))   # list[TrajectoryWithRew]
    demos = from_trajectories(trajs, env_id="Pendulum-v1")               # then demos.save("x.npz")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from rlgen.data.demonstrations import Demonstrations
from rlgen.errors import RlgenError


def to_trajectories(demos: Demonstrations) -> list[Any]:
    """One ``imitation.data.types.TrajectoryWithRew`` per episode (``terminal`` = the episode terminated)."""
    try:
        from imitation.data.types import TrajectoryWithRew
    except ImportError:
        raise RlgenError(
            "converting to imitation's trajectories needs the imitation package (pip install imitation)"
        ) from None
    trajectories = []
    for ep in np.unique(demos.episode):
        rows = np.flatnonzero(demos.episode == ep)
        obs = np.concatenate([demos.obs[rows], demos.next_obs[rows[-1:]]])
        trajectories.append(
            TrajectoryWithRew(
                obs=obs,
                acts=demos.acts[rows],
                infos=None,
                terminal=bool(demos.terminated[rows[-1]]),
                rews=demos.rews[rows].astype(np.float32),
            )
        )
    return trajectories


def from_trajectories(trajectories: Iterable[Any], env_id: str, meta: dict[str, Any] | None = None) -> Demonstrations:
    """rlgen demonstrations from ``imitation`` trajectories (with or without rewards).

    Without rewards the expert's return is unknown: ``rews`` are zeros and the sidecar says so
    (``"rewards": "missing"``), so fraction-of-expert scores are not reported for these demos.
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("obs", "acts", "next_obs", "rews", "ends", "episode")}
    has_rewards = True
    for index, traj in enumerate(trajectories):
        obs, acts = np.asarray(traj.obs), np.asarray(traj.acts)
        if len(obs) != len(acts) + 1 or len(acts) == 0:
            n_obs, n_acts = len(obs), len(acts)
            raise RlgenError(f"trajectory {index}: needs len(obs) == len(acts) + 1 >= 2, got {n_obs} and {n_acts}")
        rews = getattr(traj, "rews", None)
        has_rewards &= rews is not None
        parts["obs"].append(obs[:-1])
        parts["next_obs"].append(obs[1:])
        parts["acts"].append(acts)
        parts["rews"].append(np.zeros(len(acts), np.float32) if rews is None else np.asarray(rews, np.float32))
        end = np.zeros(len(acts), bool)
        end[-1] = True
        parts["ends"].append(end & bool(traj.terminal))
        parts["episode"].append(np.full(len(acts), index, np.int64))
    if not parts["obs"]:
        raise RlgenError("no trajectories to convert")
    arrays = {name: np.concatenate(values) for name, values in parts.items()}
    ends = arrays.pop("ends")
    last = np.r_[arrays["episode"][1:] != arrays["episode"][:-1], True]
    demos_meta = _meta(arrays, env_id, has_rewards, meta)
    try:
        return Demonstrations(**arrays, terminated=ends, truncated=last & ~ends, meta=demos_meta)
    except ValueError as err:
        raise RlgenError(f"bad trajectories: {err}") from None


def _meta(arrays: dict[str, np.ndarray], env_id: str, has_rewards: bool, extra: dict[str, Any] | None) -> dict:
    meta: dict[str, Any] = {
        "env_id": env_id,
        "n_episodes": int(arrays["episode"][-1]) + 1,
        "n_transitions": len(arrays["episode"]),
        "policy": "converted from imitation trajectories",
    }
    if has_rewards:
        returns = np.bincount(arrays["episode"], weights=arrays["rews"].astype(np.float64))
        meta.update(expert_return_mean=float(returns.mean()), expert_return_std=float(returns.std()))
    else:
        meta["rewards"] = "missing"
    return {**meta, **(extra or {})}
