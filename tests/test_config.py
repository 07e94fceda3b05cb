"""Config validation: defaults are valid, every bad value is a ConfigError naming its key; property tests."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config import load_config
from sim.schema import ConfigError, flatten, parse_time_min


def test_defaults_are_valid_and_documented():
    cfg = sim.default_config()
    assert load_config(cfg) == cfg
    assert cfg.capacity.couriers_per_station == 30 and cfg.cutoff == {"name": "fixed", "time": "11:00"}


def test_partial_mapping_keeps_other_defaults():
    cfg = load_config({"capacity": {"pickers": 7}})
    assert cfg.capacity.pickers == 7 and cfg.capacity.couriers_per_station == 30


@pytest.mark.parametrize("text,minutes", [("00:00", 0), ("11:00", 660), ("9:05", 545), ("24:00", 1440)])
def test_parse_time(text, minutes):
    assert parse_time_min(text) == minutes


@pytest.mark.parametrize("bad", ["25:00", "24:30", "11:60", "noon", 660, None, "11"])
def test_bad_times(bad):
    with pytest.raises(ConfigError):
        parse_time_min(bad, "cutoff.time")


def test_unquoted_yaml_time_gets_a_hint():
    with pytest.raises(ConfigError, match="quote"):
        load_config({"cutoff": {"name": "fixed", "time": 660}})


BAD_VALUES = [
    ("capacity.pickers", -3),
    ("capacity.sorter_per_hour", 0),
    ("capacity.couriers_per_station", 2.5),
    ("capacity.truck_capacity", 0),
    ("demand.orders_per_day", -1),
    ("demand.fresh_share", 1.5),
    ("demand.hourly_profile", [1.0] * 23),
    ("horizon_days", 0),
    ("seed", -1),
    ("seed", "abc"),
    ("start_date", "2026-13-01"),
    ("promise.window_end", "22.00"),
    ("promise.review_interval_min", 7),
    ("lastmile.failed_attempt_prob", 1.0),
    ("lastmile.tour_capacity", 0),
    ("lastmile.shifts", [{"share": 0.5}]),
    ("warehouse.pick_mean_min", 0),
    ("sorting.waves", ["05:00", "26:00"]),
    ("linehaul.station_departures", []),
    ("city.zone_weights", [1.0, 2.0]),
    ("city.stations_x", 9),
    ("city.nearby", [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.6}]),
    ("cutoff", {"name": "fixed", "time": "25:00"}),
    ("cutoff", {"name": "nope"}),
    ("capacity.nonsense", 1),
    ("output.orders", "yes"),
]


@pytest.mark.parametrize("key,value", BAD_VALUES)
def test_each_bad_value_names_its_key(key, value):
    cfg = small_config(**{key: value})
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert key.split(".")[0] in err.value.key
    assert str(err.value).startswith(f"config key '{err.value.key}'")


def test_zero_couriers_with_demand_is_rejected():
    with pytest.raises(ConfigError, match="couriers_per_station"):
        load_config(small_config(**{"capacity.couriers_per_station": 0}))


def test_flatten_uses_dotted_keys():
    flat = flatten(sim.default_config().to_dict())
    assert flat["capacity.couriers_per_station"] == 30 and flat["cutoff.time"] == "11:00"
    assert isinstance(flat["sorting.waves"], str)


times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
cutoffs = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 21), st.sampled_from([0, 15, 30, 45])
)  # before 22:00, the day's end
policies = st.one_of(
    st.builds(lambda t: {"name": "fixed", "time": t}, cutoffs),
    st.just({"name": "none"}),
    st.builds(lambda t, d: {"name": "regional", "default": d, "times": {"changchun": t}}, cutoffs, times),
    st.builds(lambda t, h: {"name": "dynamic", "latest": t, "headroom": h}, cutoffs, st.floats(0.3, 1.5)),
)


@st.composite
def shifts(draw):
    n = draw(st.integers(1, 3))
    raw = np.array(draw(st.lists(st.integers(1, 10), min_size=n, max_size=n)), dtype=float)
    shares = [round(x, 6) for x in raw / raw.sum()]
    shares[-1] = round(1.0 - sum(shares[:-1]), 6)
    return [{"start": draw(times), "end": draw(times), "share": s} for s in shares]


@st.composite
def valid_configs(draw):
    zx, zy = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "horizon_days": draw(st.integers(2, 3)),
        "warmup_days": draw(st.integers(0, 1)),
        "drain_hours": draw(st.sampled_from([0.0, 6.0, 24.0])),
        "demand": {
            "orders_per_day": draw(st.floats(0, 3000)),
            "merchant_share": draw(st.floats(0, 1)),
            "fresh_share": draw(st.floats(0, 1)),
        },
        "city": {"zones_x": zx, "zones_y": zy, "stations_x": draw(st.integers(1, zx)), "stations_y": draw(st.integers(1, zy))},
        "cutoff": draw(policies),
        "capacity": {
            "pickers": draw(st.integers(1, 15)),
            "couriers_per_station": draw(st.integers(1, 8)),
            "sorter_per_hour": draw(st.floats(50, 5000)),
            "truck_capacity": draw(st.integers(1, 800)),
            "pickup_couriers": draw(st.integers(1, 5)),
        },
        "warehouse": {"shifts": draw(shifts()), "pick_cv": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "sorting": {
            "waves": draw(st.lists(times, max_size=6)),
            "lines": draw(st.integers(1, 3)),
            "service_cv": draw(st.sampled_from([0.0, 1.0])),
        },
        "lastmile": {
            "shifts": draw(shifts()),
            "tour_capacity": draw(st.integers(1, 40)),
            "failed_attempt_prob": draw(st.floats(0, 0.6)),
        },
        "pickup": {"rounds": draw(st.lists(times, min_size=1, max_size=4))},
        "output": {"progress": False},
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_random_valid_configs_run_and_conserve_orders(data):
    r = sim.run(data)
    o = r.output.orders
    assert r.kpis["orders_total"] == len(o) == len(r.orders)
    assert (np.diff(o.created) >= 0).all()
    assert ((o.tier >= 0) & (o.tier <= 2)).all()
    delivered = ~np.isnan(o.delivered)
    assert int((~delivered & np.isnan(o.returned)).sum()) == r.kpis["in_flight_at_end"]
    for earlier, later in (
        ("created", "picked"),
        ("picked", "sorted"),
        ("sorted", "departed"),
        ("departed", "out_for_delivery"),
        ("out_for_delivery", "delivered"),
    ):
        a, b = getattr(o, earlier), getattr(o, later)
        both = ~np.isnan(a) & ~np.isnan(b)
        assert (b[both] >= a[both] - 1e-9).all(), (earlier, later)


BREAKERS = [
    ("capacity.pickers", -1),
    ("capacity.sorter_per_hour", -5.0),
    ("demand.fresh_share", 2.0),
    ("cutoff", {"name": "fixed", "time": "24:01"}),
    ("cutoff", {"name": "mystery"}),
    ("lastmile.tour_capacity", 0),
    ("horizon_days", 0),
    ("city.zones_x", 0),
    ("capacity.extra", 1),
    ("demand.orders_per_day", "lots"),
    ("promise.review_interval_min", 0),
]


@settings(max_examples=40, deadline=None)
@given(valid_configs(), st.sampled_from(BREAKERS))
def test_random_invalid_configs_fail_cleanly(data, breaker):
    key, value = breaker
    node = data
    *path, last = key.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value
    with pytest.raises(ConfigError) as err:
        load_config(data)
    assert err.value.key.split(".")[0] == key.split(".")[0]
