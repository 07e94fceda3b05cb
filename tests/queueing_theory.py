"""Textbook formulas the validation compares against: Erlang C for M/M/c, product form for Jackson networks."""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = lambda / mu (< c)."""
    c, a = servers, offered_load
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc(arrival_per_min: float, servers: int, service_mean_min: float) -> dict[str, float]:
    """Steady-state M/M/c: mean wait in queue, probability of waiting, utilisation, mean time in system."""
    mu = 1.0 / service_mean_min
    p_wait = erlang_c(servers, arrival_per_min / mu)
    wq = p_wait / (servers * mu - arrival_per_min)
    return {
        "wait_mean_min": wq,
        "wait_prob": p_wait,
        "utilization": arrival_per_min / (servers * mu),
        "sojourn_mean_min": wq + service_mean_min,
    }


def jackson_series(arrival_per_min: float, servers: list[int], service_means_min: list[float]) -> float:
    """Mean time in system of M/M/c stations in series (product form: the stations' sojourns add up)."""
    return sum(mmc(arrival_per_min, c, m)["sojourn_mean_min"] for c, m in zip(servers, service_means_min))
