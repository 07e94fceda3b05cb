"""Parquet output: documented columns and types, schema version, atomic writes, readable by pandas, DuckDB, Polars."""

from __future__ import annotations

import os

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.io import SCHEMA_VERSION, schema_version, write_parquet_atomic

ORDER_COLUMNS = [
    "order_id",
    "zone",
    "station",
    "category",
    "tier",
    "created",
    "promised_by",
    "picked",
    "sorted",
    "departed",
    "out_for_delivery",
    "delivered",
    "hit",
]
SUMMARY_COLUMNS = [
    "orders",
    "same_day_coverage",
    "same_day_hit_rate",
    "next_day_hit_rate",
    "promise_kept_rate",
    "lead_time_p50_min",
    "lead_time_p90_min",
    "lead_time_p99_min",
    "courier_utilization",
    "cost_per_order",
    "bottleneck",
    "seed",
    "version",
    "wall_s",
    "events",
    "capacity.couriers_per_station",
    "capacity.pickers",
    "capacity.sorter_per_hour",
    "cutoff.name",
    "cutoff.time",
    "demand.orders_per_day",
    "horizon_days",
]


@pytest.fixture(scope="module")
def written(default_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    default_run.write(out)
    return out


def test_orders_schema(written):
    schema = pq.read_schema(written / "orders.parquet")
    assert set(ORDER_COLUMNS) <= set(schema.names)
    for col in ("created", "promised_by", "picked", "sorted", "departed", "out_for_delivery", "delivered"):
        assert pa.types.is_timestamp(schema.field(col).type), col
    assert schema.field("hit").type == pa.bool_()
    assert schema.field("order_id").type == pa.int64()
    assert schema_version(written / "orders.parquet") == SCHEMA_VERSION


def test_summary_has_kpis_config_and_run_facts(written, default_run):
    summary = pd.read_parquet(written / "summary.parquet")
    assert len(summary) == 1
    assert set(SUMMARY_COLUMNS) <= set(summary.columns)
    assert summary.loc[0, "capacity.couriers_per_station"] == 30
    assert summary.loc[0, "cutoff.time"] == "13:00"
    assert summary.loc[0, "events"] == default_run.output.events
    assert schema_version(written / "summary.parquet") == SCHEMA_VERSION


def test_tiers_and_nulls(written):
    o = pd.read_parquet(written / "orders.parquet")
    assert set(o["tier"].astype(str)) <= {"same_day", "next_day", "second_day"}
    # hit is null only where it cannot be known yet: not delivered and due after the clock stopped
    assert (o.loc[o["hit"].isna(), "delivered"].isna()).all()
    assert (o["hit"].fillna(False) == (o["delivered"] <= o["promised_by"])).all()


def test_duckdb_and_polars_read_the_same_rows(written):
    path = str(written / "orders.parquet")
    n_pandas = len(pd.read_parquet(path))
    con = duckdb.connect()
    n_duck, hits = con.execute(f"SELECT count(*), sum(CASE WHEN hit THEN 1 ELSE 0 END) FROM '{path}'").fetchone()
    by_hour = con.execute(f"SELECT hour(created) AS h, count(*) FROM '{path}' GROUP BY h ORDER BY h").fetchall()
    frame = pl.read_parquet(path)
    assert n_duck == n_pandas == frame.height
    assert hits == frame["hit"].sum()
    assert len(by_hour) == 24


def test_write_is_atomic(tmp_path):
    table = pa.table({"x": [1, 2, 3]})
    target = tmp_path / "t.parquet"
    write_parquet_atomic(table, target)
    assert pq.read_table(target).equals(table)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_failed_write_leaves_no_file(tmp_path):
    class Exploding:
        """Not a table: pyarrow fails while writing."""

    with pytest.raises(AttributeError):
        write_parquet_atomic(Exploding(), tmp_path / "t.parquet")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "t.parquet"
    write_parquet_atomic(pa.table({"x": [1]}), target)
    with pytest.raises(AttributeError):
        write_parquet_atomic(object(), target)
    assert pq.read_table(target).column("x").to_pylist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


DAY_COLUMNS = {
    "day": pa.date32(),
    "measured": pa.bool_(),
    "complete": pa.bool_(),
    "orders": pa.int64(),
    "lost_orders": pa.int64(),
    "same_day_coverage": pa.float64(),
    "same_day_hit_rate": pa.float64(),
    "missed_orders": pa.int64(),
    "backlog": pa.int64(),
    "overdue": pa.int64(),
    "overtime_hours": pa.float64(),
    "cost": pa.float64(),
    "revenue": pa.float64(),
    "profit": pa.float64(),
}


def test_days_parquet_has_one_row_per_day_read_back_by_three_engines(written, default_run):
    path = written / "days.parquet"
    schema = pq.read_schema(path)
    assert {name: schema.field(name).type for name in schema.names} == DAY_COLUMNS
    assert schema_version(path) == SCHEMA_VERSION
    days = pd.read_parquet(path)
    cfg, k = default_run.config, default_run.kpis
    assert list(pd.to_datetime(days["day"])) == list(pd.date_range(cfg.start_date, periods=cfg.horizon_days))
    measured = days[days["measured"]]
    assert len(measured) == cfg.horizon_days - cfg.warmup_days
    assert measured["orders"].sum() == k["orders"] and measured["lost_orders"].sum() == k["lost_orders"]
    assert measured["cost"].sum() == pytest.approx(k["cost_total"]) and measured["profit"].sum() == pytest.approx(k["profit"])
    assert days["orders"].sum() == len(default_run.output.orders)
    duck = duckdb.connect().execute(f"SELECT sum(orders), min(day) FROM '{path}'").fetchone()
    assert duck[0] == days["orders"].sum() and str(duck[1]) == cfg.start_date
    assert pl.read_parquet(path)["profit"].sum() == pytest.approx(days["profit"].sum())


def test_order_ids_keep_the_shoppers_rows(written, default_run):
    """Shoppers who did not buy leave gaps in order_id: each order keeps its row among every shopper drawn."""
    o = pd.read_parquet(written / "orders.parquet", columns=["order_id", "customer_return", "delivered"])
    ids = o["order_id"].to_numpy()
    shoppers = len(o) + len(default_run.output.lost["created"])
    assert (np.diff(ids) > 0).all() and ids[-1] < shoppers and len(o) < shoppers
    assert o["customer_return"].sum() > 0 and o.loc[o["customer_return"], "delivered"].notna().all()
