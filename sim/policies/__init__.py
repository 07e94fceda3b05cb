"""Cutoff policies and their registry; `make_policy` builds one from a validated `cutoff` config node."""

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

__all__ = ["CutoffPolicy", "PromiseState", "REGISTRY", "make_policy", "policy_class", "policy_params"]


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
        if cls.cutoff_min is CutoffPolicy.cutoff_min:
            raise ConfigError("cutoff._target_", target, "an abstract policy: it must define cutoff_min(region, day, state)")
        return cls
    name = node.get("name")
    if name not in REGISTRY:
        raise ConfigError(
            "cutoff.name",
            name,
            f"unknown policy; expected one of {', '.join(sorted(REGISTRY))} (or cutoff._target_ pointing at a CutoffPolicy subclass)",
        )
    return REGISTRY[name]


def policy_params(node: dict[str, Any], regions: list[str], day_end_min: float = 1440.0) -> tuple[type[CutoffPolicy], Any]:
    """The policy class a `cutoff` node names and its parameters, validated through its `Params` (whose
    `validate(regions, day_end_min)`, if any, checks what spans the city and the promise)."""
    cls = policy_class(node)
    params = from_dict(cls.Params, {k: v for k, v in node.items() if k not in ("name", "_target_")}, "cutoff")
    check = getattr(params, "validate", None)
    if check is not None:
        check(regions, day_end_min)
    return cls, params


def make_policy(node: dict[str, Any], regions: list[str], day_end_min: float = 1440.0) -> CutoffPolicy:
    """Build the policy a `cutoff` node describes."""
    cls, params = policy_params(node, regions, day_end_min)
    return cls(params, regions)
