"""Sweeps end to end, as a researcher launches them: the smoke experiment on the joblib launcher,
resume after a crash, a failed run isolated, a file:// results URI, submitit_local and Ray."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from sim.store import new_sweep_id


def sweep(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def only_sweep(results: Path, experiment: str = "smoke") -> Path:
    folders = sorted((results / experiment).iterdir())
    assert len(folders) == 1, folders
    return folders[0]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    proc = sweep("+experiment=smoke", f"results.uri={results}", cwd=results)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return only_sweep(results), proc


def test_smoke_sweep_consolidates_one_row_per_run(smoke):
    root, proc = smoke
    summary = pd.read_parquet(root / "summary.parquet")
    assert summary["run"].tolist() == list(range(8))
    assert (summary["status"] == "ok").all() and (summary["error"] == "").all()
    assert summary["config_hash"].nunique() == 8
    assert set(summary["cutoff.time"]) == {"11:00", "14:00"} and set(summary["seed"]) == {1, 2}
    overrides = json.loads(summary.loc[0, "overrides"])
    assert "cutoff.time=11:00" in overrides and "+experiment=smoke" in overrides
    assert "8 of 8 runs ok" in proc.stdout
    meta = json.loads((root / "sweep.json").read_text())
    assert meta["finished"] and meta["total"] == 8 and meta["failed"] == 0


def test_each_run_has_its_hydra_folder_and_partitions(smoke):
    root, _ = smoke
    for n in range(8):
        assert (root / "runs" / str(n) / ".hydra" / "overrides.yaml").exists()
        for table in ("orders", "utilization", "stations", "tours", "days", "summary"):
            assert (root / table / f"run={n}" / f"{table}.parquet").exists()


def test_days_of_every_run_add_up_to_its_summary(smoke):
    """days/run=<n>/ read as one Hive dataset: each run's measured days add up to its summary's orders and profit."""
    root, _ = smoke
    summary = pd.read_parquet(root / "summary.parquet").set_index("run")
    days = pd.read_parquet(root / "days")
    measured = days[days["measured"]].assign(run=lambda d: d["run"].astype(int)).groupby("run")[["orders", "profit"]].sum()
    assert (measured["orders"] == summary.loc[measured.index, "orders"]).all()
    assert np.allclose(measured["profit"], summary.loc[measured.index, "profit"])
    by_duckdb = duckdb.sql(f"SELECT count(DISTINCT run) AS runs FROM '{root}/days/**/*.parquet'").fetchall()[0][0]
    assert by_duckdb == len(summary)


def test_four_readers_see_every_run(smoke):
    root, _ = smoke
    summary = pd.read_parquet(root / "summary.parquet")
    by_pandas = pd.read_parquet(root / "orders")
    by_arrow = ds.dataset(root / "orders", partitioning="hive").to_table()
    by_duckdb = duckdb.sql(f"SELECT run, count(*) AS n FROM '{root}/orders/**/*.parquet' GROUP BY run ORDER BY run").df()
    by_polars = pl.read_parquet(f"{root}/orders/**/*.parquet", hive_partitioning=True)
    n = len(by_pandas)
    assert by_arrow.num_rows == by_duckdb["n"].sum() == by_polars.height == n
    assert sorted(by_pandas["run"].astype(int).unique()) == by_duckdb["run"].tolist() == summary["run"].tolist()
    joined = by_pandas.assign(run=by_pandas["run"].astype(int)).merge(summary[["run", "seed"]], on="run")
    assert len(joined) == n


def test_load_orders_pushes_filters_down(smoke):
    from sim.results import load_orders, load_summary

    root, _ = smoke
    one = load_orders(root, filters=[("run", "=", 3)], columns=["order_id", "tier"])
    assert len(one) == len(pd.read_parquet(root / "orders" / "run=3"))
    assert len(load_summary(root)) == 8


def test_resume_skips_complete_runs_and_redoes_broken_ones(tmp_path):
    first = sweep("+experiment=smoke", f"results.uri={tmp_path}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    root = only_sweep(tmp_path)
    # a crash: run 3 never wrote its summary, run 5 left a truncated orders file and a temporary file
    (root / "summary" / "run=3" / "summary.parquet").unlink()
    (root / "summary" / "run=5" / "summary.parquet").unlink()
    (root / "orders" / "run=5" / "orders.parquet").write_bytes(b"PAR1 truncated")
    (root / "orders" / "run=5" / ".orders.parquet.tmp-1-dead").write_bytes(b"half")
    kept = (root / "summary" / "run=0" / "summary.parquet").stat().st_mtime_ns
    again = sweep("+experiment=smoke", f"results.uri={tmp_path}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert only_sweep(tmp_path) == root, "the same sweep is resumed"
    log = again.stdout + again.stderr
    assert "run 3 done" in log and "run 5 done" in log
    assert "run 0 is complete already" in log
    assert (root / "summary" / "run=0" / "summary.parquet").stat().st_mtime_ns == kept
    assert pq.read_table(root / "orders" / "run=5" / "orders.parquet").num_rows > 0
    summary = pd.read_parquet(root / "summary.parquet")
    assert (summary["status"] == "ok").all() and len(summary) == 8
    assert len(pd.read_parquet(root / "orders")) > 0  # hidden temporary files are ignored by readers
    assert json.loads((root / "sweep.json").read_text())["launches"] == 2


def test_new_sweep_on_request(tmp_path):
    for extra in ([], ["results.new_sweep=true"]):
        proc = sweep("+experiment=smoke", "seed=1", "capacity.couriers_per_station=5", f"results.uri={tmp_path}", *extra, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list((tmp_path / "smoke").iterdir())) == 2


def test_killed_sweep_leaves_no_truncated_file_and_resumes(tmp_path):
    args = ["+experiment=smoke", "hydra/launcher=basic", "demand.orders_per_day=40000", f"results.uri={tmp_path}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list(tmp_path.glob("smoke/*/summary/run=*/summary.parquet"))
        if len(done) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    root = only_sweep(tmp_path)
    for path in root.rglob("*.parquet"):
        pq.read_metadata(path)  # every visible Parquet file is whole
    finished = sweep(*args, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = pd.read_parquet(root / "summary.parquet")
    assert len(summary) == 8 and (summary["status"] == "ok").all()


@pytest.mark.parametrize("bad", ["0", "abc"])
def test_a_failing_run_is_isolated(tmp_path, bad):
    """A run with a bad swept value fails alone; its row is in the summary, whatever the value's type (text where the
    runs typed a column differently)."""
    proc = sweep(
        "-m",
        "demand.orders_per_day=2000",
        f"capacity.couriers_per_station={bad},5",
        "output.orders=false",
        f"results.uri={tmp_path}",
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "1 of 2 runs failed (runs 0)" in errors[0] and "couriers_per_station" in errors[0]
    summary = pd.read_parquet(only_sweep(tmp_path, "adhoc") / "summary.parquet")
    assert summary["status"].tolist() == ["failed", "ok"]
    assert "couriers_per_station" in summary.loc[0, "error"]
    assert [str(v) for v in summary["capacity.couriers_per_station"]] == [bad, "5"]
    job_log = next((only_sweep(tmp_path, "adhoc") / "runs" / "0").glob("*.log")).read_text()
    assert "Traceback" in job_log and "couriers_per_station" in job_log  # in the job's own log, not lost


def test_an_unreadable_summary_fails_the_end_of_the_sweep_with_one_line(tmp_path):
    """A run's summary that cannot be read (here a stray corrupt file) stops the consolidation: one error line and
    exit code 1, not a traceback; the runs' own results stay."""
    bad = tmp_path / "adhoc" / "20260101-000000-000000-abcd" / "summary" / "run=99" / "summary.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not parquet")
    proc = sweep(
        "-m",
        "demand.orders_per_day=2000",
        "seed=1,2",
        "output.orders=false",
        f"results.uri={tmp_path}",
        "results.sweep_id=20260101-000000-000000-abcd",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "could not be consolidated" in errors[0]
    assert "Traceback" not in proc.stderr
    assert (bad.parents[1] / "run=1" / "summary.parquet").exists()


def test_a_bad_value_every_run_shares_stops_the_sweep_before_it_starts(tmp_path):
    proc = sweep("-m", "seed=1,2", "capacity.pickers=-1", f"results.uri={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: config key 'capacity.pickers' has bad value -1: expected an integer >= 0 and at most 100,000"
    ]
    assert not any(tmp_path.iterdir())


def test_file_uri_goes_through_pyarrow_filesystem(tmp_path):
    proc = sweep("+experiment=smoke", "seed=1", f"results.uri=file://{tmp_path}/store", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    root = only_sweep(tmp_path / "store")
    assert len(pd.read_parquet(root / "summary.parquet")) == 4
    assert (root / "runs" / "0" / ".hydra").is_dir()


def test_submitit_local_launcher(tmp_path):
    proc = sweep("+experiment=smoke", "seed=1", "hydra/launcher=submitit_local", f"results.uri={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (pd.read_parquet(only_sweep(tmp_path) / "summary.parquet")["status"] == "ok").all()


def test_sweep_ids_sort_by_launch_and_stay_unique():
    ids = [new_sweep_id() for _ in range(50)]
    assert len(set(ids)) == 50 and ids == sorted(ids)


@pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is None,
    reason="the `optuna` extra is not installed (make test-optuna installs it)",
)
def test_policy_search_with_the_optuna_sweeper(tmp_path):
    proc = sweep(
        "+experiment=policy_search",
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.sampler.n_startup_trials=2",
        "search.replications=2",
        "demand.orders_per_day=20000",
        f"results.uri={tmp_path}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = only_sweep(tmp_path, "policy_search")
    summary = pd.read_parquet(root / "summary.parquet")
    assert sorted(summary["run"].unique()) == [0, 1, 2, 3]
    assert (summary.groupby("run")["replication"].apply(sorted) == pd.Series([[0, 1]] * 4, index=range(4))).all()
    assert (summary.groupby("run")["seed"].nunique() == 2).all()
    assert "Pareto" in proc.stdout + proc.stderr
    from sim.report import write_report

    assert "Policies meeting the target" in write_report(root, target=0.5).read_text()  # the report reads a search
