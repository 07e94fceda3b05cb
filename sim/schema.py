"""Config schema helpers: typed dataclass fields with limits, typed times of day, and a strict dict -> dataclass converter.

Every value is checked once, at load, before any simulating; a bad one raises `ConfigError`
naming the dotted key, the bad value and what is allowed. Times of day ("HH:MM") become
`TimeOfDay` values (minutes after midnight) at load, so the model never parses text.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
import types
import typing
from typing import Any

import numpy as np

_TIME_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_TIME_ALLOWED = "expected a time of day 'HH:MM' between 00:00 and 24:00"


class ConfigError(ValueError):
    """A config value that the model cannot accept."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"config key '{key}' has bad value {value!r}: {allowed}")


class TimeOfDay(float):
    """A time of day as minutes after midnight (0 to 1440), parsed once from 'HH:MM'; prints as 'HH:MM'."""

    @classmethod
    def parse(cls, text: Any, key: str = "time") -> TimeOfDay:
        if isinstance(text, TimeOfDay):
            return text
        if not isinstance(text, str) or not _TIME_RE.match(text.strip()):
            hint = " (quote times in YAML: unquoted 11:00 is read as a number)" if isinstance(text, int) else ""
            raise ConfigError(key, text, _TIME_ALLOWED + hint)
        hours, minutes = (int(p) for p in text.strip().split(":"))
        if hours == 24 and minutes:
            raise ConfigError(key, text, _TIME_ALLOWED)
        return cls(hours * 60 + minutes)

    def __str__(self) -> str:
        hours, minutes = divmod(int(round(float(self))), 60)
        return f"{hours:02d}:{minutes:02d}"

    def __repr__(self) -> str:
        return repr(str(self))


class TimeSlot(tuple):
    """A daily slot 'HH:MM-HH:MM' as (start, end) `TimeOfDay`s, start before end; prints as 'HH:MM-HH:MM'."""

    @classmethod
    def parse(cls, text: Any, key: str = "slot") -> TimeSlot:
        if isinstance(text, TimeSlot):
            return text
        parts = str(text).split("-")
        if not isinstance(text, str) or len(parts) != 2:
            raise ConfigError(key, text, "expected 'HH:MM-HH:MM'")
        start, end = (TimeOfDay.parse(p.strip(), key) for p in parts)
        if not start < end:
            raise ConfigError(key, text, "expected a start before the end, within one day")
        return cls((start, end))

    @property
    def start(self) -> TimeOfDay:
        return self[0]

    @property
    def end(self) -> TimeOfDay:
        return self[1]

    def __str__(self) -> str:
        return f"{self[0]}-{self[1]}"

    def __repr__(self) -> str:
        return repr(str(self))


def tod(text: str) -> TimeOfDay:
    """A `TimeOfDay` default in a dataclass: `spec(tod("11:00"))`."""
    return TimeOfDay.parse(text)


def tods(*texts: str) -> list[TimeOfDay]:
    """A list of `TimeOfDay` defaults: `spec(factory=lambda: tods("07:00", "10:00"))`."""
    return [TimeOfDay.parse(t) for t in texts]


def parse_time_min(text: Any, key: str = "time") -> float:
    """'HH:MM' (00:00 to 24:00) -> minutes after midnight (a `TimeOfDay` passes through)."""
    return TimeOfDay.parse(text, key)


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
    """A dataclass field with limits checked by `from_dict`, and the `doc` the generated defaults table shows.

    Type a time of day as `TimeOfDay` (`spec(tod("11:00"))`); `time=True` on a `str` field does the same
    (the form of 0.1, kept for policies written then)."""
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "time": time, "doc": doc}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# A value without an upper limit of its own may still not exceed this: no city has a count, a rate or a
# duration beyond it, and a larger one only makes the model try to allocate the impossible.
CEILING = 1e9


def _fmt(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() and abs(v) >= 1e4 else f"{v:g}"


def _describe_limits(meta: dict) -> str:
    low = f">= {_fmt(meta['ge'])}" if meta.get("ge") is not None else f"> {_fmt(meta['gt'])}" if meta.get("gt") is not None else ""
    high = (
        f"at most {_fmt(meta['le'])}" if meta.get("le") is not None else f"< {_fmt(meta['lt'])}" if meta.get("lt") is not None else ""
    )
    return " and ".join(p for p in (low, high) if p)


def check_number(key: str, value: Any, meta: dict, integer: bool = False) -> float | int:
    """A finite number (an integer if asked) within the limits of `meta` (at most `CEILING` where it sets no
    upper limit); NaN and infinity are refused."""
    if meta.get("le") is None and meta.get("lt") is None:
        meta = {**meta, "le": CEILING}
    kind = "an integer" if integer else "a number"
    expected = f"expected {kind} {_describe_limits(meta)}".rstrip()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):  # numpy numbers are Real too
        raise ConfigError(key, value, expected)
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, value, f"expected a finite {kind.split()[-1]} {_describe_limits(meta)}".rstrip())
    if integer and isinstance(value, float) and not value.is_integer():
        raise ConfigError(key, value, expected)
    value = int(value) if integer else float(value)
    bad = (
        (meta.get("ge") is not None and value < meta["ge"])
        or (meta.get("gt") is not None and value <= meta["gt"])
        or (meta.get("le") is not None and value > meta["le"])
        or (meta.get("lt") is not None and value >= meta["lt"])
    )
    if bad:
        raise ConfigError(key, value, expected)
    return value


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
    if tp is TimeOfDay or (tp is str and meta.get("time")):
        return TimeOfDay.parse(value, key)
    if tp is TimeSlot:
        return TimeSlot.parse(value, key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, value, "expected true or false")
    if tp is int:
        return check_number(key, value, meta, integer=True)
    if tp is float:
        return check_number(key, value, meta)
    if tp is str:
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
        data = to_dict(data)
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


def plain(value: Any) -> Any:
    """A config value as plain data: dataclasses as dicts, times as their 'HH:MM' text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (TimeOfDay, TimeSlot)):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def to_dict(obj: Any) -> dict:
    """A config dataclass as plain nested dicts and lists (times as 'HH:MM' text)."""
    return plain(obj)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {'a.b.c': value}; lists of scalars stay lists, lists of mappings are JSON text."""
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


def field_docs(cls: type, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, default, doc) of every leaf field of a config dataclass, in declaration order."""
    rows = []
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(hints[f.name]):
            rows += field_docs(hints[f.name], key)
        else:
            rows.append((key, plain(getattr(defaults, f.name)), f.metadata.get("doc", "")))
    return rows
