"""What an executor worker (a process or a Ray actor) holds and does for the controller stage: it loads V, M
and the env from the run directory once, then plays one episode per task ``(mode, params, seed)``:

- ``train``: the real env with the training caps (``controller.max_steps``, ``controller.negative_stop``);
- ``eval``: the real env as ``rlgen evaluate`` plays it;
- ``dream``: inside M (``rlgen.agents.world_model.dream``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_STATE: dict[str, Any] = {}


def setup_worker(run_path: str) -> None:
    from rlgen.agents.world_model.agent import load_parts
    from rlgen.kinds import load_saved_config
    from rlgen.runs import RunDir

    run = RunDir(Path(run_path))
    config = load_saved_config(run.config_file)
    _STATE.clear()
    _STATE.update(run=run, config=config, parts=load_parts(config, run))


def _player(mode: str):  # noqa: ANN202 - RealEnvPlayer or Dream
    if mode not in _STATE:
        config, parts = _STATE["config"], _STATE["parts"]
        if mode == "dream":
            from rlgen.agents.world_model.dream import dream_of_run

            _STATE[mode] = dream_of_run(config, _STATE["run"], parts, config.controller.dream_max_steps)
        else:
            from rlgen.agents.world_model.agent import RealEnvPlayer

            _STATE[mode] = RealEnvPlayer(config, parts, training=mode == "train")
    return _STATE[mode]


def play_task(item: tuple[str, np.ndarray, int]) -> tuple[float, int]:
    """(return, steps) of one episode of the controller ``params`` with env (or dream) seed ``seed``."""
    mode, params, seed = item
    player = _player(mode)
    if mode == "dream":
        _STATE["parts"].controller.set_flat(params)
        return player.play(seed)
    result = player.play(params, episodes=1, seed=seed)
    return result.returns[0], result.lengths[0]


def close_worker() -> None:
    for mode in ("train", "eval"):
        if mode in _STATE:
            _STATE.pop(mode).close()
