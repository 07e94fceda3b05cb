"""sim.schema: times of day and slots parsed once, numbers checked with messages naming the key, strict
dict -> dataclass conversion, config back to plain data ('HH:MM' text), and the defaults table."""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass, field

import pytest

from sim.config import CapacityConfig, PromiseConfig, SimConfig
from sim.schema import (
    ConfigError,
    TimeOfDay,
    TimeSlot,
    check_number,
    field_docs,
    flatten,
    from_dict,
    parse_time_min,
    spec,
    to_dict,
    tod,
)

# --- TimeOfDay ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,minutes,shown",
    [("00:00", 0, "00:00"), ("11:00", 660, "11:00"), ("9:05", 545, "09:05"), (" 17:30 ", 1050, "17:30"), ("24:00", 1440, "24:00")],
)
def test_time_of_day_parses_to_minutes_and_prints_as_text(text, minutes, shown):
    t = TimeOfDay.parse(text)
    assert isinstance(t, TimeOfDay) and isinstance(t, float)
    assert t == minutes and parse_time_min(text) == minutes
    assert str(t) == shown and f"{t}" == shown
    assert repr(t) == repr(shown)


def test_time_of_day_is_a_number_the_model_computes_with():
    t = TimeOfDay.parse("11:00")
    assert t + 60 == 720.0 and t < TimeOfDay.parse("11:01") and 2 * t == 1320.0
    assert TimeOfDay.parse(t) is t, "a parsed time passes through"


@pytest.mark.parametrize("bad", ["25:00", "24:01", "24:30", "9:60", "11:5", "noon", "11", "", "-1:00", "11:00:00", None, 11.0])
def test_bad_times_of_day_name_the_key(bad):
    with pytest.raises(ConfigError) as err:
        TimeOfDay.parse(bad, "cutoff.time")
    assert err.value.key == "cutoff.time" and err.value.value == bad
    assert "HH:MM" in str(err.value) and "quote" not in str(err.value)


def test_an_unquoted_yaml_time_gets_a_hint():
    """YAML reads an unquoted 11:00 as the number 660 (base 60); an integer gets the hint to quote it."""
    for number in (11, 660):
        with pytest.raises(ConfigError, match="quote times in YAML") as err:
            TimeOfDay.parse(number, "promise.day_end")
        assert err.value.key == "promise.day_end"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_times_survive_pickling(protocol):
    """Configs travel to sweep workers pickled: a time stays a TimeOfDay with its text."""
    t = TimeOfDay.parse("09:30")
    back = pickle.loads(pickle.dumps(t, protocol=protocol))
    assert type(back) is TimeOfDay and back == 570 and str(back) == "09:30"
    slot = TimeSlot.parse("09:00-12:00")
    back = pickle.loads(pickle.dumps(slot, protocol=protocol))
    assert type(back) is TimeSlot and back == slot and str(back) == "09:00-12:00"
    assert type(back.start) is TimeOfDay


def test_a_whole_config_survives_pickling():
    cfg = SimConfig()
    back = pickle.loads(pickle.dumps(cfg))
    assert back == cfg and to_dict(back) == to_dict(cfg)


# --- TimeSlot -------------------------------------------------------------------------------------------


def test_time_slot_parses_start_and_end():
    slot = TimeSlot.parse("09:00-12:30")
    assert slot.start == 540 and slot.end == 750 and tuple(slot) == (540, 750)
    assert str(slot) == "09:00-12:30" and repr(slot) == repr("09:00-12:30")
    assert TimeSlot.parse(" 18:00 - 24:00 ") == (1080, 1440)
    assert TimeSlot.parse(slot) is slot


@pytest.mark.parametrize(
    "bad,why",
    [
        ("12:00-09:00", "start before the end"),
        ("09:00-09:00", "start before the end"),
        ("09:00", "HH:MM-HH:MM"),
        ("09:00-12:00-15:00", "HH:MM-HH:MM"),
        ("09:00-25:00", "HH:MM"),
        (["09:00", "12:00"], "HH:MM-HH:MM"),
        (900, "HH:MM-HH:MM"),
    ],
)
def test_bad_time_slots_name_the_key(bad, why):
    with pytest.raises(ConfigError, match=why) as err:
        TimeSlot.parse(bad, "services.on_demand.slots[0]")
    assert err.value.key == "services.on_demand.slots[0]"


# --- check_number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_number_refuses_nan_and_infinity(bad):
    with pytest.raises(ConfigError, match="finite") as err:
        check_number("demand.orders_per_day", bad, {"ge": 0.0})
    assert err.value.key == "demand.orders_per_day"


@pytest.mark.parametrize("bad", [True, False, "3", "three", None, [3], {"n": 3}])
@pytest.mark.parametrize("integer", [False, True])
def test_check_number_refuses_what_is_not_a_number(bad, integer):
    with pytest.raises(ConfigError) as err:
        check_number("capacity.pickers", bad, {}, integer=integer)
    assert err.value.key == "capacity.pickers"
    assert ("an integer" if integer else "a number") in str(err.value)


def test_check_number_integers():
    assert check_number("k", 3.0, {}, integer=True) == 3 and type(check_number("k", 3.0, {}, integer=True)) is int
    assert type(check_number("k", 3, {})) is float
    with pytest.raises(ConfigError, match="expected an integer"):
        check_number("capacity.couriers_per_station", 2.5, {}, integer=True)


@pytest.mark.parametrize(
    "limit,ok,bad,bounds",
    [
        ({"ge": 0.0}, 0.0, -0.001, ["0"]),
        ({"gt": 0.0}, 0.001, 0.0, ["0"]),
        ({"le": 1.0}, 1.0, 1.001, ["1"]),
        ({"lt": 1.0}, 0.999, 1.0, ["1"]),
        ({"ge": 1.0, "le": 366.0}, 366.0, 367.0, ["1", "366"]),
        ({"gt": 2.5}, 3.0, 2.5, ["2.5"]),
    ],
)
def test_check_number_limits_and_the_message(limit, ok, bad, bounds):
    assert check_number("x.y", ok, limit) == ok
    with pytest.raises(ConfigError) as err:
        check_number("x.y", bad, limit)
    assert err.value.key == "x.y" and err.value.value == bad
    assert str(err.value).startswith(f"config key 'x.y' has bad value {bad!r}: expected a number ")
    assert all(b in err.value.allowed for b in bounds), err.value.allowed


# --- from_dict ------------------------------------------------------------------------------------------


@dataclass
class Inner:
    rate: float = spec(1.0, gt=0.0, doc="a rate")
    start: TimeOfDay = spec(tod("08:00"), doc="when it starts")


@dataclass
class Outer:
    name: str = spec("a", choices=("a", "b"), doc="which")
    flag: bool = spec(False, doc="on or off")
    times: list[TimeOfDay] = spec(factory=lambda: [tod("07:00")], doc="a timetable")
    slots: list[TimeSlot] = spec(factory=list, doc="slots")
    inner: Inner = field(default_factory=Inner)


def test_from_dict_fills_defaults_and_parses_times_once():
    built = from_dict(Outer, {"inner": {"start": "09:15"}, "times": ["10:00", "06:30"], "slots": ["09:00-12:00"]})
    assert built.inner.rate == 1.0 and built.name == "a"
    assert type(built.inner.start) is TimeOfDay and built.inner.start == 555
    assert all(type(t) is TimeOfDay for t in built.times) and built.times == [600, 390]
    assert type(built.slots[0]) is TimeSlot
    assert from_dict(Outer, to_dict(built)) == built, "plain data back to the same config"
    assert from_dict(Outer, built) == built
    assert from_dict(Outer, None) == Outer()


@pytest.mark.parametrize("prefix,data,key", [("", {"nmae": "a"}, "nmae"), ("svc", {"flag": True, "zz": 1}, "svc.zz")])
def test_from_dict_names_an_unknown_key_and_lists_the_allowed_ones(prefix, data, key):
    with pytest.raises(ConfigError) as err:
        from_dict(Outer, data, prefix)
    assert err.value.key == key
    assert "unknown key; allowed keys here: name, flag, times, slots, inner" in str(err.value)


def test_an_unknown_nested_key_is_named_in_full():
    with pytest.raises(ConfigError, match="allowed keys here: pickers, sorter_per_hour") as err:
        from_dict(SimConfig, {"capacity": {"picker": 3}})
    assert err.value.key == "capacity.picker"


@pytest.mark.parametrize(
    "data,key,allowed",
    [
        ({"flag": "yes"}, "flag", "expected true or false"),
        ({"name": "c"}, "name", "expected one of a, b"),
        ({"name": 3}, "name", "expected a string"),
        ({"times": "07:00"}, "times", "expected a list"),
        ({"times": ["07:00", "7pm"]}, "times[1]", "HH:MM"),
        ({"inner": 5}, "inner", "expected a mapping"),
        ({"inner": {"rate": 0}}, "inner.rate", "expected a number > 0"),
        ({"inner": {"start": 800}}, "inner.start", "quote times"),
        ({"slots": ["12:00-11:00"]}, "slots[0]", "start before the end"),
    ],
)
def test_from_dict_bad_values_name_their_key(data, key, allowed):
    with pytest.raises(ConfigError, match=allowed) as err:
        from_dict(Outer, data)
    assert err.value.key == key


def test_from_dict_refuses_a_list_for_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping") as err:
        from_dict(Outer, [("name", "a")], "outer")
    assert err.value.key == "outer"


# --- back to plain data ---------------------------------------------------------------------------------


def test_to_dict_writes_times_as_text():
    plain = to_dict(from_dict(Outer, {"slots": ["09:00-12:00"], "inner": {"start": "9:05"}}))
    assert plain == {
        "name": "a",
        "flag": False,
        "times": ["07:00"],
        "slots": ["09:00-12:00"],
        "inner": {"rate": 1.0, "start": "09:05"},
    }
    assert type(plain["inner"]["start"]) is str and type(plain["times"][0]) is str
    assert to_dict(PromiseConfig()) == {"day_end": "22:00", "review_interval_min": 15.0}


def test_flatten_dotted_keys_and_json_lists():
    flat = flatten({"a": {"b": 1, "c": {"d": "x"}}, "times": ["07:00", "10:00"], "shifts": [{"start": "08:00", "share": 1.0}]})
    assert flat == {
        "a.b": 1,
        "a.c.d": "x",
        "times": '["07:00", "10:00"]',
        "shifts": '[{"share": 1.0, "start": "08:00"}]',
    }


def test_a_flattened_config_is_plain_text_and_numbers():
    """What lands in summary.parquet: every time as 'HH:MM' text, nothing a Parquet writer cannot take."""
    flat = flatten(SimConfig().to_dict())
    assert flat["promise.day_end"] == "22:00" and type(flat["promise.day_end"]) is str
    assert flat["cutoff.time"] == "13:00"
    assert json.loads(flat["sorting.waves"])[0] == "05:00"
    assert json.loads(flat["lastmile.shifts"])[0] == {"start": "07:00", "end": "16:00", "share": 0.65}
    assert json.loads(flat["services.on_demand.slots"]) == ["09:00-12:00", "14:00-17:00", "18:00-21:00"]
    assert not any(isinstance(v, (TimeOfDay, TimeSlot)) for v in flat.values())
    assert all(v is None or isinstance(v, (bool, int, float, str)) for v in flat.values())
    json.dumps(flat)


# --- the defaults table ---------------------------------------------------------------------------------


def test_field_docs_lists_every_leaf_with_its_default_and_doc():
    assert field_docs(Outer) == [
        ("name", "a", "which"),
        ("flag", False, "on or off"),
        ("times", ["07:00"], "a timetable"),
        ("slots", [], "slots"),
        ("inner.rate", 1.0, "a rate"),
        ("inner.start", "08:00", "when it starts"),
    ]


def test_field_docs_of_the_whole_config():
    rows = field_docs(SimConfig)
    keys = [key for key, _, _ in rows]
    assert len(keys) == len(set(keys))
    docs = {key: (default, doc) for key, default, doc in rows}
    assert docs["promise.day_end"][0] == "22:00" and "promised day" in docs["promise.day_end"][1]
    assert docs["capacity.pickers"][0] == CapacityConfig().pickers
    # every value of a flattened config is a documented leaf or lies under one (the cutoff node, say)
    for flat_key in flatten(SimConfig().to_dict()):
        assert any(flat_key == key or flat_key.startswith(key + ".") for key in keys), flat_key
    json.dumps([default for _, default, _ in rows])  # defaults are plain data
