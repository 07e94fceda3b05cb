"""sim.run, the library front door: a dict, a SimConfig or nothing in; a RunResult out, whose one-row summary
carries the flattened config, and whose files every reader (pandas, pyarrow, DuckDB, Polars) reads."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import small_config

import sim
from sim.config import SimConfig, default_config, load_config
from sim.kpis import STAGES
from sim.schema import flatten

TABLES = ("summary", "utilization", "stations", "tours", "days", "orders")


def same_kpis(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)) or x == y
        for x, y in ((a[k], b[k]) for k in a)
    )


def test_run_with_a_dict_fills_in_the_defaults(small_run):
    assert isinstance(small_run, sim.RunResult) and isinstance(small_run.config, SimConfig)
    assert small_run.config.capacity.pickers == 10 and small_run.config.city.stations_x == 2
    assert small_run.config.promise == default_config().promise
    assert small_run.kpis["orders"] > 0 and len(small_run.orders) == small_run.kpis["orders_total"]


def test_run_with_a_sim_config_is_the_run_with_its_dict(small_run):
    again = sim.run(load_config(small_config()))
    assert again.config == small_run.config
    assert same_kpis(again.kpis, small_run.kpis)
    assert again.orders.equals(small_run.orders)


def test_run_with_nothing_is_the_default_city(default_run):
    assert default_run.config == default_config()
    assert default_run.kpis["orders"] > 0


def test_a_run_does_not_change_the_config_it_was_given():
    given = small_config(cutoff={"name": "regional", "times": {"changchun": "13:00"}})
    before = repr(given)
    sim.run(given)
    assert repr(given) == before


def test_progress_is_reported_in_simulated_minutes():
    seen = []
    r = sim.run(small_config(horizon_days=2, drain_hours=6), progress=seen.append)
    assert seen == sorted(seen) and len(seen) > 10
    assert seen[-1] == r.output.end_min == 2 * 1440 + 6 * 60


def test_summary_is_one_row_with_the_flattened_config(small_run):
    summary = small_run.summary
    assert len(summary) == 1
    row = summary.iloc[0]
    for key, value in flatten(small_run.config.to_dict()).items():
        assert key in summary.columns, key
        assert (pd.isna(row[key]) and value is None) or row[key] == value, key
    assert row["cutoff.time"] == "13:00" and row["promise.day_end"] == "22:00"
    assert row["seed"] == 42 and row["version"] == sim.__version__ and row["events"] == small_run.output.events
    assert row["same_day_hit_rate"] == pytest.approx(small_run.kpis["same_day_hit_rate"])


def test_a_textbook_run_reports_the_users_config_and_simulates_the_reduction():
    r = sim.run({"validation": {"mode": "mmc"}, "horizon_days": 2})
    assert r.config.validation.mode == "mmc" and r.config.city.stations_x == default_config().city.stations_x
    assert r.model_config.city.stations_x == 1 and r.model_config.cutoff == {"name": "none"}
    assert r.summary.loc[0, "validation.mode"] == "mmc"


@pytest.fixture(scope="module")
def written(small_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return out, small_run.write(out)


def test_write_writes_summary_utilization_and_orders(written):
    out, paths = written
    assert sorted(p.name for p in paths) == sorted(f"{t}.parquet" for t in TABLES)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES), "no temporary files left"


@pytest.mark.parametrize("table", TABLES)
def test_every_reader_reads_the_same_rows(small_run, written, table):
    out, _ = written
    path = out / f"{table}.parquet"
    by_pandas = pd.read_parquet(path)
    by_arrow = pq.read_table(path)
    by_duckdb = duckdb.connect().execute(f"SELECT count(*) FROM '{path}'").fetchone()[0]
    by_polars = pl.read_parquet(path)
    assert len(by_pandas) == by_arrow.num_rows == by_duckdb == by_polars.height > 0
    assert list(by_pandas.columns) == by_arrow.column_names == by_polars.columns
    expected = {
        "summary": small_run.summary,
        "utilization": small_run.utilization,
        "stations": small_run.stations,
        "tours": small_run.tours,
        "days": small_run.days,
        "orders": small_run.orders,
    }[table]
    assert len(by_pandas) == len(expected)


def test_what_was_written_is_what_the_result_holds(small_run, written):
    out, _ = written
    orders = pd.read_parquet(out / "orders.parquet")
    assert orders.equals(small_run.orders)
    utilization = pd.read_parquet(out / "utilization.parquet")
    assert set(utilization["stage"].astype(str)) == set(STAGES)
    assert (utilization["busy_servers"] <= utilization["servers"]).all()
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary.drop(columns=["wall_s"]).equals(small_run.summary.drop(columns=["wall_s"]))


def test_duckdb_and_polars_answer_a_question_alike(written):
    out, _ = written
    path = out / "orders.parquet"
    by_duckdb = duckdb.connect().execute(f"SELECT tier, count(*) FROM '{path}' WHERE hit GROUP BY tier ORDER BY tier").fetchall()
    by_polars = pl.read_parquet(path).filter(pl.col("hit")).group_by("tier").len().sort("tier")
    assert sorted((str(t), n) for t, n in by_duckdb) == sorted((str(t), n) for t, n in by_polars.iter_rows())


def test_write_without_orders(small_run, tmp_path):
    paths = small_run.write(tmp_path, orders=False)
    assert sorted(p.name for p in paths) == [f"{t}.parquet" for t in ("days", "stations", "summary", "tours", "utilization")]
    assert not (tmp_path / "orders.parquet").exists()


def test_alerts_only_with_the_parcel_centre_on(small_run, tmp_path):
    assert small_run.alerts is None and small_run.alerts_table is None
    small_run.write(tmp_path / "off", orders=False)
    assert not (tmp_path / "off" / "alerts.parquet").exists()
    on = sim.run(small_config(**{"services.parcel_centre.enabled": True}))
    assert isinstance(on.alerts, pd.DataFrame) and len(on.alerts) > 0
    paths = on.write(tmp_path / "on", orders=False)
    assert tmp_path / "on" / "alerts.parquet" in paths
    alerts = pl.read_parquet(tmp_path / "on" / "alerts.parquet")
    assert alerts.height == len(on.alerts)
    assert np.isin(alerts["order_id"].to_numpy(), on.orders["order_id"].to_numpy()).all()


def test_a_bad_config_raises_before_simulating():
    with pytest.raises(sim.ConfigError, match="capacity.pickers"):
        sim.run(small_config(**{"capacity.pickers": -1}))
