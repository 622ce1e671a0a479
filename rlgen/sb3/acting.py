"""Turn an SB3 policy (plus frozen observation statistics) into ``act(obs) -> action``."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.policies import BasePolicy

from rlgen.envs.normalization import NormStats
from rlgen.evaluation import ActFn


def policy_act_fn(policy: BasePolicy, stats: NormStats | None, *, deterministic: bool) -> ActFn:
    """An action function for :func:`rlgen.evaluation.run_episodes` (single, unbatched observations)."""

    def act(obs: Any) -> Any:
        if stats is not None:
            obs = stats.normalize(obs)
        action, _ = policy.predict(obs, deterministic=deterministic)
        return action

    return act
