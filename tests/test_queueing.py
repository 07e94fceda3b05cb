"""The FCFS c-server recursion against a process-per-order SimPy Resource model, and against Erlang C."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from queueing_theory import erlang_c
from scipy import stats

from sim.clock import ShiftHours, on_duty_minutes
from sim.queueing import ServerPool, lindley_starts


def simpy_fcfs_starts(arrivals: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Reference: one SimPy process per customer on a `simpy.Resource` (FCFS)."""
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    starts = np.empty(arrivals.size)

    def source():
        for i in range(arrivals.size):
            yield env.timeout(arrivals[i] - env.now)
            env.process(customer(i))

    def customer(i):
        with desk.request() as req:
            yield req
            starts[i] = env.now
            yield env.timeout(service[i])

    env.process(source())
    env.run()
    return starts


def mmc_sample(rng, n, lam, mu):
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    return arrivals, rng.exponential(1 / mu, n)


@pytest.mark.parametrize("servers", [1, 2, 5, 12])
def test_pool_matches_simpy_resource_exactly(servers):
    rng = np.random.default_rng(servers)
    arrivals, service = mmc_sample(rng, 3000, lam=servers * 0.9, mu=1.0)
    expected = simpy_fcfs_starts(arrivals, service, servers)
    pool = ServerPool([ShiftHours(0.0, 1440.0)] * servers)
    # fed in three batches, as the model does between events
    got = np.concatenate([pool.serve(arrivals[a:b], service[a:b])[0] for a, b in ((0, 1000), (1000, 1700), (1700, 3000))])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_lindley_matches_loop():
    rng = np.random.default_rng(1)
    arrivals, service = mmc_sample(rng, 500, lam=0.95, mu=1.0)
    free, expected = 3.0, []
    for a, s in zip(arrivals, service):
        start = max(a, free)
        expected.append(start)
        free = start + s
    np.testing.assert_allclose(lindley_starts(arrivals, service, 3.0), expected)


def test_shifts_no_service_starts_off_duty():
    rng = np.random.default_rng(7)
    day_shift, late_shift = ShiftHours(480.0, 960.0), ShiftHours(720.0, 1320.0)
    windows = [day_shift] * 3 + [late_shift] * 2
    pool = ServerPool(windows)
    arrivals = np.sort(rng.uniform(0, 3 * 1440, 4000))
    starts, _ = pool.serve(arrivals, rng.exponential(1.5, arrivals.size))
    assert (starts >= arrivals).all()
    tod = starts % 1440
    assert ((tod >= 480) & (tod < 1320)).all(), "a start outside every shift"
    # nothing starts before the first shift of day 0
    assert starts.min() >= 480


def test_shift_change_hands_over_to_next_shift():
    # one early server (08:00-12:00) and one late (12:00-16:00): an order at 11:59 taking 30 min
    # keeps the early server past its shift end; the next order starts on the late server at 12:00.
    pool = ServerPool([ShiftHours(480.0, 720.0), ShiftHours(720.0, 960.0)])
    starts, _ = pool.serve(np.array([719.0, 719.5, 721.0]), np.array([30.0, 10.0, 1.0]))
    np.testing.assert_allclose(starts, [719.0, 720.0, 730.0])


def test_overnight_shift_window():
    night = ShiftHours(1320.0, 360.0)  # 22:00-06:00
    assert night.on_duty(1400.0) and night.on_duty(100.0) and not night.on_duty(700.0)
    assert night.next_on_duty(700.0) == 1320.0
    assert on_duty_minutes([night.start], [night.end], 0.0, 1440.0) == pytest.approx(480.0)


@pytest.mark.statistical
@pytest.mark.parametrize("c,rho", [(1, 0.7), (4, 0.85), (10, 0.9)])
def test_mmc_mean_wait_agrees_with_erlang_c(c, rho):
    mu = 1.0
    lam = rho * c * mu
    reps, n, warm = 20, 20_000, 2_000
    means = []
    for r in range(reps):
        rng = np.random.default_rng(1000 * c + r)
        arrivals, service = mmc_sample(rng, n, lam, mu)
        pool = ServerPool([ShiftHours(0.0, 1440.0)] * c)
        waits = pool.serve(arrivals, service)[0] - arrivals
        means.append(waits[warm:].mean())
    means = np.array(means)
    half = stats.t.ppf(0.975, reps - 1) * means.std(ddof=1) / math.sqrt(reps)
    theory = erlang_c(c, lam / mu) / (c * mu - lam)
    assert abs(means.mean() - theory) <= half, (
        f"M/M/{c} rho={rho}: simulated Wq {means.mean():.4f} ± {half:.4f} (95% CI), Erlang C {theory:.4f}"
    )


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 1439),
    end=st.integers(0, 1439),
    cap=st.sampled_from([0.0, 30.0, 120.0, float("inf")]),
    mean=st.sampled_from([1.0, 20.0, 200.0]),
    n=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
def test_one_server_with_a_shift_matches_the_general_recursion(start, end, cap, mean, n, seed):
    """The vectorised one-server path (a Lindley recursion per shift) gives exactly the general loop's starts."""
    if start == end:
        return
    rng = np.random.default_rng(seed)
    arrivals, service = np.sort(rng.uniform(0, 4 * 1440, n)), rng.exponential(mean, n)
    fast, loop = ServerPool([ShiftHours(start, end)], overtime_max_min=cap), ServerPool([ShiftHours(start, end)], overtime_max_min=cap)
    cut = n // 2
    got = np.concatenate([fast.serve(arrivals[:cut], service[:cut])[0], fast.serve(arrivals[cut:], service[cut:])[0]])
    halves = ((arrivals[:cut], service[:cut]), (arrivals[cut:], service[cut:]))
    want = np.concatenate([loop._serve_with_shifts(a.tolist(), s.tolist())[0] for a, s in halves])
    np.testing.assert_allclose(got, want)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 500), free_at=st.floats(0.0, 100.0))
def test_lindley_starts_never_before_arrival(seed, n, free_at):
    """No start falls before its arrival, not even by a rounding ulp."""
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(0, 3000, n))
    starts = lindley_starts(arrivals, rng.exponential(2.0, n), free_at)
    assert (starts >= arrivals).all() and (starts >= free_at).all()
