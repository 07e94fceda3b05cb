"""The sweep machinery: the 8-run smoke sweep, its per-run overhead, parallel speed-up on this machine, a 40-run
slice of a 1,000-run study of the default city extrapolated to the whole (`make bench-sweep-1000` runs the whole), and
the launching process's progress polls over 1,000 runs (which an extrapolation from 40 runs cannot show)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim import __version__, sweep
from sim.api import run
from sim.io import summary_to_arrow
from sim.store import SweepStore, new_sweep_id


def _sweep(*args: str) -> tuple[float, pd.DataFrame]:
    results = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim", *args, f"results.uri={results}"], check=True, capture_output=True, cwd=results, timeout=1200
    )
    wall = time.perf_counter() - started
    sweep_dir = next(results.glob("*/*"))
    return wall, pd.read_parquet(sweep_dir / "summary.parquet")


def _startup_s(rounds: int = 3) -> float:
    """The interpreter, the imports and one composition (`python -m sim --cfg job`), fastest of a few: a single slow
    start would make every run's overhead look smaller, a single fast one larger."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "--cfg", "job"], check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - started)
    return min(times)


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
    # a guard against regressions, above this machine's noise (0.22-0.34 s on 2026-11-28); the goal of 0.1 s
    # is not met (docs/performance.md, Sweeps)
    assert overhead < 0.4, f"sweep machinery costs {overhead:.3f} s per run"


def test_parallel_speedup_of_eight_equal_runs(benchmark):
    """8 equal runs (the default city at 1,000,000 orders/day, seeds 1-8): joblib on all cores vs serial.
    Runs must be long enough to pay for starting the worker processes (about 1 s)."""
    args = ["-m", "seed=range(1,9)", "demand.orders_per_day=1000000", "output.orders=false"]
    serial, _ = _sweep(*args, "hydra/launcher=basic")
    parallel = benchmark.pedantic(lambda: _sweep(*args)[0], rounds=1, iterations=1)
    speedup = serial / parallel
    benchmark.extra_info.update({"serial_s": serial, "parallel_s": parallel, "speedup": speedup})
    assert speedup >= 1.7, f"8 runs on all cores only {speedup:.2f}x faster than serially"


# A 1,000-run study of the default city: 10 cutoffs x 5 courier levels x 20 seeds (`make bench-sweep-1000` runs it whole)
STUDY_1000 = [
    "+experiment=cutoff_capacity",
    "cutoff.time=10:00,10:30,11:00,11:30,12:00,12:30,13:00,13:30,14:00,14:30",
    "capacity.couriers_per_station=20,25,30,35,40",
    "seed=range(1,21)",
]
# its 40-run slice: the cutoffs' and courier levels' spread, two seeds
SLICE_40 = [
    "+experiment=cutoff_capacity",
    "cutoff.time=10:00,11:30,13:00,14:30",
    "capacity.couriers_per_station=20,25,30,35,40",
    "seed=1,2",
]


def test_sweep_slice_of_40_runs_extrapolated_to_1000(benchmark):
    """The 40-run slice on the default joblib launcher (all cores), end to end; the 1,000-run time is start-up plus
    25 times the rest. Also the non-simulation time per run: the workers' busy time beyond simulating, per run."""
    startup = _startup_s()
    wall, summary = benchmark.pedantic(lambda: _sweep(*SLICE_40), rounds=1, iterations=1)
    runs = len(summary)
    workers = summary["worker"].nunique()
    per_run = (wall - startup) / runs
    benchmark.extra_info.update(
        {
            "runs": runs,
            "workers": workers,
            "startup_s": startup,
            "wall_s": wall,
            "simulate_s_per_run": float(summary["wall_s"].mean()),
            "wall_s_per_run": per_run,
            "non_simulation_s_per_run": per_run * workers - float(summary["wall_s"].mean()),
            "extrapolated_1000_runs_s": startup + per_run * 1000,
        }
    )
    assert runs == 40 and (summary["status"] == "ok").all()


def test_progress_of_a_1000_run_sweep(benchmark, tmp_path):
    """The launching process's share of a 1,000-run sweep, replayed: one run's summary appears per poll (the study
    finishes about a run a second; the progress thread polls every second and rewrites summary.parquet every 10 s),
    then the end of the sweep consolidates. It shares the 2 cores with the workers, so its CPU is theirs lost
    (docs/performance.md, "The launching process")."""
    runs = 1000
    row = run({"demand": {"orders_per_day": 2000}, "output": {"progress": False}}).summary_table.to_pylist()[0]
    row.update(status="ok", error="", overrides="[]", experiment="bench", sweep_id="x", worker="w", config_hash="h")
    table = summary_to_arrow(row, __version__)
    timings = {}

    def replay():
        store = SweepStore(str(tmp_path / new_sweep_id()), "bench", new_sweep_id())
        progress = sweep.Progress(store, runs)
        progress.join = lambda timeout=None: None  # never started: polled here, one poll per finished run
        polls_s = 0.0
        for k in range(runs):
            store.write_table("summary", k, table)
            progress.consolidate_s = 0.0 if k % 10 == 9 else float("inf")
            started = time.process_time()
            progress.poll()
            polls_s += time.process_time() - started
        sweep._ACTIVE.update(store=store, progress=progress, total=runs)
        started = time.process_time()
        sweep.SweepCallback().on_multirun_end(None)
        timings.update(polls_cpu_s_per_run=polls_s / runs, end_of_sweep_cpu_s=time.process_time() - started)
        assert sweep.OUTCOME["runs"] == runs and not sweep.OUTCOME["failed"]

    benchmark.pedantic(replay, rounds=1, iterations=1)
    benchmark.extra_info.update(timings)
    # guards, well above this machine's noise: 0.03-0.04 s a run and 0.1 s at the end on 2026-11-28
    assert timings["polls_cpu_s_per_run"] < 0.08, f"progress polls cost {timings['polls_cpu_s_per_run']:.3f} s of CPU a run"
    assert timings["end_of_sweep_cpu_s"] < 2.0, f"the end of the sweep took {timings['end_of_sweep_cpu_s']:.1f} s of CPU"
