"""The registry of experiment kinds (``kind:`` in a run config) and run-config loading.

Each kind lives in a module that exposes:

- ``Config``: the top-level frozen dataclass (first field ``kind``, then one field per section);
- ``SEED_KEY``: the dotted key that ``--seed`` sets (e.g. ``"env.seed"``);
- ``train(config, run)``: trains into a :class:`rlgen.runs.RunDir` (resuming when it holds a checkpoint);
- ``evaluate(run, options)``: evaluates a finished or interrupted run (optional).

Later agents and models add a kind with :func:`register_kind` (or a line in ``_BUILTIN``); the CLI
never changes. Modules are imported lazily so that config errors show without importing torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from rlgen.config import (
    DEBUG_KEY,
    apply_overrides,
    build,
    deep_merge,
    read_yaml_file,
    set_path,
    suggest,
)
from rlgen.errors import ConfigError

_BUILTIN: dict[str, str] = {
    "rl": "rlgen.agents.rl",
    "vime": "rlgen.agents.vime",
    "gail": "rlgen.agents.gail",
    "world_model": "rlgen.agents.world_model",
    "vae": "rlgen.generative.kind_vae",
    "flow": "rlgen.generative.kind_flow",
    "pixelcnn": "rlgen.generative.kind_pixelcnn",
    "gan": "rlgen.generative.kind_gan",
    "infogan": "rlgen.generative.kind_infogan",
}
_REGISTRY: dict[str, str] = dict(_BUILTIN)


def register_kind(name: str, module: str) -> None:
    """Register ``kind: name`` as implemented by the importable module path ``module``."""
    _REGISTRY[name] = module


def known_kinds() -> list[str]:
    return sorted(_REGISTRY)


def kind_module(name: str) -> ModuleType:
    """Import the module that implements ``kind: name``."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown kind {name!r}{suggest(name, known_kinds())}")
    return importlib.import_module(_REGISTRY[name])


def load_run_config(
    path: str | Path,
    *,
    overrides: Sequence[str] = (),
    debug: bool = False,
    seed: int | None = None,
) -> Any:
    """Load a run config file into its kind's frozen dataclass.

    Args:
        path: the YAML file.
        overrides: ``section.key=value`` strings from ``--set``.
        debug: apply the file's ``debug:`` block of overrides (a run that finishes in seconds).
        seed: the ``--seed`` value, written to the kind's ``SEED_KEY``.
    """
    source = str(path)
    raw = read_yaml_file(path)
    kind = raw.get("kind")
    if kind is None:
        raise ConfigError(f"{source}: missing required key 'kind' (one of: {', '.join(known_kinds())})")
    if not isinstance(kind, str):
        raise ConfigError(f"{source}: 'kind' must be a string, got {kind!r}")
    if kind not in _REGISTRY:
        raise ConfigError(f"{source}: unknown kind {kind!r}{suggest(kind, known_kinds())}")
    module = kind_module(kind)
    debug_block = raw.pop(DEBUG_KEY, None)
    if debug_block is not None and not isinstance(debug_block, dict):
        raise ConfigError(f"{source}: 'debug' must be a mapping of overrides like the config's own sections")
    if debug and debug_block is None:
        raise ConfigError(f"{source}: --debug given but the config has no 'debug:' block of overrides")
    # Validate the file alone and with its debug block, so typos in either surface at once.
    config = build(module.Config, raw, source=source)
    if debug_block is not None:
        debug_config = build(module.Config, deep_merge(raw, debug_block), source=f"{source} (debug block)")
        if debug:
            raw, config = deep_merge(raw, debug_block), debug_config
    if overrides or seed is not None:
        raw = apply_overrides(raw, overrides)
        if seed is not None:
            raw = set_path(raw, module.SEED_KEY.split("."), seed)
        config = build(module.Config, raw, source=f"{source} with command-line overrides")
    return config


def load_saved_config(path: str | Path, overrides: Sequence[str] = ()) -> Any:
    """Load the resolved ``config.yaml`` of a run directory (no debug block; optional overrides)."""
    source = str(path)
    raw = apply_overrides(read_yaml_file(path), overrides)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _REGISTRY:
        raise ConfigError(f"{source}: not an rlgen resolved config (bad or missing 'kind': {kind!r})")
    return build(kind_module(kind).Config, raw, source=source)
