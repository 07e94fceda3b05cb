"""The sweep machinery: the 8-run smoke sweep, its per-run overhead, and parallel speed-up on this machine."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _sweep(*args: str) -> tuple[float, pd.DataFrame]:
    results = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim", *args, f"results.uri={results}"], check=True, capture_output=True, cwd=results, timeout=1200
    )
    wall = time.perf_counter() - started
    sweep_dir = next(results.glob("*/*"))
    return wall, pd.read_parquet(sweep_dir / "summary.parquet")


def _startup_s() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", "--cfg", "job"], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def test_smoke_sweep_and_per_run_overhead(benchmark):
    """Serial smoke sweep: everything but simulating (composition, folders, writing, consolidation) per run."""
    startup = _startup_s()
    timings = []

    def sweep():
        wall, summary = _sweep("+experiment=smoke", "hydra/launcher=basic")
        timings.append((wall, summary))

    benchmark.pedantic(sweep, rounds=3, iterations=1)
    wall, summary = min(timings, key=lambda t: t[0])
    runs = len(summary)
    overhead = (wall - startup - summary["wall_s"].sum()) / runs
    benchmark.extra_info.update(
        {
            "runs": runs,
            "startup_s": startup,
            "simulate_s": float(summary["wall_s"].sum()),
            "overhead_per_run_s": overhead,
            "orders_per_s": float(summary["orders_total"].sum()) / wall,
        }
    )
    assert (summary["status"] == "ok").all()
    assert overhead < 0.3, f"sweep machinery costs {overhead:.3f} s per run"


def test_parallel_speedup_of_eight_equal_runs(benchmark):
    """8 equal runs (the default city at 1,000,000 orders/day, seeds 1-8): joblib on all cores vs serial.
    Runs must be long enough to pay for starting the worker processes (about 1 s)."""
    args = ["-m", "seed=range(1,9)", "demand.orders_per_day=1000000", "output.orders=false"]
    serial, _ = _sweep(*args, "hydra/launcher=basic")
    parallel = benchmark.pedantic(lambda: _sweep(*args)[0], rounds=1, iterations=1)
    speedup = serial / parallel
    benchmark.extra_info.update({"serial_s": serial, "parallel_s": parallel, "speedup": speedup})
    assert speedup >= 1.7, f"8 runs on all cores only {speedup:.2f}x faster than serially"
