"""Config validation: defaults are valid, every bad value is a ConfigError naming its key; property tests;
the spec loads no engine; renamed keys; sim.run and the CLI compose the same config for every group option."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from order_states import INCONSISTENT, end_states, monotone_violations

import sim
from sim.config import load_config
from sim.config.validation import TEXTBOOK_CASES
from sim.policies import REGISTRY, CutoffPolicy
from sim.schema import ConfigError, flatten


def test_defaults_are_valid_and_documented():
    cfg = sim.default_config()
    assert load_config(cfg) == cfg
    assert cfg.capacity.couriers_per_station == 30 and cfg.cutoff == {"name": "fixed", "time": "13:00"}


def test_partial_mapping_keeps_other_defaults():
    cfg = load_config({"capacity": {"pickers": 7}})
    assert cfg.capacity.pickers == 7 and cfg.capacity.couriers_per_station == 30


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
    ("promise.day_end", "22.00"),
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
    assert flat["capacity.couriers_per_station"] == 30 and flat["cutoff.time"] == "13:00"
    assert isinstance(flat["sorting.waves"], str)


times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
# home-city cutoffs come before 22:00, the promised day's end
cutoffs = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 21), st.sampled_from([0, 15, 30, 45]))
policies = st.one_of(
    st.builds(lambda t: {"name": "fixed", "time": t}, cutoffs),
    st.just({"name": "none"}),
    st.builds(lambda t, d: {"name": "regional", "default": d, "times": {"changchun": t}}, cutoffs, cutoffs),
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
    states = end_states(o)
    assert INCONSISTENT not in states, f"{np.count_nonzero(states == INCONSISTENT)} orders fit no end state"
    assert monotone_violations(o) == {}


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


# --- the spec layer stands alone -----------------------------------------------------------------------

ENGINE = ("simpy", "sim.model", "sim.city", "sim.lastmile", "sim.warehouse", "hydra")


def test_the_config_package_loads_no_engine(tmp_path):
    """`import sim.config` and `load_config` (the spec) load neither the model nor SimPy nor Hydra."""
    here = str(Path(sim.__file__).resolve().parent.parent)  # the `sim` under test, whatever the working directory
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}
    code = (
        "import sys, sim.config\n"
        "sim.config.load_config({'capacity': {'pickers': 3}, 'cutoff': {'name': 'dynamic'}})\n"
        f"print(','.join(m for m in {ENGINE!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"importing sim.config loaded {proc.stdout.strip()}"


# --- renamed keys ---------------------------------------------------------------------------------------

SLOTS = ["10:00-12:00", "19:00-21:00"]
RENAMED = [
    ({"promise": {"window_end": "21:00"}}, {"promise": {"day_end": "21:00"}}, "promise.window_end", "promise.day_end"),
    (
        {"services": {"windows": {"share": 0.3}}},
        {"services": {"on_demand": {"slot_share": 0.3}}},
        "services.windows.share",
        "services.on_demand.slot_share",
    ),
    (
        {"services": {"windows": {"windows": SLOTS}}},
        {"services": {"on_demand": {"slots": SLOTS}}},
        "services.windows.windows",
        "services.on_demand.slots",
    ),
]


@pytest.mark.parametrize("old,new,old_key,new_key", RENAMED, ids=[r[2] for r in RENAMED])
def test_an_old_key_loads_as_its_new_name_with_a_warning(old, new, old_key, new_key):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name loads without any warning
        expected = load_config(new)
    assert expected != load_config({}), "the value differs from the default"
    with pytest.warns(FutureWarning) as caught:
        got = load_config(old)
    assert got == expected
    assert flatten(got.to_dict()) == flatten(expected.to_dict())
    messages = [str(w.message) for w in caught]
    assert any(f"'{old_key}'" in m and f"'{new_key}'" in m for m in messages), messages


def test_all_old_keys_at_once():
    old = {
        "promise": {"window_end": "21:00"},
        "services": {"windows": {"share": 0.3, "windows": SLOTS, "min_lead_h": 2.0}},
    }
    new = {
        "promise": {"day_end": "21:00"},
        "services": {"on_demand": {"slot_share": 0.3, "slots": SLOTS, "min_lead_h": 2.0}},
    }
    with pytest.warns(FutureWarning) as caught:
        got = load_config(old)
    assert got == load_config(new)
    text = " ".join(str(w.message) for w in caught)
    for old_key, new_key in (
        ("promise.window_end", "promise.day_end"),
        ("services.windows.share", "services.on_demand.slot_share"),
        ("services.windows.windows", "services.on_demand.slots"),
    ):
        assert f"'{old_key}'" in text and f"'{new_key}'" in text, old_key
    assert old == {
        "promise": {"window_end": "21:00"},
        "services": {"windows": {"share": 0.3, "windows": SLOTS, "min_lead_h": 2.0}},
    }, "the caller's mapping is left as it was"


# --- sim.run and the CLI compose the same config -----------------------------------------------------------


def composed(overrides: list[str]) -> dict:
    """The config `python -m sim <overrides>` composes, as sim/cli.py composes it, without the launch's own nodes."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.cli import CONFIG_DIR, _register_base

    _register_base()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    data = OmegaConf.to_container(cfg, resolve=True)
    for launch_only in ("results", "search", "hydra"):
        data.pop(launch_only, None)
    return data


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_cutoff_option_is_the_same_from_python_and_the_cli(name):
    from_cli = load_config(composed([f"cutoff={name}"]))
    from_python = load_config({"cutoff": {"name": name}})
    assert flatten(from_cli.to_dict()) == flatten(from_python.to_dict())
    assert from_python.cutoff["name"] == name


@pytest.mark.parametrize("mode", sorted(TEXTBOOK_CASES))
def test_each_validation_option_is_the_same_from_python_and_the_cli(mode):
    from_cli = load_config(composed([f"+validation={mode}"]))
    from_python = load_config({"validation": {"mode": mode}})
    assert flatten(from_cli.to_dict()) == flatten(from_python.to_dict())
    assert from_python.validation.mode == mode


def test_the_cli_default_is_the_python_default():
    assert flatten(load_config(composed([])).to_dict()) == flatten(load_config({}).to_dict())


# --- user policies ----------------------------------------------------------------------------------------


class NoCutoff(CutoffPolicy):
    """A policy that forgot to say when its cutoff is."""


@pytest.mark.parametrize("target", ["test_config.NoCutoff", "sim.policies.CutoffPolicy"])
def test_an_abstract_policy_is_rejected_at_load(target):
    with pytest.raises(ConfigError, match="abstract policy") as err:
        load_config(small_config(cutoff={"_target_": target}))
    assert err.value.key == "cutoff._target_"
