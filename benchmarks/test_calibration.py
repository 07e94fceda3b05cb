"""Calibration: the ceiling of any SimPy model on the machine at hand, and the yardstick for normalising."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from .conftest import record

N_TIMEOUTS = 200_000
N_CUSTOMERS = 20_000


def bare_simpy_loop(n: int = N_TIMEOUTS) -> int:
    """One process yielding n timeouts."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(proc())
    env.run()
    return n


def simpy_mmc_loop(n: int = N_CUSTOMERS, servers: int = 4, rho: float = 0.8, seed: int = 1) -> int:
    """An M/M/c queue as a process per customer on a `simpy.Resource`."""
    rng = np.random.default_rng(seed)
    gaps, service = rng.exponential(1 / (servers * rho), n).tolist(), rng.exponential(1.0, n).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)

    def customer(s):
        with desk.request() as req:
            yield req
            yield env.timeout(s)

    def source():
        for gap, s in zip(gaps, service):
            yield env.timeout(gap)
            env.process(customer(s))

    env.process(source())
    env.run()
    return n


@pytest.mark.quick
def test_bare_simpy_loop(benchmark):
    benchmark.pedantic(bare_simpy_loop, rounds=7, iterations=1, warmup_rounds=1)
    record(benchmark, "calibration", N_TIMEOUTS, N_TIMEOUTS)


def test_simpy_mmc_resource(benchmark):
    benchmark.pedantic(simpy_mmc_loop, rounds=5, iterations=1, warmup_rounds=1)
    record(benchmark, "calibration_mmc", N_CUSTOMERS, 6 * N_CUSTOMERS)
