"""Sweeps on a Dask.distributed cluster (extra `dask`): `results.cluster=tcp://HOST:PORT` sends the joblib
launcher's jobs to the workers of the Dask scheduler at that address instead of this machine's processes.

hydra-joblib-launcher 1.2 hard-codes joblib's `loky` backend (`hydra.launcher.backend=dask` is overwritten),
and Hydra accepts launchers only from the `hydra_plugins` package. So, for the length of a sweep, the launching
process connects a `distributed.Client` and the launcher's `Parallel` is given joblib's `dask` backend, with every
job sent to the scheduler at once, one job per task (and never joblib's shortcut of running a one-worker call in
the calling process). Nothing else changes: each job runs `sim.sweep.run_sweep_job` on a worker and writes its own
partition to `results.uri` (which every worker must reach: a shared folder or an object store on a real cluster),
and a job lost with its worker is rescheduled by the scheduler on another one. Workers should run one thread each
(`--nthreads 1`): Hydra keeps the job's config in a process-wide singleton, so two jobs must not share a process.

Front-door code: imported by `sim.sweep`; `distributed` is imported only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

from .schema import ConfigError

log = logging.getLogger("sim.cluster")

JOBLIB_LAUNCHER = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
CONNECT_TIMEOUT_S = 10


def worker_name() -> str:
    """Where a run executes: the Dask worker's address (tcp://host:port) on a cluster, else host:pid."""
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            return str(distributed.get_worker().address)
        except ValueError:  # not inside a Dask task
            pass
    return f"{socket.gethostname()}:{os.getpid()}"


class Cluster:
    """The launching process's connection to a Dask scheduler while a sweep runs; `close()` undoes it all."""

    def __init__(self, address: str, launcher: Any):
        target = str(launcher.get("_target_", ""))
        if target != JOBLIB_LAUNCHER:
            raise ConfigError(
                "results.cluster",
                address,
                f"a Dask cluster runs the joblib launcher's jobs; hydra/launcher is {target.rsplit('.', 1)[-1] or 'not set'} "
                "(drop hydra/launcher=..., or leave results.cluster empty)",
            )
        try:
            import distributed
            import joblib
            from hydra_plugins.hydra_joblib_launcher import _core
            from joblib._dask import DaskDistributedBackend  # joblib's `dask` backend (joblib >= 0.12)
        except ImportError as exc:
            raise ConfigError(
                "results.cluster", address, f"needs the `dask` extra: pip install -e '.[dask]' ({exc.name} is missing)"
            ) from None
        try:
            self.client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except Exception as exc:  # OSError / TimeoutError: nothing answers there
            raise ConfigError(
                "results.cluster", address, f"no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({type(exc).__name__})"
            ) from None
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        log.info("jobs go to the Dask cluster at %s: %d workers, %d threads", address, len(workers), threads)
        if not workers:
            log.warning("the Dask scheduler at %s has no worker yet: jobs wait until one connects", address)

        class SweepBackend(DaskDistributedBackend):
            def effective_n_jobs(self, n_jobs: int) -> int:
                """Every worker thread, and never 1: joblib runs a call of one job at a time in the calling process
                (a one-worker cluster would get nothing). No wait for workers either: the jobs queue until some connect."""
                return max(2, sum(self.client.ncores().values()))

        client = self.client

        def parallel_on_dask(**kwargs: Any) -> Any:
            # every job to the scheduler at once, one job per task (a lost worker costs one job; workers that join
            # later get work): the launcher's backend (hard-coded "loky"), n_jobs, pre_dispatch and batch_size give way
            kwargs.update(backend=SweepBackend(client=client), pre_dispatch="all", batch_size=1)
            return joblib.Parallel(**kwargs)

        self._core, self._parallel = _core, _core.Parallel
        _core.Parallel = parallel_on_dask

    def close(self) -> None:
        self._core.Parallel = self._parallel
        try:
            self.client.close(timeout=10)
        except Exception as exc:  # the sweep's results are written; a slow goodbye is no error
            log.debug("closing the Dask client: %s", exc)
