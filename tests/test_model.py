"""The whole chain: every order ends in one state, timestamps in order, the wiring table, determinism, common random numbers."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import small_config
from order_states import DELIVERED, INCONSISTENT, RETURNED, end_states, monotone_violations

import sim
from sim.config import load_config
from sim.config.validation import TEXTBOOK_CASES
from sim.model import CITY_CHAIN, WIRING, Model

CHAIN = ["created", "picked", "arrived_sort", "sorted", "departed", "arrived_station", "out_for_delivery", "delivered"]

# Runs that leave orders everywhere in the chain: no drain, failed attempts, refusals, held parcels.
CUT_SHORT = small_config(
    drain_hours=0,
    **{
        "lastmile.failed_attempt_prob": 0.2,
        "lastmile.refusal_prob": 0.05,
        "services.doorstep.share": 0.3,
        "services.on_demand.slot_share": 0.3,
    },
)
STRESSED = {
    "small city": small_config(),
    "cut short": CUT_SHORT,
    "slow pickers": small_config(**{"warehouse.pick_mean_min": 20.0, "capacity.pickers": 6}),
    "full trucks": small_config(**{"capacity.truck_capacity": 30}),
    "continuous sorting": small_config(**{"sorting.waves": [], "sorting.lines": 3, "sorting.service_cv": 1.0}),
}


@pytest.fixture(scope="module", params=list(STRESSED), ids=list(STRESSED))
def stressed_run(request):
    return sim.run(STRESSED[request.param])


def test_every_order_ends_in_exactly_one_state(stressed_run):
    """Delivered, returned, or still in the chain at a stage its timestamps name; never two of these."""
    states = end_states(stressed_run.output.orders)
    counts = Counter(states.tolist())
    assert INCONSISTENT not in counts, f"{counts[INCONSISTENT]} orders with timestamps that fit no state"
    in_chain = sum(n for state, n in counts.items() if state not in (DELIVERED, RETURNED))
    assert counts[DELIVERED] + counts[RETURNED] + in_chain == stressed_run.kpis["orders_total"] == len(stressed_run.orders)
    assert in_chain == stressed_run.kpis["in_flight_at_end"]
    assert stressed_run.orders["order_id"].is_unique


def test_a_run_cut_short_leaves_orders_all_along_the_chain():
    """The state check above has teeth: stopped at the horizon, orders are caught at many stages."""
    r = sim.run(CUT_SHORT)
    counts = Counter(end_states(r.output.orders).tolist())
    assert counts[DELIVERED] > 0 and counts[RETURNED] > 0
    caught = {state for state in counts if state not in (DELIVERED, RETURNED, INCONSISTENT)}
    assert len(caught) >= 6, counts
    assert INCONSISTENT not in counts


def test_timestamps_are_monotone_along_the_chain(stressed_run):
    assert monotone_violations(stressed_run.output.orders) == {}


def test_timestamps_are_monotone_in_the_default_city(default_run):
    assert monotone_violations(default_run.output.orders) == {}


def test_the_state_check_catches_broken_orders(small_run):
    """A delivered order without a sort stamp, or delivered and returned at once, is caught."""
    o = copy.deepcopy(small_run.output.orders)
    delivered = np.flatnonzero(~np.isnan(o.delivered))
    o.sorted[delivered[0]] = np.nan
    o.returned[delivered[1]] = o.delivered[delivered[1]]
    o.picked[delivered[2]] = o.delivered[delivered[2]] + 1.0
    states = end_states(o)
    assert states[delivered[0]] == INCONSISTENT and states[delivered[1]] == INCONSISTENT
    assert ("picked", "delivered") in monotone_violations(o)


def test_the_wiring_is_a_table_of_the_city_and_each_textbook_case():
    assert set(WIRING) == {"city"} | set(TEXTBOOK_CASES)
    assert WIRING["city"] == CITY_CHAIN
    for mode, wiring in WIRING.items():
        assert set(wiring) == set(CITY_CHAIN), mode  # every case wires every handoff of the chain
        for event, handoff in wiring.items():
            assert callable(getattr(Model, "_" + handoff, None)), f"{mode}: {event} -> {handoff} is no handoff of Model"
    model = Model(load_config({"validation": {"mode": "mmc"}}))
    assert model.handoff("picked") == model._delivered_when_picked
    assert model.handoff("placed") == model._to_first_mile


@pytest.fixture(scope="module")
def mmc_run():
    return sim.run({"validation": {"mode": "mmc"}})


def test_mmc_delivers_every_picked_order_at_its_pick_time(mmc_run):
    o = mmc_run.output.orders
    picked = ~np.isnan(o.picked)
    assert picked.sum() > 1000
    np.testing.assert_array_equal(o.delivered[picked], o.picked[picked])
    assert np.isnan(o.delivered[~picked]).all()
    for later in ("sort_start", "sorted", "departed", "arrived_station", "out_for_delivery"):
        assert np.isnan(getattr(o, later)).all(), f"{later}: an mmc order went on past picking"


def test_mmc_orders_never_reach_the_sorting_centre(mmc_run):
    o = mmc_run.output.orders
    assert np.isnan(o.arrived_sort).all()
    assert monotone_violations(o) == {}
    assert not mmc_run.kpis["sort_wip_mean"] > 0


def test_tandem_joins_its_stations_without_transfers():
    r = sim.run({"validation": {"mode": "tandem"}})
    o = r.output.orders
    picked, sorted_ = ~np.isnan(o.picked), ~np.isnan(o.sorted)
    assert picked.sum() > 1000 and sorted_.sum() > 1000
    np.testing.assert_array_equal(o.arrived_sort[picked], o.picked[picked])
    np.testing.assert_array_equal(o.arrived_station[sorted_], o.sorted[sorted_])
    assert r.output.departures.load.sum() == 0, "no parcel rides a truck in the textbook tandem"
    assert monotone_violations(o) == {}
    assert Counter(end_states(o).tolist())[INCONSISTENT] == 0


def test_default_city_is_busy_but_not_broken(default_run):
    k = default_run.kpis
    assert 0.85 <= k["same_day_hit_rate"] <= 0.98
    assert 0.60 <= k["courier_utilization"] <= 0.85
    assert 0.0 < k["same_day_coverage"] < 1.0
    assert k["bottleneck"] in ("pick", "pickup", "sort", "linehaul", "lastmile")


def test_same_seed_gives_identical_parquet(tmp_path):
    cfg = small_config()
    for name in ("a", "b"):
        sim.run(cfg).write(tmp_path / name)
    for table in ("orders.parquet", "summary.parquet"):
        a, b = pq.read_table(tmp_path / "a" / table), pq.read_table(tmp_path / "b" / table)
        if table == "summary.parquet":
            a, b = a.drop(["wall_s"]), b.drop(["wall_s"])
        assert a.to_pandas().equals(b.to_pandas()), table  # pandas: NaN equals NaN


def test_other_seed_gives_other_orders():
    a, b = sim.run(small_config()), sim.run(small_config(seed=43))
    assert not np.array_equal(a.output.orders.created[:100], b.output.orders.created[:100])


@pytest.mark.parametrize(
    "change",
    [
        {"capacity.couriers_per_station": 3},
        {"capacity.pickers": 25},
        {"capacity.sorter_per_hour": 900.0},
        {"cutoff": {"name": "none"}},
    ],
)
def test_capacity_and_policy_leave_demand_unchanged(change):
    """The shoppers drawn are the same (common random numbers); with shoppers answering the promise, who of them buys
    may differ, and without, every one of them is the same order."""
    off = {"demand.response.enabled": False}
    base_run = sim.run(small_config(**off))
    base, other = base_run.orders, sim.run(small_config(**off | change)).orders
    for col in ("created", "zone", "station", "region", "category", "source"):
        assert base[col].equals(other[col]), col
    on, on_base = sim.run(small_config(**change)).output, sim.run(small_config()).output
    shoppers = [np.sort(np.concatenate([r.orders.created, r.lost["created"]])) for r in (on, on_base)]
    assert np.array_equal(*shoppers)


@pytest.mark.slow
def test_the_most_profitable_cutoff_is_interior():
    """With shoppers answering the promise, the default city's profit against the cutoff (09:00 to 18:00, mean of two
    seeds) peaks in between: earlier sells fewer and smaller baskets, later breaks too many promises."""
    hours = range(9, 19)
    profit = [
        np.mean(
            [
                sim.run({"seed": seed, "cutoff": {"name": "fixed", "time": f"{h:02d}:00"}, "output": {"progress": False}}).kpis[
                    "profit_per_day"
                ]
                for seed in (1, 2)
            ]
        )
        for h in hours
    ]
    best = list(hours)[int(np.argmax(profit))]
    assert 9 < best < 18, dict(zip(hours, profit))


def test_events_are_far_fewer_than_orders(default_run):
    assert default_run.output.events / default_run.kpis["orders_total"] < 2


def test_orders_in_flight_at_the_horizon_are_reported():
    r = sim.run(small_config(drain_hours=0))
    assert r.kpis["in_flight_at_end"] > 0
    o = r.orders
    # no stage timestamp lies beyond the end of the clock
    end = np.datetime64("2026-03-02") + np.timedelta64(3, "D")
    for col in CHAIN:
        assert (o[col].dropna() <= end).all()


def test_the_drain_empties_the_chain():
    runs = [sim.run(small_config(drain_hours=h)) for h in (0, 12, 24, 48)]
    in_flight = [r.kpis["in_flight_at_end"] for r in runs]
    assert in_flight[0] > in_flight[1] > in_flight[2] > in_flight[3], in_flight
    o = runs[3].output.orders
    left = np.isnan(o.delivered) & np.isnan(o.returned)
    assert (o.failed_attempts[left] >= 1).all(), "two days after the last order only parcels whose customers were out are left"


def test_zero_demand_runs_and_reports_nothing_missed():
    r = sim.run(small_config(**{"demand.orders_per_day": 0, "capacity.couriers_per_station": 0}))
    assert r.kpis["orders"] == 0 and r.kpis["bottleneck"] == "none"


def test_the_model_never_imports_hydra():
    import subprocess
    import sys

    code = "import sys, sim; sim.run({'demand': {'orders_per_day': 500}}); print('hydra' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
