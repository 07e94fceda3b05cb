"""Promises at checkout follow the region's cutoff; deadlines are the end of the promised day's window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config

import sim
from sim.promise import assign_tiers

DAY = 1440.0


def test_assign_tiers_home_and_nearby():
    created = np.array([10 * 60, 11 * 60 - 1, 11 * 60, 23 * 60, DAY + 9 * 60, 9 * 60, 13 * 60])
    home = np.array([True, True, True, True, True, False, False])
    tier, promised = assign_tiers(created, home, np.full(7, 660.0), day_end_min=22 * 60)
    assert tier.tolist() == [0, 0, 1, 1, 0, 1, 2]
    expected_day = np.array([0, 0, 1, 1, 1, 1, 2])
    np.testing.assert_allclose(promised, expected_day * DAY + 22 * 60)


@pytest.mark.parametrize("time", ["09:30", "11:00", "14:00"])
def test_promises_follow_a_fixed_cutoff(time):
    r = sim.run(small_config(cutoff={"name": "fixed", "time": time}))
    o = r.orders
    minutes = o["created"].dt.hour * 60 + o["created"].dt.minute + o["created"].dt.second / 60
    h, m = map(int, time.split(":"))
    before = minutes < h * 60 + m
    home = o["region"] == "changchun"
    assert (o.loc[home & before, "tier"] == "same_day").all()
    assert (o.loc[home & ~before, "tier"] == "next_day").all()
    assert (o.loc[~home & before, "tier"] == "next_day").all()
    assert (o.loc[~home & ~before, "tier"] == "second_day").all()
    days_ahead = (o["promised_by"].dt.normalize() - o["created"].dt.normalize()).dt.days
    assert (days_ahead == o["tier"].map({"same_day": 0, "next_day": 1, "second_day": 2}).astype(int)).all()
    assert (o["promised_by"].dt.strftime("%H:%M") == "22:00").all()


def test_day_end_moves_the_deadline():
    o = sim.run(small_config(**{"promise.day_end": "20:30"})).orders
    assert (o["promised_by"].dt.strftime("%H:%M") == "20:30").all()


def test_regional_cutoffs_per_region():
    cutoff = {"name": "regional", "default": "10:00", "times": {"changchun": "15:00", "jilin": "08:00"}}
    o = sim.run(small_config(cutoff=cutoff)).orders
    minutes = o["created"].dt.hour * 60 + o["created"].dt.minute
    for region, limit in (("changchun", 15 * 60), ("jilin", 8 * 60), ("siping", 10 * 60), ("songyuan", 10 * 60)):
        mine = o["region"] == region
        fast = "same_day" if region == "changchun" else "next_day"
        assert (o.loc[mine & (minutes < limit), "tier"] == fast).all(), region
        assert (o.loc[mine & (minutes >= limit), "tier"] != fast).all(), region


def test_none_never_offers_same_day():
    r = sim.run(small_config(cutoff={"name": "none"}))
    assert r.kpis["same_day_coverage"] == 0.0
    assert not (r.orders["tier"] == "same_day").any()
    assert np.isnan(r.kpis["same_day_hit_rate"])


def test_later_cutoff_offers_more_same_day():
    cov = [
        sim.run(small_config(cutoff={"name": "fixed", "time": t})).kpis["same_day_coverage"]
        for t in ("09:00", "11:00", "13:00", "15:00")
    ]
    assert cov == sorted(cov) and cov[0] < cov[-1]


def test_promised_by_is_a_timestamp_on_the_start_date_clock():
    o = sim.run(small_config(start_date="2025-11-11")).orders
    assert pd.api.types.is_datetime64_any_dtype(o["promised_by"])
    assert o["created"].min() >= pd.Timestamp("2025-11-11")
    assert o["created"].max() < pd.Timestamp("2025-11-14")
