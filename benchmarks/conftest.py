"""Benchmark helpers: shared figures across benchmarks of one session, and peak-memory measurement."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest

# figures measured in this session, for the ratio checks (speed-up, linearity)
SESSION: dict[str, float] = {}

# the calibration loop's fastest round (`test_bare_simpy_loop`) on the 2-core development machine when the absolute
# throughput targets were set (docs/performance.md, Benchmarks)
CALIBRATION_REFERENCE_S = 0.095


class Calibration:
    """The calibration loop run before each round of a benchmark (pytest-benchmark's untimed `setup`): the machine's
    speed at the very moments the benchmark ran, not a minute before, when a shared host may have been faster."""

    def __init__(self):
        self.times: list[float] = []

    def __call__(self) -> None:
        from .test_calibration import bare_simpy_loop

        started = time.perf_counter()
        bare_simpy_loop()
        self.times.append(time.perf_counter() - started)


def at_reference_speed(benchmark, orders_per_s: float) -> float:
    """Orders per second scaled to the machine speed the targets were set at, by the calibration loop run beside
    this benchmark (or earlier in the session; unscaled when it never ran): a host slowed down by its neighbours
    slows the loop alike."""
    calibration_s = benchmark.extra_info.get("calibration_s") or SESSION.get("calibration")
    return orders_per_s * calibration_s / CALIBRATION_REFERENCE_S if calibration_s else orders_per_s


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.benchmark)


def record(benchmark, name: str, orders: int, events: int, calibration: Calibration | None = None) -> None:
    """Put orders/s, events/s (at the fastest round), the calibration loop's fastest round beside it (if run) and the
    process's peak memory into extra_info (the per-order memory figure of a run alone is `peak_rss_bytes_per_order`,
    measured in a fresh process)."""
    if calibration is not None and calibration.times:
        benchmark.extra_info["calibration_s"] = min(calibration.times)
    best = benchmark.stats.stats.min
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    benchmark.extra_info.update(
        {
            "orders": orders,
            "events": events,
            "orders_per_s": orders / best,
            "events_per_s": events / best,
            "events_per_order": events / max(orders, 1),
            "peak_rss_mib": peak_mib,
        }
    )
    SESSION[name] = best
    SESSION[f"{name}.orders_per_s"] = orders / best


def peak_rss_bytes_per_order(orders_per_day: float, write: bool = True) -> dict:
    """Peak RSS growth per order of one run (and its Parquet writing), in a fresh interpreter."""
    code = f"""
import json, resource, sys, tempfile
import sim
sim.run({{"demand": {{"orders_per_day": 1000}}}}).write(tempfile.mkdtemp())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = sim.run({{"demand": {{"orders_per_day": {orders_per_day}}}, "output": {{"progress": False}}}})
if {write}:
    result.write(tempfile.mkdtemp())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = result.kpis["orders_total"]
print(json.dumps({{"orders": n, "peak_rss_growth_bytes": (after - before) * 1024,
                   "bytes_per_order": (after - before) * 1024 / n}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])
