"""Demand: non-homogeneous Poisson arrivals following the hourly profile, the order mix, and how volume varies
(day to day, hour profiles, weekdays, calendar events, live-stream bursts)."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import small_config
from scipy import stats

import sim
from sim.city import City
from sim.config import load_config
from sim.config.city import CityConfig
from sim.config.demand import DEFAULT_HOURLY_PROFILE, BurstConfig, CalendarEvent, DemandConfig, ResponseConfig, ReturnsConfig
from sim.demand import (
    DEMAND_STREAMS,
    DRAWN,
    arrival_times,
    burst_arrivals,
    burst_zones,
    buy_probability,
    expected_orders,
    generate_orders,
    planned_orders_per_hour,
    return_probability,
    varied_orders_per_hour,
)
from sim.model import STREAMS, spawn_streams
from sim.records import OrderTable
from sim.results import ci
from sim.schema import ConfigError

STEADY = {"daily_cv": 0.0, "profile_cv": 0.0}  # with flat weekdays, no calendar and no bursts: no variability


def arrivals(**fields) -> DemandConfig:
    """A demand config whose drawn orders are all placed (no response to the promise): the arrival process alone."""
    return DemandConfig(**({"response": ResponseConfig(enabled=False)} | fields))


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
    cfg = arrivals(orders_per_day=24_000, hourly_profile=[1.0] * 24)
    assert expected_orders(cfg, 0, 1440) == pytest.approx(24_000)
    assert expected_orders(cfg, 30, 90) == pytest.approx(1000)


def test_mix_follows_the_shares():
    city = City(CityConfig())
    cfg = arrivals(orders_per_day=50_000, fresh_share=0.2, merchant_share=0.4)
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
    o = generate_orders(arrivals(orders_per_day=20_000), city, 1, 1.0, 0.0, 0.0, spawn_streams(1))
    assert np.mean(o.zone == 0) == pytest.approx(0.75, abs=0.02)


# --- volume that varies ------------------------------------------------------------------------------------

ORDER_COLUMNS = ("created", "region", "zone", "station", "category", "source", "warehouse", "pick_service_min", "failed_attempts")


def _fingerprint(o) -> tuple[int, str]:
    h = hashlib.sha256()
    for name in ORDER_COLUMNS:
        h.update(np.ascontiguousarray(getattr(o, name)).tobytes())
    return len(o), h.hexdigest()


# Taken with sim 0.2 (commit d18435a, before demand could vary) from the same calls: every column of the drawn
# orders, bit for bit. A whole default run (orders.parquet, every column, fixed and dynamic cutoffs) was also
# compared with scripts/compare_results.py against that commit: identical.
FINGERPRINTS_0_2 = {
    (42, 3, 100_000.0): (300_013, "ed3b8b1f0f01b1ebcdbb1a7e6e3cc4d487a96ce0fd8d4c981d04c906e3e05e3d"),
    (7, 2, 20_000.0): (40_270, "a46d3605e2c3cc696d012b68e55c85c08e2e2b965e69b7657782cf386e909614"),
}


@pytest.mark.parametrize("seed,days,per_day", list(FINGERPRINTS_0_2))
def test_variability_off_draws_the_orders_of_0_2_bit_for_bit(seed, days, per_day):
    cfg = arrivals(orders_per_day=per_day, **STEADY)
    o = generate_orders(cfg, City(CityConfig()), days, 1.2, 0.5, 0.1, spawn_streams(seed))
    assert _fingerprint(o) == FINGERPRINTS_0_2[(seed, days, per_day)]


def test_variability_streams_come_after_the_old_ones():
    """New streams are appended to STREAMS: the old ones keep their numbers, so they draw what they drew before."""
    old = ("arrivals", "order_attributes", "pick_service", "delivery_attempts", "sort_service")
    old += ("nearby_delivery", "lastmile_service", "services", "territories")
    assert STREAMS[: len(old)] == old and {"demand_days", "demand_hours", "bursts"} <= set(STREAMS[len(old) :])
    before = np.random.SeedSequence(5).spawn(len(old))  # the streams of sim 0.2
    now = spawn_streams(5)
    for name, seq in zip(old, before):
        assert now[name].random() == np.random.Generator(np.random.PCG64(seq)).random()


def _daily_counts(o, days: int) -> np.ndarray:
    return np.bincount((o.created // 1440).astype(int), minlength=days)


@pytest.mark.statistical
@pytest.mark.parametrize("daily_cv", [0.0, 0.1, 0.25])
def test_daily_volume_spread_matches_daily_cv(daily_cv):
    """A day's count N is Poisson given its gamma factor F (mean 1, CV c), so Var(N/mu) = 1/mu + c^2. The sample
    variance of N/mu over the days of one long run must hold that value in its chi-square interval ((d-1) s^2 /
    sigma^2 ~ chi2(d-1); the mixture is nearly normal: excess kurtosis about 6 c^2 <= 0.4 here)."""
    days, mu = 366, 4000.0
    cfg = arrivals(orders_per_day=mu, daily_cv=daily_cv, profile_cv=0.05)
    o = generate_orders(cfg, City(CityConfig()), days, 1.0, 0.0, 0.0, spawn_streams(11))
    x = _daily_counts(o, days) / mu
    s2 = x.var(ddof=1)
    lo, hi = (days - 1) * s2 / stats.chi2.ppf(0.995, days - 1), (days - 1) * s2 / stats.chi2.ppf(0.005, days - 1)
    expected = 1.0 / mu + daily_cv**2
    assert lo <= expected <= hi, f"variance of daily volume / mean: [{lo:.5f}, {hi:.5f}] vs {expected:.5f}"
    assert abs(x.mean() - 1.0) <= 3 * math.sqrt(expected / days)


def test_profile_cv_moves_volume_between_hours_not_days():
    planned = planned_orders_per_hour(arrivals(orders_per_day=10_000, **STEADY), "2026-03-02", 50)
    varied = varied_orders_per_hour(planned, 0.0, 0.2, *np.random.default_rng(1).spawn(2))
    np.testing.assert_allclose(varied.sum(axis=1), planned.sum(axis=1), rtol=1e-12)
    relative = varied / planned
    assert 0.15 < relative.std() < 0.25  # each hour times a factor of CV 0.2, then renormalised over 24 hours
    assert (varied_orders_per_hour(planned, 0.0, 0.0, *np.random.default_rng(1).spawn(2)) == planned).all()


def test_weekday_factors_shape_the_days():
    factors = [0.9, 0.9, 0.95, 1.0, 1.05, 1.2, 1.0]  # Monday first, mean 1
    cfg = arrivals(orders_per_day=20_000, weekday_factors=factors, **STEADY)
    for start, first_weekday in (("2026-03-02", 0), ("2026-03-04", 2)):  # a Monday, a Wednesday
        days = 28
        o = generate_orders(cfg, City(CityConfig()), days, 1.0, 0.0, 0.0, spawn_streams(3), start_date=start)
        counts = _daily_counts(o, days)
        expected = 20_000 * np.asarray(factors)[(first_weekday + np.arange(days)) % 7]
        assert (np.abs(counts - expected) < 5 * np.sqrt(expected)).all(), (start, counts, expected)


def test_a_calendar_event_multiplies_its_day_and_brings_its_profile():
    spike = [10.0] + [1.0] * 23  # a midnight spike
    events = [CalendarEvent(date="2026-11-11", factor=3.0, name="双11", profile=spike), CalendarEvent(date="2026-11-13", factor=0.5)]
    cfg = arrivals(orders_per_day=20_000, calendar=events, **STEADY)
    o = generate_orders(cfg, City(CityConfig()), 6, 1.0, 0.0, 0.0, spawn_streams(4), start_date="2026-11-09")
    counts = _daily_counts(o, 6)
    expected = 20_000 * np.array([1, 1, 3, 1, 0.5, 1])
    assert (np.abs(counts - expected) < 5 * np.sqrt(expected)).all(), counts
    day = o.created[(o.created >= 2 * 1440) & (o.created < 3 * 1440)]
    midnight_share = np.mean(day < 2 * 1440 + 60)
    assert abs(midnight_share - 10 / 33) < 5 * math.sqrt(10 / 33 * 23 / 33 / day.size)
    # the dispatcher's expectation knows the plan
    planned = planned_orders_per_hour(cfg, "2026-11-09", 6)
    assert expected_orders(cfg, 2 * 1440, 3 * 1440, planned) == pytest.approx(60_000)
    assert expected_orders(cfg, 2 * 1440, 2 * 1440 + 60, planned) == pytest.approx(60_000 * 10 / 33)
    assert expected_orders(cfg, 1440, 2 * 1440, planned) == pytest.approx(20_000)


def test_an_event_outside_the_run_warns():
    with pytest.warns(UserWarning, match=r"demand.calendar\[0\].date.*2026-10-31 \(pre-sale\) lies outside the run"):
        load_config(
            {"start_date": "2026-11-04", "horizon_days": 14, "demand": {"calendar": [{"date": "2026-10-31", "name": "pre-sale"}]}}
        )


def test_bursts_add_orders_within_their_windows():
    cfg = BurstConfig(per_day=4.0, orders_mean=300.0, orders_cv=0.5, duration_min=20.0)
    factors = np.ones(30)
    shares = np.tile(np.asarray(DEFAULT_HOURLY_PROFILE) / sum(DEFAULT_HOURLY_PROFILE), (30, 1))
    created, burst = burst_arrivals(np.random.default_rng(2), cfg, factors, shares, 30 * 1440.0)
    n_bursts = burst.max() + 1
    assert abs(n_bursts - 120) < 4 * math.sqrt(120)
    for b in range(n_bursts):
        t = created[burst == b]
        assert t.size == 0 or t.max() - t.min() < 20.0
    assert abs(created.size / n_bursts - 300.0) < 4 * 300 * math.sqrt(0.25 + 1 / 300) / math.sqrt(n_bursts)
    evening = np.mean((created % 1440) >= 19 * 60)  # they start where demand is: the evening peak (19-24 h) holds about 29 %
    assert 0.15 < evening < 0.45


def test_bursts_come_on_top_of_the_same_base_orders():
    city = City(CityConfig())
    base = arrivals(orders_per_day=20_000)
    with_bursts = arrivals(orders_per_day=20_000, bursts=BurstConfig(per_day=3.0, orders_mean=500.0, zones=2))
    a = generate_orders(base, city, 4, 1.0, 0.5, 0.1, spawn_streams(9))
    b = generate_orders(with_bursts, city, 4, 1.0, 0.5, 0.1, spawn_streams(9))
    assert (np.diff(b.created) >= 0).all()
    assert len(b) > len(a) + 1000
    kept = np.isin(b.created, a.created)
    assert kept.sum() == len(a)
    for name in ORDER_COLUMNS:
        np.testing.assert_array_equal(getattr(b, name)[kept], getattr(a, name))
    extra_home = ~kept & (b.region == 0)
    np.testing.assert_array_equal(b.station[extra_home], city.zone_station[b.zone[extra_home]])
    # 2 zones per burst: far fewer zones than the whole city's 80
    assert np.unique(b.zone[extra_home]).size < 0.5 * city.zone_weight.size


def test_burst_zones_are_distinct_and_follow_the_weights():
    weight = np.array([0.0, 1.0, 1.0, 8.0, 0.0])
    chosen = burst_zones(np.random.default_rng(0), weight, 2, 4000)
    assert chosen.shape == (4000, 2)
    assert (chosen[:, 0] != chosen[:, 1]).all() and np.isin(chosen, [1, 2, 3]).all()
    assert np.mean((chosen == 3).any(axis=1)) > 0.9  # the heavy zone is nearly always among the two
    assert burst_zones(np.random.default_rng(0), weight, 5, 3).shape == (3, 3)  # no more zones than have demand


@pytest.mark.statistical
def test_replications_differ_as_days_do():
    """Confidence intervals over replications widen with daily_cv: the spread of the measured orders across seeds
    (an F test on the two variances) and the width of their t interval."""
    seeds = range(1, 7)
    rows = {
        cv: [sim.run(small_config(**{"demand.daily_cv": cv, "output.progress": False}, seed=s)).kpis for s in seeds]
        for cv in (0.0, 0.2)
    }
    steady, varied = (pd.DataFrame(rows[cv]) for cv in (0.0, 0.2))
    f = varied["orders"].var(ddof=1) / steady["orders"].var(ddof=1)
    assert f > stats.f.ppf(0.999, len(seeds) - 1, len(seeds) - 1), f
    width = {
        name: float(ci(df, metric="orders").eval("ci_high - ci_low").iloc[0]) for name, df in (("steady", steady), ("varied", varied))
    }
    assert width["varied"] > 3 * width["steady"], width


def test_the_double11_experiment_puts_its_peak_inside_the_run(recwarn):
    import sim.cli

    sim.cli._register_base()
    composed = sim.cli._compose(["+experiment=double11"])
    cfg = load_config(sim.cli._model_part(composed))
    assert not [w for w in recwarn if "outside the run" in str(w.message)]
    factors = planned_orders_per_hour(cfg.demand, cfg.start_date, cfg.horizon_days).sum(axis=1) / cfg.demand.orders_per_day
    assert factors.argmax() == 7 and factors[7] == pytest.approx(3.0) and cfg.horizon_days - 7 >= 6  # 11-11, then days to recover
    assert len(str(composed.hydra.sweeper.params.capacity).split("},{")) == 2  # with and without extra capacity


# --- shoppers answer the promise (demand.response) and send parcels back (demand.returns) -----------------------


def test_buy_probability_is_relative_to_the_most_attractive_promise():
    """Shoppers are drawn for the most attractive promise (same-day): at next-day a 1/1.0073 of them buy, so that
    orders_per_day buy at a next-day promise."""
    factors = np.array([1.0073, 1.0, 0.9949])
    p = buy_probability(np.array([0, 1, 1, 2]), factors, np.array([1.0, 1.0, 0.5, 0.5]))
    assert p == pytest.approx([1.0, 1 / 1.0073, 0.5 / 1.0073, 0.9949 / 1.0073 * 0.5])
    assert ResponseConfig().shoppers_per_order() == pytest.approx(1.0073)


def _cutoff_run(time: str, **overrides) -> sim.RunResult:
    return sim.run(small_config(**{"cutoff": {"name": "fixed", "time": time}, "output.progress": False} | overrides))


def test_a_later_cutoff_sells_more_to_the_same_shoppers():
    """Paired on one seed: each shopper draws once, and a later cutoff shows same-day to everyone an earlier one did
    and more; without the memory of broken promises the buyers of the earlier cutoff are among the later one's."""
    early, late = (_cutoff_run(t, **{"demand.response.miss_penalty": 0.0}) for t in ("10:00", "16:00"))
    ids = {name: set(r.output.order_ids.tolist()) for name, r in (("early", early), ("late", late))}
    assert ids["early"] < ids["late"]
    assert late.kpis["orders"] > early.kpis["orders"] and late.kpis["lost_orders"] < early.kpis["lost_orders"]
    assert late.kpis["orders"] + late.kpis["lost_orders"] == early.kpis["orders"] + early.kpis["lost_orders"]


def test_response_off_places_every_drawn_order_and_on_sells_orders_per_day_at_next_day():
    """Off, every drawn order is placed. On, shoppers are drawn for the most attractive promise and a next-day
    promise sells orders_per_day: with every promise next-day (cutoff 00:00) the orders are those of the response off,
    within their Poisson spread."""
    off = _cutoff_run("13:00", **{"demand.response.enabled": False})
    on = _cutoff_run("13:00")
    assert off.output.order_ids is None and off.kpis["lost_orders"] == 0 and np.isnan(off.kpis["shoppers"])
    assert on.kpis["lost_orders"] > 0 and on.output.order_ids is not None
    assert on.kpis["shoppers"] == pytest.approx((on.kpis["orders"] + on.kpis["lost_orders"]) / (0.3 * 1.0073))
    next_day = _cutoff_run("00:00", **{"demand.response.miss_penalty": 0.0}).kpis["orders"]
    assert abs(next_day - off.kpis["orders"]) < 4 * np.sqrt(off.kpis["orders"]), (next_day, off.kpis["orders"])


def test_shoppers_lost_never_enter_the_chain():
    r = _cutoff_run(
        "13:00",
        **{
            "demand.response.tier_factors": [1.0, 0.6, 0.5],
            "demand.response.miss_penalty": 0.0,
            "services.parcel_centre.enabled": True,
        },
    )
    lost = r.output.lost
    assert lost["created"].size > 0.2 * len(r.output.orders)  # a next-day promise loses 40 % of its shoppers
    assert (lost["tier"] >= 1).all()  # nobody shown the fastest promise walks away (no broken promises remembered)
    o = r.output.orders
    assert o.placed.all() and (o.tier >= 0).all() and not np.isnan(o.promised_by).any()
    alerts = r.output.alerts
    assert alerts is None or (alerts["order_id"] < len(o)).all()


def test_broken_promises_cost_their_zones_orders_later():
    """The same shoppers, a stressed operation: with the memory of broken promises the zones that saw misses buy
    less, so more shoppers are lost than without it."""
    stressed = {"capacity.couriers_per_station": 3, "horizon_days": 4}
    remember = _cutoff_run("13:00", **stressed)
    forget = _cutoff_run("13:00", **stressed | {"demand.response.miss_penalty": 0.0})
    assert remember.kpis["same_day_hit_rate"] < 0.8
    assert remember.kpis["lost_orders"] > forget.kpis["lost_orders"] * 1.1


def test_return_probability_follows_lateness_and_services():
    cfg = ReturnsConfig(rate=0.1, late_factor=1.5, doorstep_factor=0.8, slot_factor=0.9)
    late, door, slot = (np.array(v, dtype=bool) for v in ([0, 1, 0, 0, 1], [0, 0, 1, 0, 1], [0, 0, 0, 1, 1]))
    assert return_probability(cfg, late, door, slot) == pytest.approx([0.1, 0.15, 0.08, 0.09, 0.1 * 1.5 * 0.8 * 0.9])


@pytest.mark.statistical
def test_customer_returns_match_their_rate():
    """Returns are drawn per delivered order: their count lies in the binomial interval of the configured rate."""
    r = _cutoff_run("11:00", **{"demand.returns.late_factor": 1.0})
    o = r.output.orders
    delivered = int(np.count_nonzero(~np.isnan(o.delivered)))
    low, high = stats.binom.interval(0.999, delivered, 0.08)
    assert low <= int(o.customer_return.sum()) <= high
    assert not (o.customer_return & np.isnan(o.delivered)).any()


@pytest.mark.parametrize(
    "key, value, fragment",
    [
        ("demand.response.conversion", 1.5, "at most 1"),
        ("demand.response.conversion", 0, "> 0"),
        ("demand.response.conversion", 0.995, "probability above 1"),
        ("demand.response.tier_factors", [1.0, 1.0], "three factors"),
        ("demand.response.tier_factors", [1.0, 1.0, 1.5], "never sells less"),
        ("demand.response.miss_memory_days", 0, "> 0"),
        ("demand.returns.rate", 2, "at most 1"),
        ("economics.margin", 1.2, "at most 1"),
        ("economics.order_value_cny", -5, ">= 0"),
    ],
)
def test_bad_response_and_economics_values_are_named(key, value, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(small_config(**{key: value}))
    assert err.value.key == key and fragment in str(err.value), str(err.value)


def test_runs_sharing_a_seed_share_the_orders_drawn_without_changing_a_result(monkeypatch):
    """A sweep worker draws a seed's orders once (`sim.demand.DRAWN`): runs of other capacity and services that come
    between, one of them changing the drawn failed attempts (the doorstep service), leave every order and every KPI
    as drawn afresh."""
    doorstep = small_config(services={"doorstep": {"share": 0.3}})
    fresh = sim.run(doorstep)
    monkeypatch.setattr(DRAWN, "max_bytes", 64 << 20)
    DRAWN.clear()
    sim.run(doorstep)
    sim.run(small_config(**{"capacity.couriers_per_station": 4}))
    shared = sim.run(doorstep)
    assert DRAWN.hits == 2
    pd.testing.assert_frame_equal(shared.orders, fresh.orders)
    assert json.dumps(shared.kpis, sort_keys=True) == json.dumps(fresh.kpis, sort_keys=True)  # NaN equal to NaN
    sim.run(small_config(seed=7))  # another seed draws its own
    assert DRAWN.hits == 2 and len(DRAWN._drawn) == 2
    DRAWN.clear()


def test_drawn_orders_stay_within_their_memory(monkeypatch):
    """The oldest draws go first, and a draw larger than half the allowance is not kept at all."""
    one_seed = sum(getattr(sim.run(small_config()).output.orders, name).nbytes for name in OrderTable.DRAWN_COLUMNS)
    monkeypatch.setattr(DRAWN, "max_bytes", int(2.5 * one_seed))
    DRAWN.clear()
    for seed in (1, 2, 3):
        sim.run(small_config(seed=seed))
    assert len(DRAWN._drawn) == 2 and DRAWN._kept_bytes() <= DRAWN.max_bytes
    monkeypatch.setattr(DRAWN, "max_bytes", one_seed)  # a draw of more than half of it is not kept
    DRAWN.clear()
    sim.run(small_config(seed=4))
    assert not DRAWN._drawn
    DRAWN.clear()


def test_only_drawing_the_orders_draws_from_the_demand_streams():
    """A run whose orders come from `DRAWN` leaves the demand streams as they were: no other module may use them."""
    import pathlib
    import re

    assert set(DEMAND_STREAMS) <= set(STREAMS)
    package = pathlib.Path(sim.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "demand.py" and path.parent == package:
            continue
        used = set(re.findall(r"streams\[\"(\w+)\"\]", path.read_text(encoding="utf-8")))
        assert not used & set(DEMAND_STREAMS), f"{path.relative_to(package)} draws from {used & set(DEMAND_STREAMS)}"
