"""KPIs agree with the order table they summarise; the bottleneck follows the scarce resource."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config

import sim
from sim.kpis import hit_flags


def test_hit_flags():
    promised = np.array([100.0, 100.0, 100.0, 500.0])
    delivered = np.array([90.0, 110.0, np.nan, np.nan])
    assert hit_flags(promised, delivered, end_min=200.0).tolist() == [1, 0, 0, -1]


def test_rates_recomputed_from_orders_parquet(default_run):
    o = default_run.orders
    start = pd.Timestamp(default_run.config.start_date)
    measured = o["created"] >= start + pd.Timedelta(days=default_run.config.warmup_days)
    judged = measured & (o["promised_by"] <= start + pd.Timedelta(days=default_run.config.horizon_days))
    k = default_run.kpis
    assert k["orders"] == measured.sum()
    for tier, key in (("same_day", "same_day_hit_rate"), ("next_day", "next_day_hit_rate")):
        sel = judged & (o["tier"] == tier)
        assert k[key] == pytest.approx(o.loc[sel, "hit"].astype(bool).mean())
    assert k["promise_kept_rate"] == pytest.approx(o.loc[judged, "hit"].astype(bool).mean())
    home = measured & (o["region"] == "changchun")
    assert k["same_day_coverage"] == pytest.approx((o.loc[home, "tier"] == "same_day").mean())
    lead = (o.loc[measured, "delivered"] - o.loc[measured, "created"]).dropna().dt.total_seconds() / 60
    assert k["lead_time_p50_min"] == pytest.approx(np.percentile(lead, 50), abs=0.01)
    assert k["lead_time_p50_min"] <= k["lead_time_p90_min"] <= k["lead_time_p99_min"]


def test_utilisations_are_shares(default_run):
    for key in ("picker_utilization", "sorter_utilization", "truck_utilization", "courier_utilization"):
        assert 0.0 < default_run.kpis[key] < 1.5, key


def test_cost_per_order_adds_up(default_run):
    k = default_run.kpis
    parts = sum(k[f"cost_{p}_per_order"] for p in ("courier", "picker", "pickup", "truck"))
    assert k["cost_per_order"] == pytest.approx(parts)
    assert k["cost_total"] == pytest.approx(k["cost_per_order"] * k["orders"])


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"capacity.couriers_per_station": 3}, "lastmile"),
        ({"capacity.pickers": 4}, "pick"),
        ({"capacity.truck_capacity": 50}, "linehaul"),
        ({"capacity.sorter_per_hour": 200.0, "sorting.waves": []}, "sort"),
    ],
)
def test_bottleneck_moves_with_capacity(change, expected):
    assert sim.run(small_config(**change)).kpis["bottleneck"] == expected


def test_default_bottleneck_moves_when_its_capacity_moves(default_run):
    before = default_run.kpis["bottleneck"]
    assert before == "lastmile"
    after = sim.run({"capacity": {"pickers": 70}}).kpis["bottleneck"]
    assert after == "pick"


def test_stage_columns_present(default_run):
    for stage in ("pick", "sort", "linehaul", "lastmile"):
        for suffix in ("wait_mean_min", "wait_prob", "sojourn_mean_min"):
            assert f"{stage}_{suffix}" in default_run.kpis
    assert default_run.kpis["system_sojourn_mean_min"] > 0
