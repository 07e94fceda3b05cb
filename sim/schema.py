"""Config schema helpers: typed dataclass fields with limits, and a strict dict -> dataclass converter.

Every value is checked before any simulating; a bad one raises `ConfigError` naming the
dotted key, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any

_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class ConfigError(ValueError):
    """A config value that the model cannot accept."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"config key '{key}' has bad value {value!r}: {allowed}")


def spec(
    default: Any = dataclasses.MISSING,
    *,
    factory: Any = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | None = None,
    time: bool = False,
    doc: str = "",
) -> Any:
    """A dataclass field with limits checked by `from_dict` (`time=True`: an 'HH:MM' string)."""
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "time": time, "doc": doc}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def parse_time_min(text: Any, key: str = "time") -> float:
    """'HH:MM' (00:00 to 24:00) -> minutes after midnight."""
    if not isinstance(text, str) or not _TIME_RE.match(text.strip()):
        hint = " (quote times in YAML: unquoted 11:00 is read as a number)" if isinstance(text, int) else ""
        raise ConfigError(key, text, f"expected a time of day 'HH:MM' between 00:00 and 24:00{hint}")
    hours, minutes = (int(p) for p in text.strip().split(":"))
    if hours == 24 and minutes:
        raise ConfigError(key, text, "expected a time of day 'HH:MM' between 00:00 and 24:00")
    return float(hours * 60 + minutes)


def _describe_limits(meta: dict) -> str:
    parts = []
    for name, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if meta.get(name) is not None:
            parts.append(f"{sym} {meta[name]:g}")
    return " and ".join(parts)


def _check_limits(key: str, value: float, meta: dict, kind: str) -> None:
    bad = (
        (meta.get("ge") is not None and value < meta["ge"])
        or (meta.get("gt") is not None and value <= meta["gt"])
        or (meta.get("le") is not None and value > meta["le"])
        or (meta.get("lt") is not None and value >= meta["lt"])
    )
    if bad:
        raise ConfigError(key, value, f"expected {kind} {_describe_limits(meta)}")


def _convert(key: str, value: Any, tp: Any, meta: dict) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _convert(key, value, non_none[0], meta)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, value, "expected true or false")
    if tp is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(key, value, f"expected an integer {_describe_limits(meta)}".rstrip())
        _check_limits(key, int(value), meta, "an integer")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ConfigError(key, value, f"expected a number {_describe_limits(meta)}".rstrip())
        _check_limits(key, float(value), meta, "a number")
        return float(value)
    if tp is str:
        if meta.get("time"):
            parse_time_min(value, key)
            return value.strip()
        if not isinstance(value, str):
            raise ConfigError(key, value, "expected a string")
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(key, value, f"expected one of {', '.join(meta['choices'])}")
        return value
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, value, "expected a list")
        return [_convert(f"{key}[{i}]", v, args[0], meta) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, value, "expected a mapping")
        return {str(k): _convert(f"{key}.{k}", v, args[1], meta) for k, v in value.items()}
    raise TypeError(f"unsupported schema type {tp!r} for {key}")  # a bug in the schema, not in the input


def from_dict(cls: type, data: Any, prefix: str = "") -> Any:
    """Build dataclass `cls` from a (partial) nested mapping, checking keys, types and limits."""
    if isinstance(data, cls):
        data = dataclasses.asdict(data)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(prefix or "config", data, "expected a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(key, data[unknown[0]], f"unknown key; allowed keys here: {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _convert(key, data[name], hints[name], dict(f.metadata))
        elif dataclasses.is_dataclass(hints[name]):
            kwargs[name] = from_dict(hints[name], {}, key)
    return cls(**kwargs)


def to_dict(obj: Any) -> dict:
    """A config dataclass as plain nested dicts and lists."""
    return dataclasses.asdict(obj)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {'a.b.c': value}; lists of scalars stay lists, lists of mappings are JSON text."""
    import json

    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(tree, (list, tuple)):
        if all(isinstance(v, (int, float, str, bool)) for v in tree):
            out[prefix] = json.dumps(list(tree))
        else:
            out[prefix] = json.dumps(tree, sort_keys=True)
    else:
        out[prefix] = tree
    return out
