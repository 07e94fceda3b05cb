"""sim.clock: daily timetables, actions at set times on a SimPy clock, index batches grouped by key, shift hours,
and the shift arithmetic over many servers, against a minute-by-minute reference."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.clock import (
    ALWAYS,
    MIN_PER_DAY,
    ShiftHours,
    assign_shifts,
    at_times,
    call_at,
    daily_times,
    group_by,
    on_duty_mask,
    on_duty_minutes,
    shift_end_after,
)
from sim.config.shifts import Shift
from sim.queueing import ServerPool
from sim.schema import TimeOfDay

DAY = int(MIN_PER_DAY)


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self, initial_time: float = 0.0) -> None:
        super().__init__(initial_time)
        self.steps = 0

    def step(self) -> None:
        super().step()  # raises EmptySchedule when there is nothing left: not counted
        self.steps += 1


# --- timetables ---------------------------------------------------------------------------------------


def test_daily_times_repeat_a_sorted_timetable_every_day():
    assert daily_times([600.0, 300.0], 2).tolist() == [300.0, 600.0, DAY + 300.0, DAY + 600.0]
    assert daily_times([TimeOfDay.parse("07:00")], 3).tolist() == [420.0, DAY + 420.0, 2 * DAY + 420.0]


def test_daily_times_of_nothing_is_empty():
    assert daily_times([], 5).size == 0
    assert daily_times([600.0], 0).size == 0


def test_at_times_acts_once_at_each_time_in_order():
    env = simpy.Environment()
    calls = []
    at_times(env, [30.0, 45.0, 100.0], lambda t: calls.append((t, env.now)))
    env.run(until=1000)
    assert calls == [(30.0, 30.0), (45.0, 45.0), (100.0, 100.0)]


def test_at_times_runs_times_not_after_now_at_once():
    env = simpy.Environment()
    env.run(until=50)
    calls = []
    at_times(env, [10.0, 50.0, 60.0], lambda t: calls.append((t, env.now)))
    env.run(until=55)
    assert calls == [(10.0, 50.0), (50.0, 50.0)], "past and present times act now, each once"
    env.run(until=500)
    assert calls[2:] == [(60.0, 60.0)]


def test_at_times_with_a_daily_timetable():
    env = simpy.Environment()
    seen = []
    at_times(env, daily_times([540.0, 1020.0], 3), lambda t: seen.append(env.now))
    env.run()
    assert seen == [540.0, 1020.0, DAY + 540.0, DAY + 1020.0, 2 * DAY + 540.0, 2 * DAY + 1020.0]


# --- batches grouped by key ---------------------------------------------------------------------------


def test_group_by_keys_ascending_indices_in_their_order():
    keys = np.array([3, 1, 3, 2, 1])
    idx = np.array([10, 11, 12, 13, 14])
    assert [(k, b.tolist()) for k, b in group_by(keys, idx)] == [(1, [11, 14]), (2, [13]), (3, [10, 12])]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(-1000, 1000)), max_size=40))
def test_group_by_matches_a_dictionary(pairs):
    keys = np.array([k for k, _ in pairs], dtype=float)
    idx = np.array([i for _, i in pairs], dtype=np.int64)
    expected: dict[float, list[int]] = {}
    for k, i in pairs:
        expected.setdefault(float(k), []).append(i)
    got = [(k, b.tolist()) for k, b in group_by(keys, idx)]
    assert got == sorted(expected.items())


def test_call_at_one_event_per_distinct_time_batches_in_order():
    env = CountingEnvironment(initial_time=10.0)
    got = []
    times = np.array([30.0, 10.0, 20.0, 10.0, 30.0, 10.0])
    idx = np.array([5, 6, 7, 8, 9, 10])
    call_at(env, times, idx, lambda batch: got.append((env.now, batch.tolist())))
    env.run()
    assert env.steps == 3, "one SimPy event per distinct time"
    assert got == [(10.0, [6, 8, 10]), (20.0, [7]), (30.0, [5, 9])]


# --- shift hours --------------------------------------------------------------------------------------


def test_a_day_shift():
    shift = ShiftHours(480.0, 1020.0)  # 08:00-17:00
    assert not shift.always
    assert [shift.on_duty(t) for t in (479.0, 480.0, 1019.0, 1020.0, DAY + 500.0)] == [False, True, True, False, True]
    assert shift.next_on_duty(100.0) == 480.0
    assert shift.next_on_duty(600.0) == 600.0
    assert shift.next_on_duty(1020.0) == DAY + 480.0
    assert shift.next_on_duty(DAY + 1300.0) == 2 * DAY + 480.0


def test_an_overnight_shift():
    night = ShiftHours(1320.0, 360.0)  # 22:00-06:00
    assert night.on_duty(1400.0) and night.on_duty(DAY + 100.0) and night.on_duty(0.0)
    assert not night.on_duty(360.0) and not night.on_duty(700.0) and not night.on_duty(1319.0)
    assert night.next_on_duty(700.0) == 1320.0
    assert night.next_on_duty(DAY + 400.0) == DAY + 1320.0
    assert night.next_on_duty(DAY + 200.0) == DAY + 200.0


@pytest.mark.parametrize("shift", [ALWAYS, ShiftHours(0.0, MIN_PER_DAY), ShiftHours(300.0, 300.0 + MIN_PER_DAY)])
def test_always_on_duty(shift):
    assert shift.always
    for t in (0.0, 359.5, 1439.9, 5 * DAY + 17.0):
        assert shift.on_duty(t) and shift.next_on_duty(t) == t


def shifts_of(*spec: tuple[str, str, float]) -> list[Shift]:
    return [Shift(TimeOfDay.parse(a), TimeOfDay.parse(b), share) for a, b, share in spec]


def test_assign_shifts_by_largest_remainder():
    early, late = ShiftHours(420.0, 960.0), ShiftHours(690.0, 1230.0)
    hours = assign_shifts(shifts_of(("07:00", "16:00", 0.65), ("11:30", "20:30", 0.35)), 8)
    assert hours == [early] * 5 + [late] * 3  # 5.2 and 2.8: the larger remainder gets the spare server
    three = shifts_of(("06:00", "14:00", 0.42), ("14:00", "22:00", 0.42), ("22:00", "06:00", 0.16))
    counts = [h.start for h in assign_shifts(three, 10)]
    assert [counts.count(s) for s in (360.0, 840.0, 1320.0)] == [4, 4, 2]


def test_assign_shifts_without_shifts_or_round_the_clock():
    assert assign_shifts([], 4) == [ALWAYS] * 4
    for whole_day in (shifts_of(("00:00", "24:00", 1.0)), shifts_of(("08:00", "08:00", 1.0))):
        hours = assign_shifts(whole_day, 3)
        assert len(hours) == 3 and all(h.always for h in hours)
    assert assign_shifts(shifts_of(("18:00", "24:00", 1.0)), 1) == [ShiftHours(1080.0, MIN_PER_DAY)]
    assert assign_shifts(shifts_of(("22:00", "06:00", 1.0)), 2) == [ShiftHours(1320.0, 360.0)] * 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 100), min_size=1, max_size=5), st.integers(0, 200))
def test_assign_shifts_keeps_the_headcount(weights, headcount):
    shares = np.array(weights, dtype=float) / sum(weights)
    shifts = [Shift(TimeOfDay(60.0 * i), TimeOfDay(60.0 * i + 30.0), float(s)) for i, s in enumerate(shares)]
    hours = assign_shifts(shifts, headcount)
    assert len(hours) == headcount
    counts = np.array([sum(h.start == 60.0 * i for h in hours) for i in range(len(shifts))])
    exact = shares * headcount
    assert (np.abs(counts - exact) < 1).all(), "each shift gets its share rounded down or up"
    up = counts > np.floor(exact)
    remainder = exact - np.floor(exact)
    if up.any() and (~up).any():
        assert remainder[up].min() >= remainder[~up].max() - 1e-9, "the largest remainders are rounded up"


# --- shift arithmetic over many servers, against a minute-by-minute reference ---------------------------------


def day_pattern(start: int, end: int) -> np.ndarray:
    """Each minute of the day the shift [start, end) covers, found by walking from its start to its end."""
    if end - start >= DAY or (start == 0 and end >= DAY):
        return np.ones(DAY, dtype=bool)
    on = np.zeros(DAY, dtype=bool)
    minute = start
    while minute % DAY != end % DAY:
        on[minute % DAY] = True
        minute += 1
    return on


# a shift as the ShiftLog holds it: minutes after midnight, an end before the start runs past midnight,
# (0, 1440) is always on duty; a shift never starts and ends at the same minute (assign_shifts makes that ALWAYS)
one_shift = st.one_of(
    st.just((0, DAY)),
    st.tuples(st.integers(0, DAY - 1), st.integers(0, DAY)).filter(lambda s: s[0] != s[1] % DAY),
)
shift_arrays = st.lists(one_shift, min_size=1, max_size=6).map(lambda s: (np.array(s, dtype=float).T, s))


@settings(max_examples=100, deadline=None)
@given(shift_arrays, st.integers(0, 3 * DAY), st.integers(0, 2 * DAY))
def test_on_duty_minutes_counts_minute_by_minute(shifts, a, span):
    (start, end), pairs = shifts
    minutes = np.arange(a, a + span)
    expected = sum(int(day_pattern(s, e)[minutes % DAY].sum()) for s, e in pairs)
    assert on_duty_minutes(start, end, float(a), float(a + span)) == pytest.approx(expected)


def test_on_duty_minutes_of_nothing():
    assert on_duty_minutes(np.array([]), np.array([]), 0.0, 100.0) == 0.0
    assert on_duty_minutes(np.array([480.0]), np.array([1020.0]), 600.0, 600.0) == 0.0
    assert on_duty_minutes(np.array([480.0]), np.array([1020.0]), 700.0, 600.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(shift_arrays, st.lists(st.integers(0, 4 * DAY), min_size=1, max_size=30), st.sampled_from([0.0, 0.5]))
def test_on_duty_mask_minute_by_minute(shifts, at, fraction):
    (start, end), pairs = shifts
    at = np.array(at, dtype=float) + fraction
    expected = np.array([day_pattern(s, e)[np.floor(at).astype(int) % DAY] for s, e in pairs])
    np.testing.assert_array_equal(on_duty_mask(start, end, at), expected)
    for (s, e), row in zip(pairs, expected):  # the one-server form agrees
        assert [ShiftHours(float(s), float(e)).on_duty(t) for t in at] == row.tolist()


@settings(max_examples=100, deadline=None)
@given(shift_arrays, st.integers(0, 4 * DAY), st.sampled_from([0.0, 0.25]))
def test_shift_end_after_walks_to_the_end_of_the_shift(shifts, t, fraction):
    (start, end), pairs = shifts
    t = t + fraction
    got = shift_end_after(start, end, np.full(len(pairs), t))
    for (s, e), value in zip(pairs, got):
        on = day_pattern(s, e)
        if on.all():
            assert value == np.inf
            continue
        if not on[int(t) % DAY]:
            continue  # only defined for work started on duty
        minute = int(t) + 1
        while on[minute % DAY]:
            minute += 1
        assert value == minute, (s, e, t)


@settings(max_examples=100, deadline=None)
@given(one_shift, st.integers(0, 4 * DAY), st.sampled_from([0.0, 0.5]))
def test_next_on_duty_walks_to_the_next_duty_minute(shift, t, fraction):
    s, e = shift
    hours, on = ShiftHours(float(s), float(e)), day_pattern(s, e)
    t = t + fraction
    if on[int(t) % DAY]:
        assert hours.next_on_duty(t) == t
        return
    minute = int(t) + 1
    while not on[minute % DAY]:
        minute += 1
    assert hours.next_on_duty(t) == minute


def test_a_shift_end_that_rounds_onto_now_is_off_duty():
    """Found by the utilisation property test (sorter at 300/h, 4.41 h of overtime): 3 days + the shift's end is
    4584.651297846331 after rounding, and its time of day lies one ulp before `end`; on duty there would be a
    shift that ends when it starts (the sorter's loop then never advanced)."""
    hours = ShiftHours(300.0, 264.6512978463311)
    t = 3 * MIN_PER_DAY + 264.6512978463311
    assert hours.end_after(t) <= t
    assert not hours.on_duty(t)
    assert hours.next_on_duty(t) == 3 * MIN_PER_DAY + 300.0
    pool = ServerPool([hours], overtime_max_min=0.0)
    starts, _ = pool.serve(np.full(3, t - 1.0), np.full(3, 0.2))
    assert np.all(starts >= t - 1.0) and np.all(np.isfinite(starts))
