"""A delivery-promise simulator: a SimPy model of a city's e-commerce logistics chain.

import sim
result = sim.run({"cutoff": {"name": "fixed", "time": "14:00"}})
result.summary, result.orders   # pandas DataFrames
"""

__version__ = "0.1.0"

from .api import RunResult, run  # noqa: E402
from .config import SimConfig, default_config, load_config  # noqa: E402
from .schema import ConfigError  # noqa: E402

__all__ = ["ConfigError", "RunResult", "SimConfig", "__version__", "default_config", "load_config", "run"]
