"""The Hydra front door: `python -m sim [overrides]` (console script `sim`).

Hydra composes `configs/` over the model's dataclass defaults; everything after composition
is plain Python: validate, simulate, write Parquet into Hydra's run directory, print KPIs.
Bad input exits with code 2 and one line naming the key, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import sweep
from .api import run
from .config import RENAMED_KEYS, SimConfig, load_config
from .config.validation import TEXTBOOK_CASES, case_defaults
from .console import kpi_table, progress_bar
from .policies import REGISTRY
from .schema import ConfigError, to_dict
from .store import CHECKOUT, new_sweep_id, sweep_to_resume

log = logging.getLogger("sim")
EXIT_BAD_CONFIG = 2
# configs/ of the checkout, or the copy an installed wheel carries (sim/hydra_configs)
CONFIG_DIR = str(CHECKOUT / "configs" if CHECKOUT else Path(__file__).resolve().parent / "hydra_configs")
_task_started = False


def _register_base() -> None:
    """The dataclass defaults as Hydra's `base` node, and the options of the `cutoff` and `validation`
    groups from the policies' `Params` and the textbook cases: the YAML in configs/ repeats no default."""
    store = ConfigStore.instance()
    base = to_dict(SimConfig())
    base["cutoff"] = {}  # filled by the `cutoff` group
    del base["validation"]  # filled by the optional `validation` group: +validation=mmc
    store.store(name="base", node=base)
    for name, policy in REGISTRY.items():
        store.store(group="cutoff", name=name, node={"name": name} | to_dict(policy.Params()))
    for mode in TEXTBOOK_CASES:
        store.store(group="validation", name=mode, node=case_defaults(mode))


def _renamed(argv: list[str]) -> list[str]:
    """Overrides of renamed keys (`RENAMED_KEYS`) moved to the new names, each with a warning."""
    out = []
    for arg in argv:
        head, sep, rest = arg.partition("=")
        prefix = head[: len(head) - len(head.lstrip("+~"))]
        key = head[len(prefix) :]
        for old, new in sorted(RENAMED_KEYS.items(), key=lambda kv: -len(kv[0])):
            if sep and (key == old or key.startswith(old + ".")):
                print(f"warning: config key '{old}' is deprecated; use '{new}' (the old name goes in 0.3)", file=sys.stderr)
                arg = prefix + new + key[len(old) :] + sep + rest
                break
        out.append(arg)
    return out


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _app(cfg: DictConfig) -> float | list[float]:
    global _task_started
    _task_started = True
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return sweep.run_sweep_job(cfg, hydra_cfg.job.num, list(hydra_cfg.overrides.task))
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("results", None)
    data.pop("search", None)
    try:
        config = load_config(data)
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


def _compose(argv: list[str]) -> DictConfig:
    """The config a launch composes (sweep overrides left out), with Hydra's compose API."""
    from hydra import compose, initialize_config_dir

    parsed = OverridesParser.create().parse_overrides([a for a in argv if not a.startswith("-")])
    plain = [o.input_line for o in parsed if not o.is_sweep_override() and not o.key_or_group.startswith("hydra")]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=plain, return_hydra_config=True)


def _prepare_launch(argv: list[str]) -> tuple[list[str], str | None]:
    """Check the overrides once (bad ones are reported in one line) and, for a sweep, choose its id:
    the latest sweep of the experiment launched with the same overrides is resumed."""
    if any(a in ("--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--resolve") or a.startswith("--cfg=") for a in argv):
        return argv, None
    try:
        cfg = _compose(argv)
    except Exception as exc:  # any composition error is the user's input
        return argv, _one_line(exc)
    multirun = any(a in ("-m", "--multirun") for a in argv) or cfg.hydra.mode == RunMode.MULTIRUN
    if not multirun:
        return argv, None
    # validate what every run shares before launching any (swept values are checked run by run)
    try:
        shared = OmegaConf.to_container(
            OmegaConf.masked_copy(cfg, [k for k in cfg if k not in ("hydra", "results", "search")]), resolve=True
        )
    except Exception:  # an interpolation only a run can resolve: leave the checks to the runs
        shared = None
    if shared is not None:
        try:
            load_config(shared)
        except ConfigError as exc:
            return argv, str(exc)
    results = cfg.results
    uri = results.uri if "://" in results.uri else os.path.abspath(results.uri)  # workers may run elsewhere
    defining = sorted(a for a in argv if not a.startswith("-") and not a.lstrip("+~").startswith(("results.", "hydra")))
    signature = hashlib.sha1(json.dumps([results.experiment, defining]).encode()).hexdigest()[:12]
    sweep_id = results.sweep_id or (None if results.new_sweep else sweep_to_resume(uri, results.experiment, signature))
    extra = [f"results.uri={uri}", f"results.sweep_id={sweep_id or new_sweep_id()}", f"results.signature={signature}"]
    return [a for a in argv if not a.startswith(("results.uri=", "results.sweep_id="))] + extra, None


def main() -> None:
    """Entry point; Hydra's own errors before the run (unknown option or key) also exit with 2;
    a sweep with failed runs exits with 1 after consolidating the others."""
    _register_base()
    argv, problem = _prepare_launch(_renamed(sys.argv[1:]))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    sys.argv[1:] = argv
    try:
        _app()
    except SystemExit as exc:
        if exc.code == 1 and not _task_started:
            sys.exit(EXIT_BAD_CONFIG)
        raise
    if sweep.OUTCOME:
        failed, runs = sweep.OUTCOME["failed"], sweep.OUTCOME["runs"]
        print(f"sweep finished: {runs - len(failed)} of {runs} runs ok; results in {sweep.OUTCOME['root']}")
        if failed:
            print(
                f"error: {len(failed)} of {runs} runs failed (runs {', '.join(map(str, failed))}): {sweep.OUTCOME['first_error']}",
                file=sys.stderr,
            )
            sys.exit(1)
