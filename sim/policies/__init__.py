"""Cutoff policies and their registry; `make_policy` builds one from the `cutoff` config node."""

from __future__ import annotations

import importlib
from typing import Any

from ..schema import ConfigError, from_dict
from .base import CutoffPolicy, PromiseState
from .dynamic import DynamicCutoff
from .fixed import FixedCutoff
from .none import NoFastTier
from .regional import RegionalCutoff

REGISTRY: dict[str, type[CutoffPolicy]] = {p.name: p for p in (FixedCutoff, RegionalCutoff, DynamicCutoff, NoFastTier)}

__all__ = ["CutoffPolicy", "PromiseState", "REGISTRY", "make_policy", "policy_class"]


def policy_class(node: dict[str, Any]) -> type[CutoffPolicy]:
    """The policy class a `cutoff` node names, by `name` (registry) or `_target_` (a dotted class path)."""
    if not isinstance(node, dict):
        raise ConfigError("cutoff", node, "expected a mapping with `name` or `_target_`")
    target = node.get("_target_")
    if target:
        module_name, _, attr = str(target).rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError("cutoff._target_", target, f"cannot import it ({exc}); expected 'package.module.Class'") from None
        if not (isinstance(cls, type) and issubclass(cls, CutoffPolicy)):
            raise ConfigError("cutoff._target_", target, "expected a subclass of sim.policies.CutoffPolicy")
        return cls
    name = node.get("name")
    if name not in REGISTRY:
        raise ConfigError(
            "cutoff.name",
            name,
            f"unknown policy; expected one of {', '.join(sorted(REGISTRY))} (or cutoff._target_ pointing at a CutoffPolicy subclass)",
        )
    return REGISTRY[name]


def make_policy(node: dict[str, Any], regions: list[str]) -> CutoffPolicy:
    """Validate the policy's parameters and build it."""
    cls = policy_class(node)
    params = {k: v for k, v in node.items() if k not in ("name", "_target_")}
    return cls(from_dict(cls.Params, params, "cutoff"), regions)
