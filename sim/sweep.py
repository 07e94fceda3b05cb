"""Sweeps through Hydra's multirun: each job writes its own partition of the results dataset,
the launching process shows progress, keeps summary.parquet current and consolidates at the end.

Front-door code (it imports Hydra); the model and `sim.store` never do.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
import time
import traceback
from typing import Any

import numpy as np
import pyarrow as pa
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from . import __version__
from .api import run
from .cluster import Cluster, worker_name
from .config import load_config
from .demand import DRAWN
from .io import parquet_writer, summary_to_arrow
from .schema import ConfigError, flatten
from .store import SummaryCache, SweepStore, config_hash, default_results_dir, local_path, os_problem

log = logging.getLogger("sim.sweep")

DRAWN_ORDERS_BYTES = 256 << 20  # a worker keeps the orders of its recent seeds (about 7 MB each at the defaults)

# set by the callback in the launching process when a sweep ends: (runs, failed runs, first error)
OUTCOME: dict[str, Any] = {}


def _sweep_dir(*, _root_: DictConfig) -> str:
    """Hydra's folder for the runs: inside the results when they are local, else under multirun/. It reads
    `results` from the config itself, so a comma or a quote in a path is never split as an argument."""
    r = _root_.results
    local = local_path(r.uri)
    base = f"{local.rstrip('/')}/{r.experiment}/{r.sweep_id}" if local else f"multirun/{r.experiment}/{r.sweep_id}"
    return f"{base}/runs"


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("sim_results_dir", lambda: str(default_results_dir()), replace=True)
    OmegaConf.register_new_resolver("sim_sweep_dir", _sweep_dir, replace=True)


register_resolvers()  # also in joblib/submitit workers, which import this module to run jobs


def count_jobs(config: DictConfig) -> int | None:
    """How many jobs the sweeper will launch: an optimiser's trials, or the grid's size."""
    if config.hydra.sweeper.get("n_trials"):
        return int(config.hydra.sweeper.n_trials)
    try:
        params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
        parsed = OverridesParser.create().parse_overrides(params + list(config.hydra.overrides.task))
        sizes: dict[str, int] = {}
        for o in parsed:
            sizes[o.key_or_group] = len(list(o.sweep_string_iterator())) if o.is_sweep_override() else 1
        total = 1
        for n in sizes.values():
            total *= n
        return total
    except Exception:  # another sweeper (Optuna, ...) decides its own number of jobs
        return None


def run_overrides(task_overrides: list[str]) -> list[str]:
    """The overrides that define a run (the sweep's own bookkeeping keys left out)."""
    return [o.replace("\\:", ":") for o in task_overrides if not o.lstrip("+~").startswith(("results.", "hydra."))]


def objectives(rows: list[dict], target: float) -> list[float]:
    """A trial's score over its replications: [same-day coverage, or minus ten times the shortfall when the mean
    same-day hit rate misses the target (worse than any feasible policy, better the closer it gets), cost per order]."""
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        return [float("nan"), float("nan")]
    hit = float(np.nanmean([r["same_day_hit_rate"] for r in ok]))
    coverage = float(np.mean([r["same_day_coverage"] for r in ok]))
    cost = float(np.mean([r["cost_per_order"] for r in ok]))
    return [coverage if hit >= target else -10.0 * (target - hit), cost]


def run_sweep_job(cfg: DictConfig, job_num: int, task_overrides: list[str]) -> list[float]:
    """One job of a sweep: skip it if complete, else simulate (`search.replications` seeds from `seed`) and
    write its partition; never raise. Returns the trial's objectives for a sweeper that optimises."""
    results, search = cfg.results, cfg.search
    store = SweepStore(results.uri, results.experiment, results.sweep_id)
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("results", None)
    data.pop("search", None)
    if search.get("cutoff_min") is not None:  # an ordered search parameter for the cutoff: minutes after midnight
        minutes = int(search.cutoff_min)
        data["cutoff"] = {**data["cutoff"], "time": f"{minutes // 60:02d}:{minutes % 60:02d}"}
    overrides = run_overrides(task_overrides)
    replications = int(search.replications)
    base = {
        "status": "ok",
        "error": "",
        "overrides": json.dumps(overrides),
        "experiment": results.experiment,
        "sweep_id": results.sweep_id,
        "worker": worker_name(),  # the Dask worker's address on a cluster (results.cluster), else host:pid
    }
    started = time.perf_counter()
    DRAWN.max_bytes = DRAWN_ORDERS_BYTES
    try:
        config = load_config(data)
        digest = config_hash(
            {k: v for k, v in config.to_dict().items() if k != "output"}
            | {"output.orders": config.output.orders, "replications": replications}
        )
        base["config_hash"] = digest
        if store.is_complete(job_num, digest):
            log.info("run %d is complete already (config %s): skipped", job_num, digest)
            return objectives(store.run_rows(job_num), search.target)
        rows, writes = [], []
        tables: dict[str, list[pa.Table]] = {name: [] for name in ("utilization", "stations", "tours", "days")}
        for r in range(replications):
            rep_config = dataclasses.replace(config, seed=config.seed + r) if r else config
            result = run(rep_config)
            if config.output.orders and replications == 1:
                writes.append(("orders", result.orders_writer(store.fs)))
            if result.alerts_table is not None and replications == 1:
                writes.append(("alerts", parquet_writer(result.alerts_table, store.fs)))
            for name, parts in tables.items():
                parts.append(getattr(result, f"{name}_table"))
            row = result.summary_table.to_pylist()[0]
            row.update(base)
            if replications > 1:
                row["replication"] = r
            rows.append(row)
        writes += [(name, parquet_writer(pa.concat_tables(parts), store.fs)) for name, parts in tables.items()]
        writes.append(("summary", parquet_writer(summary_rows_to_arrow(rows), store.fs)))  # last: marks the run complete
        store.write_run(job_num, writes)
        score = objectives(rows, search.target)
        log.info(
            "run %d done in %.2f s: same-day hit rate %.3f",
            job_num,
            time.perf_counter() - started,
            float(np.mean([row["same_day_hit_rate"] for row in rows])),
        )
        return score
    except Exception as exc:  # a failed run is recorded, the sweep goes on
        problem = os_problem(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.error("run %d failed: %s (traceback in %s)", job_num, problem, _job_log_path() or "the run's log")
        _append_to_job_log(traceback.format_exc())
        row = dict(base, status="failed", error=problem, wall_s=time.perf_counter() - started)
        row.setdefault("config_hash", "")
        row.update(flatten(data))
        try:
            store.write_table("summary", job_num, summary_to_arrow(row, __version__))
        except Exception as write_exc:  # e.g. the disk is full: the run is left without a row, so a resume redoes it
            log.error(
                "run %d: its failed row could not be written either (%s)",
                job_num,
                os_problem(write_exc) if isinstance(write_exc, OSError) else write_exc,
            )
        return [float("nan"), float("nan")]


def _job_log_path() -> str | None:
    """The Hydra log file of the current job (runs/<n>/<job name>.log), when running under Hydra."""
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
        return f"{hc.runtime.output_dir}/{hc.job.name}.log"
    except Exception:
        return None


def _append_to_job_log(text: str) -> None:
    """The traceback goes to the run's own log file only: the console gets one line per failed run."""
    path = _job_log_path()
    if path is None:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError:
        pass


def summary_rows_to_arrow(rows: list[dict]) -> pa.Table:
    """Summary rows of one job (several when a trial runs replications) as one table."""
    tables = [summary_to_arrow(row, __version__) for row in rows]
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


class Progress(threading.Thread):
    """In the launching process: runs done of total, failures and time left; keeps summary.parquet current (at most
    `consolidate_s` behind; the end of the sweep writes the final one). Each run's summary file is read once."""

    def __init__(self, store: SweepStore, total: int | None, interval_s: float = 1.0, consolidate_s: float = 10.0):
        super().__init__(daemon=True)
        self.store, self.total, self.interval_s = store, total, interval_s
        self.consolidate_s, self.consolidated = consolidate_s, float("-inf")  # summary.parquet: at most every 10 s, and at the end
        self.stop_event = threading.Event()
        self.started = time.monotonic()
        self.seen = -1
        self.already = len(store.run_numbers())  # complete before this launch (a resumed sweep)
        self.bar = None
        self.cache = SummaryCache()  # each run's summary file is read once
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", desc="sweep", dynamic_ncols=True)

    def poll(self) -> None:
        runs = self.store.read_summaries(self.cache)  # reads only the runs finished since the last poll
        done = len(runs)  # a search trial's replications share a run
        if done == self.seen:
            return
        self.seen = done
        failed = sum(self.cache.runs[run].failed for run in runs)
        elapsed, new = time.monotonic() - self.started, done - self.already
        left = elapsed / new * (self.total - done) if new > 0 and self.total else float("nan")
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix(failed=failed)
            self.bar.refresh()
        else:
            of = f"/{self.total}" if self.total else ""
            eta = f", about {left:.0f} s left" if left == left else ""  # none yet: every run so far was done before
            log.info("sweep progress: %d%s runs done, %d failed%s", done, of, failed, eta)
        if done and time.monotonic() - self.consolidated >= self.consolidate_s:
            self.store.consolidate(self.store.summary_table(self.cache))
            self.consolidated = time.monotonic()

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            try:
                self.poll()
            except Exception as exc:  # progress must never break the sweep
                log.debug("progress poll failed: %s", exc)

    def finish(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)
        if self.bar is not None:
            self.bar.close()


# the launching process's progress thread; kept out of the callback, which Hydra pickles for the workers
_ACTIVE: dict[str, Any] = {}


class SweepCallback(Callback):
    """Hydra callback: sweep metadata and progress at the start, consolidation at the end."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        r = config.results
        if r.get("cluster"):  # jobs go to a Dask scheduler's workers (sim/cluster.py); bad input stops here, nothing written
            try:
                _ACTIVE["cluster"] = Cluster(str(r.cluster), config.hydra.launcher)
            except ConfigError as exc:
                print(f"error: {exc}", file=sys.stderr)
                sys.exit(2)
        store = SweepStore(r.uri, r.experiment, r.sweep_id)
        total = count_jobs(config)
        meta = store.read_json("sweep.json") or {"created": r.sweep_id, "launches": 0}
        meta.update(
            {
                "experiment": r.experiment,
                "sweep_id": r.sweep_id,
                "signature": r.signature,
                "total": total,
                "overrides": run_overrides(list(config.hydra.overrides.task)),
                "finished": False,
                "launches": meta.get("launches", 0) + 1,
                "version": __version__,
            }
        )
        store.write_json("sweep.json", meta)
        removed = store.remove_temporaries()
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted launch", removed)
        log.info("sweep %s/%s: %s runs, results in %s", r.experiment, r.sweep_id, total or "?", store.root)
        progress = Progress(store, total)
        progress.start()
        _ACTIVE.update(store=store, progress=progress, total=total)
        OUTCOME.clear()
        OUTCOME["started"] = True

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        store, progress, total = _ACTIVE.pop("store"), _ACTIVE.pop("progress"), _ACTIVE.pop("total")
        progress.finish()
        if "cluster" in _ACTIVE:
            _ACTIVE.pop("cluster").close()
        table = store.summary_table(progress.cache)  # reads only the runs the last poll did not see
        summaries = progress.cache.runs
        runs, failed = len(summaries), sorted(run for run, summary in summaries.items() if summary.failed)
        try:
            store.consolidate(table)
            meta = store.read_json("sweep.json") or {}
            meta.update({"finished": True, "runs": runs, "failed": len(failed)})
            store.write_json("sweep.json", meta)
        except OSError as exc:  # the runs' own rows stay; the next launch consolidates them
            log.error("could not write the consolidated summary.parquet (%s); launch the sweep again to finish it", os_problem(exc))
        OUTCOME.update(
            {
                "total": total,
                "root": store.root,
                "runs": runs,
                "failed": failed,
                "first_error": summaries[failed[0]].first_error if failed else "",
            }
        )
