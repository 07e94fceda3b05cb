"""`python -m sim` as a user runs it: Hydra overrides, files in the run dir, the KPI table, exit code 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_run_writes_results_and_prints_kpis(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        "cutoff=fixed",
        "cutoff.time=14:00",
        "demand.orders_per_day=80000",
        "capacity.couriers_per_station=30",
        "seed=7",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "same-day hit rate" in proc.stdout and "One replication" in proc.stdout
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary.loc[0, "cutoff.time"] == "14:00"
    assert summary.loc[0, "demand.orders_per_day"] == 80000
    assert summary.loc[0, "seed"] == 7
    assert (out / "orders.parquet").exists() and (out / ".hydra" / "overrides.yaml").exists()
    assert not list(out.glob(".*.tmp-*"))


@pytest.mark.parametrize("policy", ["regional", "dynamic", "none"])
def test_each_cutoff_option_runs(tmp_path, policy):
    proc = run_cli(f"cutoff={policy}", "demand.orders_per_day=3000", "output.orders=false", f"hydra.run.dir={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert pd.read_parquet(tmp_path / "summary.parquet").loc[0, "cutoff.name"] == policy
    assert not (tmp_path / "orders.parquet").exists()


SMALL_CITY = [
    "city.zones_x=4",
    "city.zones_y=4",
    "city.stations_x=2",
    "city.stations_y=2",
    "capacity.pickers=10",
    "capacity.couriers_per_station=8",
    "capacity.pickup_couriers=4",
    "capacity.sorter_per_hour=3000",
    "capacity.truck_capacity=600",
    "output.progress=false",
]


def test_an_old_key_still_runs_with_a_deprecation_warning(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("promise.window_end=21:00", "demand.orders_per_day=2000", *SMALL_CITY, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "deprecated" in line]
    assert len(warning) == 1 and "promise.window_end" in warning[0] and "promise.day_end" in warning[0], proc.stderr
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary.loc[0, "promise.day_end"] == "21:00"
    assert "promise.window_end" not in summary.columns
    promised = pd.read_parquet(out / "orders.parquet", columns=["promised_by"])["promised_by"]
    assert (promised.dt.strftime("%H:%M") == "21:00").all(), "the old key moved the deadlines"


@pytest.mark.parametrize(
    "args,key",
    [
        (["capacity.pickers=-3"], "capacity.pickers"),
        (["cutoff.time=25:00"], "cutoff.time"),
        (["cutoff=foo"], "cutoff"),
        (["cutoff=regional", "+cutoff.times.atlantis=10:00"], "cutoff.times.atlantis"),
        (["capacity.couriers_per_station=0"], "capacity.couriers_per_station"),
        (["capacity.pickers=many"], "capacity.pickers"),
        (["capacity.courier=3"], "capacity.courier"),
        (["cutoff.name=greedy"], "cutoff.name"),
        (["demand.orders_per_day=-1"], "demand.orders_per_day"),
        (["horizon_days=1", "warmup_days=1"], "warmup_days"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_results(tmp_path, args, key):
    out = tmp_path / "run"
    proc = run_cli(*args, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert key in lines[0]
    assert not (out / "summary.parquet").exists() and not (out / "orders.parquet").exists()


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "sim"
    assert script.exists()
    proc = subprocess.run([str(script), "--cfg", "job"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "couriers_per_station: 30" in proc.stdout and "name: fixed" in proc.stdout
