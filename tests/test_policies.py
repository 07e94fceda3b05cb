"""Cutoff policies: registry, user policies via `_target_`, regional checks, the dynamic policy's behaviour."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import small_config

import sim
from sim.policies import REGISTRY, CutoffPolicy, make_policy
from sim.schema import ConfigError, parse_time_min, spec

REGIONS = ["changchun", "jilin"]


@dataclass
class WeekendParams:
    weekday: str = spec("12:00", time=True)
    weekend: str = spec("10:00", time=True)


class WeekendCutoff(CutoffPolicy):
    """A user policy: an earlier cutoff on days 5 and 6 of each week."""

    Params = WeekendParams

    def cutoff_min(self, region, day, state):
        return parse_time_min(self.params.weekend if day % 7 >= 5 else self.params.weekday)


class StateProbe(CutoffPolicy):
    """Reads the live state at each review, to check what the model offers policies."""

    seen: list = []

    def cutoff_min(self, region, day, state):
        if region == self.regions[0]:
            StateProbe.seen.append(
                (
                    state.now_min,
                    state.backlog(region),
                    state.backlog(region, "sorted"),
                    state.clearing_capacity("delivered", state.now_min + 600),
                )
            )
        return 11 * 60.0


def test_registry_names():
    assert set(REGISTRY) == {"fixed", "regional", "dynamic", "none"}


def test_unknown_name_is_a_config_error():
    with pytest.raises(ConfigError, match="cutoff.name"):
        make_policy({"name": "greedy"}, REGIONS)


def test_unknown_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match="cutoff.tme"):
        make_policy({"name": "fixed", "tme": "11:00"}, REGIONS)


def test_regional_rejects_unknown_region():
    with pytest.raises(ConfigError, match="cutoff.times.atlantis"):
        make_policy({"name": "regional", "times": {"atlantis": "10:00"}}, REGIONS)


def test_target_loads_a_user_policy():
    policy = make_policy({"_target_": "test_policies.WeekendCutoff", "weekday": "13:00"}, REGIONS)
    assert isinstance(policy, WeekendCutoff)
    assert policy.cutoff_min("jilin", 5, None) == 600.0 and policy.cutoff_min("jilin", 1, None) == 780.0


def test_target_must_be_a_policy_class():
    with pytest.raises(ConfigError, match="_target_"):
        make_policy({"_target_": "collections.OrderedDict"}, REGIONS)
    with pytest.raises(ConfigError, match="_target_"):
        make_policy({"_target_": "no.such.module.Policy"}, REGIONS)


def test_user_policy_runs_in_the_model():
    r = sim.run(small_config(cutoff={"_target_": "test_policies.WeekendCutoff", "weekday": "15:00"}))
    o = r.orders
    home = o["region"] == "changchun"
    late = o["created"].dt.hour >= 15
    assert (o.loc[home & late, "tier"] == "next_day").all()
    assert (o.loc[home & ~late & (o["created"].dt.hour >= 1), "tier"] == "same_day").all()


def test_policies_see_the_live_backlog():
    StateProbe.seen = []
    sim.run(small_config(cutoff={"_target_": "test_policies.StateProbe"}))
    now, backlog, unsorted, capacity = zip(*StateProbe.seen)
    assert list(now) == sorted(now)
    assert max(backlog) > 0 and all(u <= b for u, b in zip(unsorted, backlog))
    assert max(capacity) > 0


def test_dynamic_closes_same_day_under_load():
    heavy = {"demand.orders_per_day": 9000}
    fixed = sim.run(small_config(cutoff={"name": "fixed", "time": "14:00"}, **heavy)).kpis
    dynamic = sim.run(small_config(cutoff={"name": "dynamic", "latest": "14:00"}, **heavy)).kpis
    assert dynamic["same_day_coverage"] < fixed["same_day_coverage"]
    assert dynamic["same_day_hit_rate"] > fixed["same_day_hit_rate"]


def test_dynamic_offers_until_latest_when_idle():
    light = {"demand.orders_per_day": 500}
    fixed = sim.run(small_config(cutoff={"name": "fixed", "time": "14:00"}, **light)).kpis
    dynamic = sim.run(small_config(cutoff={"name": "dynamic", "latest": "14:00"}, **light)).kpis
    assert dynamic["same_day_coverage"] == pytest.approx(fixed["same_day_coverage"])
