"""YAML run configs -> typed, frozen dataclasses.

A run config is a YAML mapping with a ``kind`` (which experiment to run) and one mapping per
section; every section maps one-to-one onto a frozen dataclass declared by the kind. Loading
checks every key and every value against the dataclass annotations, so a typo or a wrong type
fails at once with one line naming the file, the key path and the fix.

Order of application: the file, then its ``debug:`` block (only with ``--debug``), then each
``--set section.key=value`` override (the value is parsed as YAML), then ``--seed``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from rlgen.errors import ConfigError

DEBUG_KEY = "debug"


@dataclasses.dataclass(frozen=True)
class RunSection:
    """Where a run is written and what it is called (every kind has this section)."""

    name: str = ""
    """Run name; the run directory is ``<output_dir>/<name>__<seed>__<timestamp>``. Empty: the config file's stem."""
    output_dir: str = "runs"
    """Folder that holds run directories (relative to the working directory)."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-3`` and ``3e5`` as floats (YAML 1.1 needs a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text safely; a syntax error becomes a one-line ConfigError."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None


def read_yaml_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from disk with clear errors for a missing, unreadable or non-mapping file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (check the path; configs live in run_configs/)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from None
    data = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a run config must be a YAML mapping with a 'kind' key")
    return data


# --------------------------------------------------------------------------- overrides


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``patch``; nested mappings merge, everything else is replaced."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``section.key=value`` into the key path and the YAML-parsed value."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set train.total_timesteps=5000")
    parts = [p.strip() for p in key.split(".")]
    if any(not p for p in parts):
        raise ConfigError(f"--set {text!r}: empty part in key path {key!r}")
    return parts, parse_yaml(value, f"--set {key}") if value.strip() else ""


def set_path(data: Mapping[str, Any], parts: Sequence[str], value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the value at the nested key path ``parts`` replaced by ``value``."""
    out = dict(data)
    head, rest = parts[0], parts[1:]
    if rest:
        child = out.get(head)
        out[head] = set_path(child if isinstance(child, Mapping) else {}, rest, value)
    else:
        out[head] = value
    return out


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides (``section.key=value``) to raw config data."""
    for text in overrides:
        parts, value = parse_override(text)
        data = set_path(data, parts, value)
    return data


# --------------------------------------------------------------------------- typed building


def build(cls: type, data: Any, *, source: str, path: str = "") -> Any:
    """Build the frozen dataclass ``cls`` from raw data, checking every key and type.

    Args:
        cls: the dataclass to build.
        data: the raw mapping (from YAML and overrides).
        source: where the data came from (a file name), used in error messages.
        path: the dotted key path of ``data`` inside the whole config.
    """
    where = path or "the config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: '{where}' must be a mapping of keys to values, got {_describe(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{source}: unknown key '{_join(path, key)}'{suggest(str(key), fields, path)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, fld in fields.items():
        key_path = _join(path, name)
        if name in data:
            values[name] = coerce(hints[name], data[name], source=source, path=key_path)
        elif fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{source}: missing required key '{key_path}'{_field_doc_hint(cls, name)}")
    try:
        return cls(**values)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{source}: invalid value in '{where}': {err}") from None


def coerce(hint: Any, value: Any, *, source: str, path: str) -> Any:
    """Check ``value`` against the type annotation ``hint`` and convert lists to tuples, ints to floats."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(hint, value, source=source, path=path)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            names = ", ".join(repr(c) for c in choices)
            suggestion = suggest(str(value), [str(c) for c in choices])
            raise ConfigError(f"{source}: '{path}' must be one of {names}, got {value!r}{suggestion}")
        return value
    if dataclasses.is_dataclass(hint):
        return build(hint, value, source=source, path=path)
    if origin in (dict, Mapping) or hint is dict:
        return _coerce_dict(hint, value, source=source, path=path)
    if origin in (list, tuple, Sequence) or hint in (list, tuple):
        return _coerce_sequence(hint, value, source=source, path=path)
    return _coerce_scalar(hint, value, source=source, path=path)


def _coerce_union(hint: Any, value: Any, *, source: str, path: str) -> Any:
    args = typing.get_args(hint)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return coerce(arg, value, source=source, path=path)
        except ConfigError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    names = " or ".join(_type_name(a) for a in args)
    raise ConfigError(f"{source}: '{path}' must be {names}, got {_describe(value)}")


def _coerce_dict(hint: Any, value: Any, *, source: str, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: '{path}' must be a mapping, got {_describe(value)}")
    args = typing.get_args(hint)
    value_hint = args[1] if len(args) == 2 else Any
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: keys of '{path}' must be strings, got {key!r}")
        out[key] = coerce(value_hint, item, source=source, path=_join(path, key))
    return out


def _coerce_sequence(hint: Any, value: Any, *, source: str, path: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{source}: '{path}' must be a list, got {_describe(value)}")
    args = [a for a in typing.get_args(hint) if a is not Ellipsis]
    item_hint = args[0] if args else Any
    return tuple(coerce(item_hint, v, source=source, path=f"{path}[{i}]") for i, v in enumerate(value))


def _coerce_scalar(hint: Any, value: Any, *, source: str, path: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():  # 1e6 in YAML is a float
            return int(value)
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{source}: '{path}' must be {_type_name(hint)}, got {_describe(value)}")


# --------------------------------------------------------------------------- saving


def to_dict(obj: Any) -> Any:
    """Turn a config dataclass (and nested tuples) back into plain YAML-able data."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Serialise plain data as block-style YAML, keeping the key order."""
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)


# --------------------------------------------------------------------------- messages


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def suggest(key: str, valid: typing.Iterable[str], prefix: str = "") -> str:
    """``; did you mean 'x'?`` for the closest valid name (or the list of valid names)."""
    valid = list(valid)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{_join(prefix, close[0])}'?"
    return f"; valid keys: {', '.join(valid)}" if valid else ""


def _field_doc_hint(cls: type, name: str) -> str:
    return f" (see the docstring of {cls.__name__}.{name})"


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if isinstance(hint, type):
        return {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}.get(
            hint.__name__, f"a {hint.__name__}"
        )
    return str(hint).replace("typing.", "")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"
