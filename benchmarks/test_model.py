"""The model against its targets: 10x the naive reference, linear in work, memory, events per order."""

from __future__ import annotations

import tempfile

import pytest

import sim

from .conftest import SESSION, Calibration, at_reference_speed, peak_rss_bytes_per_order, record
from .naive_model import run_naive

# The default city at a tenth of its demand with a tenth of its people (machines and trucks as they are): with
# the default 30 couriers a station for 10,000 orders a day, each courier would drive a tour per parcel or two
REFERENCE_SCENARIO = {
    "demand": {"orders_per_day": 10_000},
    "capacity": {"couriers_per_station": 3, "pickers": 11, "pickup_couriers": 4},
    "output": {"progress": False},
}


def _run(orders_per_day: float):
    return sim.run({"demand": {"orders_per_day": orders_per_day}, "output": {"progress": False}})


@pytest.mark.quick
def test_naive_reference(benchmark):
    result = benchmark.pedantic(run_naive, args=(REFERENCE_SCENARIO,), rounds=3, iterations=1)
    record(benchmark, "naive_10k", result["orders"], result["events"])
    benchmark.extra_info["same_day_hit_rate"] = result["same_day_hit_rate"]


@pytest.mark.quick
def test_model_on_the_reference_scenario(benchmark):
    calibration = Calibration()
    result = benchmark.pedantic(sim.run, args=(REFERENCE_SCENARIO,), setup=calibration, rounds=7, iterations=1, warmup_rounds=1)
    record(benchmark, "model_10k", result.kpis["orders_total"], result.output.events, calibration)
    benchmark.extra_info["same_day_hit_rate"] = result.kpis["same_day_hit_rate"]
    if "naive_10k" in SESSION:
        speedup = SESSION["model_10k.orders_per_s"] / SESSION["naive_10k.orders_per_s"]
        benchmark.extra_info["speedup_vs_naive"] = speedup
        assert speedup >= 10, f"only {speedup:.1f}x the naive one-process-per-order model"


@pytest.mark.quick
def test_model_100k_orders_per_day(benchmark):
    calibration = Calibration()
    result = benchmark.pedantic(_run, args=(100_000,), setup=calibration, rounds=5, iterations=1, warmup_rounds=1)
    record(benchmark, "model_100k", result.kpis["orders_total"], result.output.events, calibration)
    assert result.output.events / result.kpis["orders_total"] < 2
    throughput = at_reference_speed(benchmark, SESSION["model_100k.orders_per_s"])
    benchmark.extra_info["orders_per_s_at_reference_speed"] = throughput
    assert throughput >= 250_000, f"{throughput:,.0f} orders/s at the reference machine speed"


def test_model_1m_orders_per_day(benchmark):
    result = benchmark.pedantic(_run, args=(1_000_000,), rounds=3, iterations=1)
    record(benchmark, "model_1m", result.kpis["orders_total"], result.output.events)
    memory = peak_rss_bytes_per_order(1_000_000)
    benchmark.extra_info.update(memory)
    assert memory["bytes_per_order"] <= 300, memory
    if "model_100k" in SESSION:
        ratio = SESSION["model_1m"] / SESSION["model_100k"]
        benchmark.extra_info["time_ratio_vs_100k"] = ratio
        assert ratio <= 12, f"1M orders/day took {ratio:.1f}x the time of 100k"


def test_model_28_days(benchmark):
    """Four weeks of the default city (about 2.8 million orders, demand varying day to day): the horizon that
    weeks-long effects (weekdays, 双11 recovery) need stays under 15 s on one core."""
    config = {"horizon_days": 28, "output": {"progress": False}}
    result = benchmark.pedantic(sim.run, args=(config,), rounds=3, iterations=1)
    record(benchmark, "model_28d", result.kpis["orders_total"], result.output.events)
    assert SESSION["model_28d"] < 15, f"28 days took {SESSION['model_28d']:.1f} s"


@pytest.mark.quick
def test_write_parquet(benchmark):
    result = _run(100_000)
    out = tempfile.mkdtemp()
    calibration = Calibration()
    benchmark.pedantic(result.write, args=(out,), setup=calibration, rounds=5, iterations=1, warmup_rounds=1)
    record(benchmark, "write_100k", result.kpis["orders_total"], 0, calibration)


ALL_SERVICES = {
    "parcel_centre": {"enabled": True, "expedite": True},
    "doorstep": {"share": 0.3},
    "on_demand": {"slot_share": 0.3},
    "fresh": {"max_pick_to_door_h": 8.0, "cutoff": "10:00", "max_tier": "next_day"},
}


def test_model_100k_with_every_service_on(benchmark):
    """Parcel-centre warnings, doorstep, time windows and fresh rules all on: the speed target still holds."""
    config = {"demand": {"orders_per_day": 100_000}, "services": ALL_SERVICES, "output": {"progress": False}}
    result = benchmark.pedantic(sim.run, args=(config,), rounds=3, iterations=1, warmup_rounds=1)
    record(benchmark, "model_100k_services", result.kpis["orders_total"], result.output.events)
    benchmark.extra_info["alerts"] = int(len(result.output.alerts["order_id"]))
    assert at_reference_speed(benchmark, SESSION["model_100k_services.orders_per_s"]) >= 250_000


def _whole_process(*args: str) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in bytes, orders placed) of `python -m sim ARGS` in a fresh process, run from a scratch
    folder (its Hydra output lands there)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _PEAK_CHILD, *args], cwd=scratch, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        summary = next(Path(scratch).glob("outputs/*/*/summary.parquet"))
        orders = int(pq.read_table(summary, columns=["orders_total"]).column(0)[0].as_py())
    return wall, int(proc.stdout.strip().splitlines()[-1]), orders


# Runs `python -m sim` in a child of this child, so the peak RSS reported is that run's alone.
_PEAK_CHILD = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-m", "sim", "output.progress=false", *sys.argv[1:]], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def test_megacity_preset():
    """`python -m sim +experiment=megacity` (2,000,000 orders a day, 3 days), whole process: under a minute, within
    2 GiB, and at most 208 bytes per order above the start-up of a tiny run (issue 15)."""
    wall, peak, orders = _whole_process("+experiment=megacity")
    _, small, _ = _whole_process("demand.orders_per_day=1000")
    per_order = (peak - small) / orders
    print(f"megacity: {wall:.1f} s wall, peak {peak / 2**30:.2f} GiB, {per_order:.0f} bytes per order")
    assert wall < 60 and peak < 2 * 2**30 and per_order <= 208, (wall, peak, per_order)


def test_python_m_sim_whole_process(benchmark):
    """`python -m sim` at the defaults, timed from outside (start-up, composing, simulating, KPIs, six Parquet files).
    Issue 15's goal is 1.2 s; it is not met (1.87-1.95 s median on this machine, docs/performance.md), so the figure
    is recorded against the goal and only a regression past 2.5 s fails."""
    import subprocess
    import sys
    import time

    def once() -> float:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "output.progress=false"], cwd=scratch, capture_output=True, check=True)
            return time.perf_counter() - started

    once()  # warm the file cache
    walls = sorted(once() for _ in range(5))
    benchmark.extra_info.update({"wall_s_median": walls[2], "wall_s_min": walls[0], "goal_s": 1.2})
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the figures above are the measurement
    print(f"python -m sim: median {walls[2]:.2f} s wall over 5 runs (goal 1.2 s)")
    assert walls[2] < 2.5, walls
