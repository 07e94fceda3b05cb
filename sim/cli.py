"""The Hydra front door: `python -m sim [overrides]` (console script `sim`).

Hydra composes `configs/` over the model's dataclass defaults; everything after composition
is plain Python: validate, simulate, write Parquet into Hydra's run directory, print KPIs.
Bad input exits with code 2 and one line naming the key, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from . import sweep
from .api import run
from .config import RENAMED_KEYS, SimConfig, check_memory, load_config
from .config.validation import TEXTBOOK_CASES, case_defaults
from .console import kpi_table, progress_bar
from .policies import REGISTRY
from .schema import ConfigError, to_dict
from .store import CHECKOUT, check_name, check_writable, local_path, new_sweep_id, os_problem, sweep_to_resume

log = logging.getLogger("sim")
EXIT_BAD_CONFIG = 2
# configs/ of the checkout, or the copy an installed wheel carries (sim/hydra_configs)
CONFIG_DIR = str(CHECKOUT / "configs" if CHECKOUT else Path(__file__).resolve().parent / "hydra_configs")
_task_started = False
TASK_NAME = "cli"  # hydra.job.name, as @hydra.main names a task of sim/cli.py (its log: cli.log)


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


def _task(cfg: DictConfig) -> float | list[float]:
    """One job: a sweep's run (`sweep.run_sweep_job`), or a single run that prints its KPIs and writes its tables."""
    global _task_started
    _task_started = True
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return sweep.run_sweep_job(cfg, hydra_cfg.job.num, list(hydra_cfg.overrides.task))
    try:
        config = load_config(_model_part(cfg))
        check_memory(config)
    except ConfigError as exc:
        _fail(str(exc), EXIT_BAD_CONFIG)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    update, close = progress_bar(config.horizon_days * 1440 + config.drain_hours * 60, config.output.progress)
    try:
        result = run(config, progress=update)
    finally:
        close()
    try:
        paths = result.write(out_dir, orders=config.output.orders)
    except OSError as exc:
        _fail(f"{os_problem(exc)} while writing results to {out_dir}; no result file was written", 1)
    print(kpi_table(result.kpis, config, result.wall_s, result.output.events))
    print(f"Wrote {', '.join(p.name for p in paths)} to {out_dir}")
    return float(result.kpis["same_day_hit_rate"])


# Hydra's own front door, for what `main` leaves to it (--cfg, --help, --info, Hydra's flags): it composes again
_app = hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")(_task)


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def _model_part(cfg: DictConfig) -> dict:
    """The composed config without the front door's own nodes (`results`, `search`, `hydra`), resolved."""
    keep = [k for k in cfg if k not in ("hydra", "results", "search")]
    return OmegaConf.to_container(OmegaConf.masked_copy(cfg, keep), resolve=True)


def _one_line(exc: Exception) -> str:
    """The first line of a multi-line Hydra or OmegaConf error (`_composition_error` names the key where it can)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _composition_error(exc: Exception, argv: list[str]) -> ConfigError:
    """Hydra's composition error as a ConfigError naming the group or key it is about."""
    options, missing = getattr(exc, "options", None), getattr(exc, "missing_cfg_file", None)
    if options and missing and "/" in missing:
        group, _, name = missing.rpartition("/")
        return ConfigError(group, name, f"no such option in the {group} group; expected one of {', '.join(sorted(options))}")
    text = "\n".join(str(e) for e in (exc, exc.__cause__) if e is not None)
    if "full_key:" in text:  # OmegaConf names the key: report it with the value the command line gave it
        key = text.split("full_key:", 1)[-1].split()[0]
        given = next((a.partition("=")[2] for a in argv if a.lstrip("+~").partition("=")[0] == key), None)
        if "is not in struct" in text:
            return ConfigError(key, given, f"no such key (see `python -m sim --cfg job` for the keys; add one with +{key}=...)")
        if "Cannot merge" in text:  # a list where a mapping belongs, or the other way round
            expected = "a list" if "object_type=list" in text else "a mapping"  # the shape of the key's node
            return ConfigError(key, given, f"expected {expected} (see `python -m sim --cfg job` for its shape)")
    return ConfigError("overrides", " ".join(a for a in argv if not a.startswith("-")), _one_line(exc))


def _group_options(group: str) -> list[str]:
    """The options of a config group: those the dataclasses register and the YAML files of configs/."""
    known = {"cutoff": list(REGISTRY), "validation": list(TEXTBOOK_CASES)}.get(group, [])
    return sorted(set(known) | {p.stem for p in Path(CONFIG_DIR, group).glob("*.yaml")})


def _parse(argv: list[str]) -> list:
    """Each override parsed by Hydra's grammar; one that cannot be read, or a group given a non-name, is a ConfigError."""
    parser, parsed = OverridesParser.create(), []
    for arg in argv:
        if arg.startswith("-"):
            continue
        try:
            override = parser.parse_override(arg)
        except Exception as exc:  # Hydra's OverrideParseException, with ANTLR's words
            raise ConfigError(
                arg.partition("=")[0], arg, f"cannot read this override ({_one_line(exc)}); check its brackets and quotes"
            ) from None
        group = override.key_or_group
        if (
            group in ("cutoff", "validation", "experiment")
            and not override.is_sweep_override()
            and not isinstance(override.value(), str)
        ):
            raise ConfigError(group, override.value(), f"expected an option of the {group} group: {', '.join(_group_options(group))}")
        parsed.append(override)
    return parsed


def _compose(argv: list[str]) -> DictConfig:
    """The config a launch composes (sweep overrides left out), with Hydra's compose API."""
    from hydra import compose, initialize_config_dir

    plain = [o.input_line for o in _parse(argv) if not o.is_sweep_override()]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3", job_name=TASK_NAME):
        return compose(config_name="config", overrides=plain, return_hydra_config=True)


def _sweep_jobs_to_check(argv: list[str], cfg: DictConfig, group_options) -> list[list[str]]:
    """The overrides of the few jobs that stand for every job of a grid sweep when composing: each combination of
    the swept config-group options (they decide which keys exist), every other swept key at its first value
    (a key exists or not whatever its value). Sweeps the basic sweeper cannot split (an optimiser's ranges) are left out."""
    params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
    parser = OverridesParser.create()
    choices: dict[str, list[str]] = {}
    for text in params + [a for a in argv if not a.startswith("-")]:
        override = parser.parse_override(text)
        key = override.get_key_element()
        if not override.is_sweep_override():
            choices[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            values = [f"{key}={v}" for v in override.sweep_string_iterator()]
            choices[key] = values if group_options(override.key_or_group) else values[:1]
    return [list(job) for job in itertools.product(*choices.values())]


def _check_sweep_composes(argv: list[str], cfg: DictConfig) -> None:
    """Compose the jobs that stand for the whole sweep (`_sweep_jobs_to_check`), so a bad swept option or key
    stops the launch with one line (Hydra's sweeper would compose every job in this process before starting any)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3", job_name=TASK_NAME):
        loader = GlobalHydra.instance().config_loader()
        for job in _sweep_jobs_to_check(argv, cfg, loader.get_group_options):
            try:
                compose(config_name="config", overrides=job)
            except Exception as exc:
                raise _composition_error(exc, [re.sub(r"\\(.)", r"\1", o) for o in job]) from None  # as typed: 10:00, not 10\:00


def _resolved_model_part(cfg: DictConfig) -> dict | None:
    """The model part resolved; an interpolation that cannot resolve is a ConfigError naming its key
    (None when only a run can resolve it, e.g. `${hydra:job.num}`)."""
    try:
        return _model_part(cfg)
    except Exception as exc:
        if "HydraConfig was not set" in str(exc):
            return None
        key = getattr(exc, "full_key", "") or "config"
        raise ConfigError(key, _raw(cfg, key), f"cannot resolve the interpolation ({_one_line(exc)})") from None


def _raw(cfg: DictConfig, key: str) -> object:
    """The value of a dotted key as written, before interpolation."""
    node = cfg
    try:
        for part in key.split("."):
            node = node._get_node(part)
        return node._value()
    except Exception:
        return None


def quoted(value: str) -> str:
    """A value as a single-quoted Hydra override string: commas, spaces, quotes, `$` and `;` stay literal."""
    value = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, value)  # backslashes before a quote or the end
    return "'" + value.replace("'", "\\'").replace("${", "\\${") + "'"


def check_launch(argv: list[str]) -> tuple[list[str], DictConfig | None]:
    """Check the overrides of a launch before anything is simulated or written; raises ConfigError with the
    one line to print. Returns the overrides to hand to Hydra (for a sweep, with its resolved results
    location and sweep id: the latest sweep of the experiment launched with the same overrides is resumed)."""
    if any(a in ("--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--resolve") or a.startswith("--cfg=") for a in argv):
        return argv, None
    try:
        cfg = _compose(argv)
    except ConfigError:
        raise
    except Exception as exc:  # any other composition error is the user's input too
        raise _composition_error(exc, argv) from None
    multirun = any(a in ("-m", "--multirun") for a in argv) or cfg.hydra.mode == RunMode.MULTIRUN
    if not multirun:
        for override in _parse(argv):
            if override.is_sweep_override():
                key = override.key_or_group
                raise ConfigError(
                    key, override.input_line.partition("=")[2], f"several values: use -m for a sweep, or quote the value ({key}='...')"
                )
    shared = _resolved_model_part(cfg)
    if shared is not None:  # what every run shares (swept values are checked run by run)
        check_memory(load_config(shared))
    if not multirun:
        check_writable("hydra.run.dir", str(cfg.hydra.run.dir))
        return argv, cfg
    results = cfg.results
    _check_sweep_composes(argv, cfg)
    for key in ("experiment", "sweep_id"):
        check_name(f"results.{key}", str(results[key]))
    uri = results.uri if "://" in results.uri else os.path.abspath(results.uri)  # workers may run elsewhere
    local = local_path(uri)
    if local is not None:
        check_writable("results.uri", local)
    defining = sorted(a for a in argv if not a.startswith("-") and not a.lstrip("+~").startswith(("results.", "hydra")))
    signature = hashlib.sha1(json.dumps([results.experiment, defining]).encode()).hexdigest()[:12]
    sweep_id = results.sweep_id or (None if results.new_sweep else sweep_to_resume(uri, results.experiment, signature))
    extra = [f"results.uri={quoted(uri)}", f"results.sweep_id={quoted(sweep_id or new_sweep_id())}", f"results.signature={signature}"]
    return [a for a in argv if not a.startswith(("results.uri=", "results.sweep_id="))] + extra, cfg


def _launch(argv: list[str], cfg: DictConfig) -> None:
    """What Hydra's front door does after parsing its arguments, on the config `check_launch` composed: a single
    run is run from it (Hydra would compose it twice more: once to learn the mode, once to run), a sweep is handed
    to the sweeper (it composes the sweep's config once; each job composes its own in the process that runs it)."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path, run_and_report
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.utils import configure_log, run_job
    from hydra.types import HydraContext

    app = Hydra.create_main_hydra2(task_name=TASK_NAME, config_search_path=create_config_search_path(CONFIG_DIR))
    overrides = [a for a in argv if not a.startswith("-")]
    mode = cfg.hydra.mode
    if any(a in ("-m", "--multirun") for a in argv) and mode != RunMode.MULTIRUN:
        mode = RunMode.MULTIRUN
        overrides.append("hydra.mode=MULTIRUN")  # as Hydra's front door does for -m

    def run() -> None:
        with open_dict(cfg.hydra):
            if cfg.hydra.mode is None:
                cfg.hydra.overrides.hydra.append("hydra.mode=RUN")  # as Hydra's front door records it
            cfg.hydra.mode = RunMode.RUN
        configure_log(cfg.hydra.hydra_logging, cfg.hydra.verbose)
        callbacks = Callbacks(cfg)
        callbacks.on_run_start(config=cfg, config_name="config")
        context = HydraContext(config_loader=app.config_loader, callbacks=callbacks)
        ret = run_job(task_function=_task, config=cfg, job_dir_key="hydra.run.dir", job_subdir_key=None, hydra_context=context)
        callbacks.on_run_end(config=cfg, config_name="config", job_return=ret)
        _ = ret.return_value  # re-raises the task's exception

    validate = BasicSweeper.validate_batch_is_legal
    try:
        if mode == RunMode.MULTIRUN:
            # check_launch composed the jobs that stand for the whole grid: the sweeper need not compose every job
            # here, serially, before starting any (they compose again where they run)
            BasicSweeper.validate_batch_is_legal = lambda self, batch: None
            run_and_report(lambda: app.multirun(config_name="config", task_function=_task, overrides=overrides))
        else:
            run_and_report(run)
    finally:
        BasicSweeper.validate_batch_is_legal = validate
        GlobalHydra.instance().clear()


def main() -> None:
    """Entry point. Bad input (an override, a value, an unwritable place) exits with 2 and one line before anything
    runs; a run that fails while running exits with 1; a sweep with failed runs exits with 1 after consolidating the others."""
    _register_base()
    try:
        argv, cfg = check_launch(_renamed(sys.argv[1:]))
    except ConfigError as exc:
        _fail(str(exc), EXIT_BAD_CONFIG)
    sys.argv[1:] = argv
    try:
        if cfg is not None and all(a in ("-m", "--multirun") for a in argv if a.startswith("-")):
            _launch(argv, cfg)
        else:  # --cfg, --help, --info or another of Hydra's flags: Hydra's own front door
            _app()
    except SystemExit as exc:
        if exc.code == 1 and not _task_started and not sweep.OUTCOME:
            sys.exit(EXIT_BAD_CONFIG)
        raise
    if sweep.OUTCOME:
        outcome = sweep.OUTCOME
        if "runs" not in outcome:  # the end of the sweep failed: Hydra turns a callback's exception into a warning
            _fail(
                "the sweep's runs ended, but their summaries could not be consolidated (the warning above says why)",
                1,
            )
        failed, runs, total = outcome["failed"], outcome["runs"], outcome["total"]
        print(f"sweep finished: {runs - len(failed)} of {total or runs} runs ok; results in {outcome['root']}")
        missing = (total - runs) if total else 0
        if failed:
            print(
                f"error: {len(failed)} of {total or runs} runs failed (runs {', '.join(map(str, failed))}): {outcome['first_error']}",
                file=sys.stderr,
            )
        if missing > 0:
            print(
                f"error: {missing} of {total} runs left no result (see their logs under runs/); launch the sweep again to redo them",
                file=sys.stderr,
            )
        if failed or missing > 0:
            sys.exit(1)
