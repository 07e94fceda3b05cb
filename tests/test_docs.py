"""The generated parts of docs/ are current, and every config field has the doc they are generated from."""

from __future__ import annotations

import dataclasses
import importlib.util
import typing
from pathlib import Path

import pytest

from sim.config import SimConfig
from sim.policies import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("defaults_table", ROOT / "scripts" / "defaults_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_md_defaults_tables_are_current():
    message = _script().stale(ROOT / "docs" / "model.md")
    assert message is None, message


def test_check_flags_a_stale_file(tmp_path):
    script = _script()
    path = tmp_path / "model.md"
    path.write_text(f"intro\n{script.BEGIN}\nan old table\n{script.END}\nafter\n")
    assert script.main(["--check", str(path)]) == 1
    assert script.main([str(path)]) == 0
    assert script.main(["--check", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{script.END}\nafter\n") and "`demand.orders_per_day`" in text


def _leaves(cls: type, prefix: str) -> list[tuple[str, str]]:
    """(dotted key, doc) of every leaf field below dataclass `cls`, the fields of list entries included."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key, tp = f"{prefix}.{f.name}" if prefix else f.name, hints[f.name]
        if dataclasses.is_dataclass(tp):
            out += _leaves(tp, key)
            continue
        out.append((key, f.metadata.get("doc", "")))
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else None
        if item is not None and dataclasses.is_dataclass(item):
            out += _leaves(item, f"{key}[*]")
    return out


@pytest.mark.parametrize("name,cls", [("config", SimConfig)] + [(f"cutoff {n}", p.Params) for n, p in REGISTRY.items()])
def test_every_field_has_a_doc(name, cls):
    undocumented = [key for key, doc in _leaves(cls, "") if not doc.strip()]
    assert not undocumented, f"{name}: fields without doc=: {undocumented}"
