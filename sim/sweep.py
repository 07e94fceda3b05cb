"""Sweeps through Hydra's multirun: each job writes its own partition of the results dataset,
the launching process shows progress, keeps summary.parquet current and consolidates at the end.

Front-door code (it imports Hydra); the model and `sim.store` never do.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import traceback
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from . import __version__
from .api import run
from .config import load_config
from .io import summary_to_arrow
from .schema import flatten
from .store import PROJECT_DIR, SweepStore, config_hash, local_path

log = logging.getLogger("sim.sweep")

# set by the callback in the launching process when a sweep ends: (runs, failed runs, first error)
OUTCOME: dict[str, Any] = {}


def _sweep_dir(uri: str, experiment: str, sweep_id: str) -> str:
    """Hydra's folder for the runs: inside the results when they are local, else under multirun/."""
    local = local_path(uri)
    base = f"{local.rstrip('/')}/{experiment}/{sweep_id}" if local else f"multirun/{experiment}/{sweep_id}"
    return f"{base}/runs"


def register_resolvers() -> None:
    OmegaConf.register_new_resolver("sim_project_dir", lambda: str(PROJECT_DIR), replace=True)
    OmegaConf.register_new_resolver("sim_sweep_dir", _sweep_dir, replace=True)


register_resolvers()  # also in joblib/submitit workers, which import this module to run jobs


def count_jobs(config: DictConfig) -> int | None:
    """How many jobs the basic sweeper will launch (the product of the sweep overrides' sizes)."""
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


def run_sweep_job(cfg: DictConfig, job_num: int, task_overrides: list[str]) -> None:
    """One job of a sweep: skip it if complete, else simulate and write its partition; never raise."""
    results = cfg.results
    store = SweepStore(results.uri, results.experiment, results.sweep_id)
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("results", None)
    overrides = run_overrides(task_overrides)
    row: dict[str, Any] = {"status": "ok", "error": "", "overrides": json.dumps(overrides),
                           "experiment": results.experiment, "sweep_id": results.sweep_id}
    started = time.perf_counter()
    try:
        config = load_config(data)
        digest = config_hash({k: v for k, v in config.to_dict().items() if k != "output"}
                             | {"output.orders": config.output.orders})
        row["config_hash"] = digest
        if store.is_complete(job_num, digest):
            log.info("run %d is complete already (config %s): skipped", job_num, digest)
            return
        result = run(config)
        if config.output.orders:
            result.write_orders(store.table_path("orders", job_num), filesystem=store.fs)
        store.write_table("utilization", job_num, result.utilization_table)
        if result.alerts_table is not None:
            store.write_table("alerts", job_num, result.alerts_table)
        summary = result.summary_table.to_pylist()[0]
        summary.update(row)
        store.write_table("summary", job_num, summary_to_arrow(summary, __version__))
        log.info("run %d done in %.2f s: same-day hit rate %.3f", job_num, time.perf_counter() - started,
                 result.kpis["same_day_hit_rate"])
    except Exception as exc:  # a failed run is recorded, the sweep goes on
        log.error("run %d failed: %s\n%s", job_num, exc, traceback.format_exc())
        row.update({"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                    "wall_s": time.perf_counter() - started})
        row.setdefault("config_hash", "")
        row.update(flatten(data))
        store.write_table("summary", job_num, summary_to_arrow(row, __version__))


class Progress(threading.Thread):
    """In the launching process: runs done of total, failures and time left; keeps summary.parquet current."""

    def __init__(self, store: SweepStore, total: int | None, interval_s: float = 1.0):
        super().__init__(daemon=True)
        self.store, self.total, self.interval_s = store, total, interval_s
        self.stop_event = threading.Event()
        self.started = time.monotonic()
        self.seen = -1
        self.already = len(store.run_numbers())  # complete before this launch (a resumed sweep)
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="run", desc="sweep", dynamic_ncols=True)

    def poll(self) -> None:
        frame = self.store.summaries()
        done = len(frame)
        if done == self.seen:
            return
        self.seen = done
        failed = int((frame.get("status") == "failed").sum()) if done else 0
        elapsed, new = time.monotonic() - self.started, done - self.already
        left = elapsed / new * (self.total - done) if new > 0 and self.total else float("nan")
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix(failed=failed)
            self.bar.refresh()
        else:
            of = f"/{self.total}" if self.total else ""
            log.info("sweep progress: %d%s runs done, %d failed, about %.0f s left", done, of, failed, left)
        if done:
            self.store.consolidate()

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
        store = SweepStore(r.uri, r.experiment, r.sweep_id)
        total = count_jobs(config)
        meta = store.read_json("sweep.json") or {"created": r.sweep_id, "launches": 0}
        meta.update({"experiment": r.experiment, "sweep_id": r.sweep_id, "signature": r.signature, "total": total,
                     "overrides": run_overrides(list(config.hydra.overrides.task)), "finished": False,
                     "launches": meta.get("launches", 0) + 1, "version": __version__})
        store.write_json("sweep.json", meta)
        log.info("sweep %s/%s: %s runs, results in %s", r.experiment, r.sweep_id, total or "?", store.root)
        progress = Progress(store, total)
        progress.start()
        _ACTIVE.update(store=store, progress=progress)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        store, progress = _ACTIVE.pop("store"), _ACTIVE.pop("progress")
        progress.finish()
        frame = store.consolidate()
        failed = frame[frame["status"] == "failed"] if len(frame) else frame
        meta = store.read_json("sweep.json") or {}
        meta.update({"finished": True, "runs": len(frame), "failed": len(failed)})
        store.write_json("sweep.json", meta)
        OUTCOME.update({"root": store.root, "runs": len(frame), "failed": failed["run"].tolist(),
                        "first_error": failed["error"].iloc[0] if len(failed) else ""})
