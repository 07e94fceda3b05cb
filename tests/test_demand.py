"""Demand: non-homogeneous Poisson arrivals following the hourly profile, and the order mix."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.city import City
from sim.config.city import CityConfig
from sim.config.demand import DEFAULT_HOURLY_PROFILE, DemandConfig
from sim.demand import arrival_times, expected_orders, generate_orders
from sim.model import spawn_streams


def test_arrivals_sorted_and_within_horizon():
    t = arrival_times(np.random.default_rng(0), 10_000, DEFAULT_HOURLY_PROFILE, 2)
    assert (np.diff(t) >= 0).all() and t.min() >= 0 and t.max() < 2 * 1440


@pytest.mark.statistical
def test_daily_count_and_hourly_profile_match_the_rate():
    reps, per_day = 30, 20_000
    profile = np.asarray(DEFAULT_HOURLY_PROFILE) / sum(DEFAULT_HOURLY_PROFILE)
    totals, hourly = [], []
    for seed in range(reps):
        t = arrival_times(np.random.default_rng(seed), per_day, DEFAULT_HOURLY_PROFILE, 1)
        totals.append(t.size)
        hourly.append(np.bincount((t // 60).astype(int), minlength=24))
    totals = np.array(totals)
    half = stats.t.ppf(0.975, reps - 1) * totals.std(ddof=1) / math.sqrt(reps)
    assert abs(totals.mean() - per_day) <= half, f"mean {totals.mean():.0f} ± {half:.0f} vs {per_day}"
    # Poisson: variance equals the mean (chi-square interval for the variance)
    lo = (reps - 1) * totals.var(ddof=1) / stats.chi2.ppf(0.975, reps - 1)
    hi = (reps - 1) * totals.var(ddof=1) / stats.chi2.ppf(0.025, reps - 1)
    assert lo <= per_day <= hi
    observed = np.sum(hourly, axis=0)
    chi2 = stats.chisquare(observed, profile * observed.sum())
    assert chi2.pvalue > 0.001, chi2


def test_expected_orders_integrates_the_profile():
    cfg = DemandConfig(orders_per_day=24_000, hourly_profile=[1.0] * 24)
    assert expected_orders(cfg, 0, 1440) == pytest.approx(24_000)
    assert expected_orders(cfg, 30, 90) == pytest.approx(1000)


def test_mix_follows_the_shares():
    city = City(CityConfig())
    cfg = DemandConfig(orders_per_day=50_000, fresh_share=0.2, merchant_share=0.4)
    o = generate_orders(cfg, city, 1, 1.2, 0.5, 0.1, spawn_streams(3))
    n = len(o)
    assert abs(np.mean(o.category == 1) - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n)
    assert abs(np.mean(o.source == 1) - 0.4) < 4 * math.sqrt(0.4 * 0.6 / n)
    nearby_share = sum(c.share for c in city.cfg.nearby)
    assert abs(np.mean(o.region > 0) - nearby_share) < 4 * math.sqrt(nearby_share / n)
    assert (o.warehouse[o.source == 1] == -1).all() and (o.warehouse[o.source == 0] >= 0).all()
    home = o.region == 0
    np.testing.assert_array_equal(o.station[home], city.zone_station[o.zone[home]])
    assert (o.zone[~home] == -1).all()
    assert abs(np.mean(o.failed_attempts > 0) - 0.1) < 4 * math.sqrt(0.09 / n)
    assert o.pick_service_min.mean() == pytest.approx(1.2, rel=0.02)


def test_zone_weights_drive_demand():
    city = City(CityConfig(zones_x=2, zones_y=1, stations_x=1, stations_y=1, zone_weights=[3.0, 1.0], nearby=[]))
    o = generate_orders(DemandConfig(orders_per_day=20_000), city, 1, 1.0, 0.0, 0.0, spawn_streams(1))
    assert np.mean(o.zone == 0) == pytest.approx(0.75, abs=0.02)
