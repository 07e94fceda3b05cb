"""The Hydra front door: `python -m sim [overrides]` (console script `sim`).

Hydra composes `configs/` over the model's dataclass defaults; everything after composition
is plain Python: validate, simulate, write Parquet into Hydra's run directory, print KPIs.
Bad input exits with code 2 and one line naming the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .api import run
from .config import SimConfig, load_config
from .console import kpi_table, progress_bar
from .schema import ConfigError

log = logging.getLogger("sim")
EXIT_BAD_CONFIG = 2
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")  # the repository's configs/
_task_started = False


def _register_base() -> None:
    """The dataclass defaults as Hydra's `base` node; the `cutoff` group fills in the policy."""
    base = dataclasses.asdict(SimConfig())
    base["cutoff"] = {}
    del base["validation"]  # filled by the optional `validation` group: +validation=mmc
    ConfigStore.instance().store(name="base", node=base)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _app(cfg: DictConfig) -> float:
    global _task_started
    _task_started = True
    try:
        config = load_config(OmegaConf.to_container(cfg, resolve=True))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    update, close = progress_bar(config.horizon_days * 1440 + config.drain_hours * 60, config.output.progress)
    try:
        result = run(config, progress=update)
    finally:
        close()
    paths = result.write(out_dir, orders=config.output.orders)
    print(kpi_table(result.kpis, config, result.wall_s, result.output.events))
    print(f"Wrote {', '.join(p.name for p in paths)} to {out_dir}")
    return float(result.kpis["same_day_hit_rate"])


def _one_line(exc: Exception) -> str:
    """Hydra's multi-line composition errors condensed to one line."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text, cause = str(exc), exc.__cause__
    while cause is not None:
        text, cause = text + "\n" + str(cause), cause.__cause__
    options = getattr(exc, "options", None)
    missing = getattr(exc, "missing_cfg_file", None)
    if options and missing and "/" in missing:
        group, _, name = missing.rpartition("/")
        return f"config group '{group}' has no option '{name}': expected one of {', '.join(sorted(options))}"
    if "is not in struct" in text:
        key = text.split("full_key:", 1)[-1].split()[0] if "full_key:" in text else first
        return f"config key '{key}' does not exist (see `python -m sim --cfg job` for the keys; add one with +{key}=...)"
    return first


def _precheck(argv: list[str]) -> str | None:
    """Compose a single run's overrides once with Hydra's compose API to report bad ones in one line."""
    if any(a.startswith("-") for a in argv):
        return None  # --multirun, --cfg, --help ...: Hydra reports on its own
    overrides = [a for a in argv if not a.lstrip("+~").startswith("hydra")]
    from hydra import compose, initialize_config_dir

    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            compose(config_name="config", overrides=overrides)
    except Exception as exc:  # any composition error is the user's input
        return _one_line(exc)
    return None


def main() -> None:
    """Entry point; Hydra's own errors before the run (unknown option or key) also exit with 2."""
    _register_base()
    problem = _precheck(sys.argv[1:])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    try:
        _app()
    except SystemExit as exc:
        if exc.code == 1 and not _task_started:
            sys.exit(EXIT_BAD_CONFIG)
        raise
