"""Writes the defaults tables of docs/model.md from the config spec, so they cannot drift from the code.

Every row comes from a field's `spec(default, ..., doc="...")`: its dotted key, its default, what
is allowed (the limits and choices the loader checks) and its `doc`. To change a row, change the
`doc=` (or the default) in the code and rerun:

    python scripts/defaults_table.py docs/model.md            # rewrite the generated part
    python scripts/defaults_table.py --check docs/model.md    # exit 1 if it is stale

Only the text between `<!-- defaults:begin -->` and `<!-- defaults:end -->` is rewritten. `make docs` runs it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # document this checkout's `sim`, whatever is installed

from sim.config import SimConfig  # noqa: E402
from sim.config.validation import TEXTBOOK_CASES, ValidationConfig, case_defaults  # noqa: E402
from sim.policies import REGISTRY  # noqa: E402
from sim.schema import TimeOfDay, TimeSlot, field_docs, plain  # noqa: E402

BEGIN, END = "<!-- defaults:begin -->", "<!-- defaults:end -->"
HEADER = ["key", "default", "allowed", "meaning and source"]
LONG_LIST = 12  # lists longer than this are summarised

Row = tuple[str, str, str, str]


# --- cells -----------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x:,}" if isinstance(x, int) else f"{x:,g}"


def fmt(value: Any, key: str = "") -> str:
    """A default as readable text: times as 'HH:MM', numbers with thousands separators, lists compactly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _num(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if all(isinstance(v, dict) for v in value):
            if all("name" in v for v in value):
                return ", ".join(str(v["name"]) for v in value)
            if all("start" in v and "end" in v for v in value):
                return ", ".join(f"{v['start']}–{v['end']}" for v in value)
            return f"{len(value)} entries"
        if len(value) > LONG_LIST and all(isinstance(v, (int, float)) for v in value):
            lo, hi = min(value), max(value)
            if len(value) == 24 and "hour" in key:
                return f"24 hourly values, {_num(lo)} ({value.index(lo):02d} h) to {_num(hi)} ({value.index(hi):02d} h)"
            return f"{len(value)} values, {_num(lo)} to {_num(hi)}"
        return ", ".join(fmt(v) for v in value)
    return str(value)


def _limits(meta: dict) -> str:
    """'0 to 1', '≥ 0', '> 0, ≤ 48' ... from the limits the loader checks."""
    lo = [(sym, meta[k]) for k, sym in (("ge", "≥"), ("gt", ">")) if meta.get(k) is not None]
    hi = [(sym, meta[k]) for k, sym in (("le", "≤"), ("lt", "<")) if meta.get(k) is not None]
    if lo and hi and lo[0][0] == "≥" and hi[0][0] == "≤":
        return f"{_num(lo[0][1])} to {_num(hi[0][1])}"
    return ", ".join(f"{sym} {_num(v)}" for sym, v in lo + hi)


def allowed(tp: Any, meta: dict, plural: bool = False) -> str:
    """What the loader accepts for a field of type `tp` with limits `meta`."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)][0]
        text = allowed(inner, meta)
        return f"{text}, or null" if type(None) in args and text != "—" else text
    limits = _limits(meta)
    if tp is Any:
        return "—"
    if dataclasses.is_dataclass(tp):
        return "a mapping (below)"
    if tp is bool:
        return "true / false"
    if tp is TimeOfDay or (tp is str and meta.get("time")):
        return "HH:MM"
    if tp is TimeSlot:
        return "HH:MM-HH:MM"
    if tp is str:
        return f"one of {', '.join(meta['choices'])}" if meta.get("choices") else "text"
    if tp is int:
        return f"{'integers' if plural else 'integer'} {limits}".rstrip()
    if tp is float:
        return (f"numbers {limits}" if plural else limits) if limits else ("numbers" if plural else "any number")
    if typing.get_origin(tp) is list:
        if dataclasses.is_dataclass(args[0]):
            return "list of mappings (below)"
        return f"list of {allowed(args[0], meta, plural=True)}"
    if typing.get_origin(tp) is dict:
        return f"{'name' if args[0] is str else '?'} → {allowed(args[1], meta)}"
    return "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> list[str]:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for key, default, allow, doc in rows:
        out.append(f"| `{key}` | {_cell(default)} | {_cell(allow)} | {_cell(doc)} |")
    return out


# --- rows from the spec ----------------------------------------------------------------------------------


def _field(cls: type, dotted: str) -> tuple[Any, dict]:
    """(type, metadata) of the field at a dotted key below dataclass `cls`."""
    *path, leaf = dotted.split(".")
    for name in path:
        cls = typing.get_type_hints(cls)[name]
    f = {f.name: f for f in dataclasses.fields(cls)}[leaf]
    return typing.get_type_hints(cls)[leaf], dict(f.metadata)


def _element_rows(key: str, item_cls: type, values: list[dict]) -> list[Row]:
    """One row per field of the dataclasses in a list default: `key[*].field`, the values in list order."""
    rows = []
    hints = typing.get_type_hints(item_cls)
    for f in dataclasses.fields(item_cls):
        vals = [fmt(v[f.name]) for v in values] or [fmt(plain(getattr(item_cls(), f.name))) or "—"]  # an empty list: an entry's own
        default = (f"{vals[0]} (each)" if len(vals) > 1 else vals[0]) if len(set(vals)) == 1 else " / ".join(vals)
        rows.append((f"{key}[*].{f.name}", default, allowed(hints[f.name], dict(f.metadata)), f.metadata.get("doc", "")))
    return rows


def rows_of(cls: type, prefix: str = "") -> list[Row]:
    """Every leaf field of dataclass `cls` (lists of dataclasses also field by field), in declaration order."""
    rows = []
    for key, default, doc in field_docs(cls, prefix):
        tp, meta = _field(cls, key[len(prefix) + 1 :] if prefix else key)
        rows.append((key, fmt(default, key), allowed(tp, meta), doc))
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else None
        if item is not None and dataclasses.is_dataclass(item):
            rows += _element_rows(key, item, default)
    return rows


def _blurb(obj: Any) -> str:
    return (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else ""


def _section(title: str, blurb: str, rows: list[Row]) -> list[str]:
    return [f"### {title}", "", *([blurb, ""] if blurb else []), *table(rows), ""]


def _cutoff_section(doc: str) -> list[str]:
    names = ", ".join(sorted(REGISTRY))
    default = SimConfig().cutoff["name"]
    rows = [("cutoff.name", default, f"one of {names}; or `cutoff._target_`, a CutoffPolicy subclass", doc)]
    out = _section("`cutoff`", "The cutoff policy (`sim/policies/`); each policy's parameters sit beside `name`.", rows)
    for name, cls in REGISTRY.items():
        summary = _blurb(sys.modules[cls.__module__]).split(": ", 1)[-1]
        out += [f"`cutoff.name: {name}`{' (the default)' if name == default else ''}: {summary}", ""]
        params = rows_of(cls.Params, "cutoff")
        out += [*table(params), ""] if params else []
    return out


def _validation_section(doc: str) -> list[str]:
    cases = {mode: case_defaults(mode) for mode in TEXTBOOK_CASES}
    rows: list[Row] = [("validation", "null", "a mapping (below), or null", doc)]
    hints = typing.get_type_hints(ValidationConfig)
    for f in dataclasses.fields(ValidationConfig):
        per_case = {mode: fmt(c[f.name]) for mode, c in cases.items()}
        if f.name == "mode" or len(set(per_case.values())) == 1:
            default = fmt(getattr(ValidationConfig(), f.name)) if f.name == "mode" else next(iter(per_case.values()))
        else:
            default = "; ".join(f"{mode}: {v}" for mode, v in per_case.items())
        rows.append((f"validation.{f.name}", default, allowed(hints[f.name], dict(f.metadata)), f.metadata.get("doc", "")))
    stations = "; ".join(f"`{mode}`: {' → '.join(c['stations'])}" for mode, c in TEXTBOOK_CASES.items())
    blurb = (
        f"Textbook reductions (`sim/config/validation.py`); `+validation=<mode>` fills in that case's defaults. Stations: {stations}."
    )
    return _section("`validation`", blurb, rows)


def tables() -> str:
    """The generated Markdown: one table per top-level section of `SimConfig`, in declaration order."""
    hints = typing.get_type_hints(SimConfig)
    fields = dataclasses.fields(SimConfig)
    run = [f.name for f in fields if not dataclasses.is_dataclass(hints[f.name]) and f.name not in ("cutoff", "validation")]
    out = [
        "Generated by `make docs` (`scripts/defaults_table.py`) from each field's `spec(..., doc=...)`: "
        "edit the `doc=` in the code, not this section. *allowed* is what the loader checks.",
        "",
    ]
    out += _section("Run", _blurb(SimConfig), [r for r in rows_of(SimConfig) if r[0] in run])
    for f in fields:
        tp = hints[f.name]
        if f.name == "cutoff":
            out += _cutoff_section(f.metadata["doc"])
        elif f.name == "validation":
            out += _validation_section(f.metadata["doc"])
        elif dataclasses.is_dataclass(tp):
            parts = typing.get_type_hints(tp)
            if all(dataclasses.is_dataclass(parts[g.name]) for g in dataclasses.fields(tp)):  # e.g. services
                for g in dataclasses.fields(tp):
                    out += _section(f"`{f.name}.{g.name}`", _blurb(parts[g.name]), rows_of(parts[g.name], f"{f.name}.{g.name}"))
            else:
                out += _section(f"`{f.name}`", _blurb(tp), rows_of(tp, f.name))
    return "\n".join(out).rstrip() + "\n"


# --- the file --------------------------------------------------------------------------------------------


def render(text: str) -> str:
    """`text` with the part between the markers replaced by freshly generated tables."""
    head, sep, rest = text.partition(BEGIN)
    body, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"expected the markers {BEGIN} and {END}")
    return f"{head}{BEGIN}\n{tables()}{END}{tail}"


def stale(path: str | Path) -> str | None:
    """A one-line message if the generated part of `path` is not current, else None."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        fresh = render(text)
    except ValueError as exc:
        return f"{path}: {exc}"
    if fresh != text:
        return f"{path}: the defaults tables are stale; run `make docs` (python scripts/defaults_table.py {path})"
    return None


def write(path: str | Path) -> None:
    """Rewrite the generated part of `path` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    fresh = render(path.read_text(encoding="utf-8"))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(fresh)
        os.chmod(tmp, path.stat().st_mode & 0o777)  # mkstemp makes it private; keep the file's own mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or ["docs/model.md"]
    if len(paths) != 1:
        print("usage: defaults_table.py [--check] docs/model.md", file=sys.stderr)
        return 2
    if check:
        message = stale(paths[0])
        if message:
            print(message, file=sys.stderr)
            return 1
        return 0
    write(paths[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
