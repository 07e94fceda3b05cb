"""A delivery-promise simulator: a SimPy model of a city's e-commerce logistics chain.

    import sim
    result = sim.run({"cutoff": {"name": "fixed", "time": "14:00"}})
    result.summary, result.orders   # pandas DataFrames

The names below load on first use, so `import sim.config` (the spec) never loads the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    "run": "api",
    "RunResult": "api",
    "SimConfig": "config",
    "default_config": "config",
    "load_config": "config",
    "ConfigError": "schema",
}

__all__ = ["ConfigError", "RunResult", "SimConfig", "__version__", "default_config", "load_config", "run"]

if TYPE_CHECKING:
    from .api import RunResult, run
    from .config import SimConfig, default_config, load_config
    from .schema import ConfigError


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
