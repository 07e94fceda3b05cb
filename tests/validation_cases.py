"""The validation cases and their replications, shared by tests/test_validation.py and `make validate`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from ciw_reference import ciw_series
from queueing_theory import jackson_series, mmc
from scipy import stats

import sim
from sim.kpis import stage_intervals
from sim.results import t_interval

REPLICATIONS = 20
MMC_METRICS = ("wait_mean_min", "wait_prob", "utilization")
FAMILY_CONFIDENCE = 0.95


def bonferroni(checks: int, family: float = FAMILY_CONFIDENCE) -> float:
    """Per-check confidence so that a family of `checks` intervals holds jointly with `family` confidence."""
    return 1.0 - (1.0 - family) / checks


@dataclass
class Case:
    name: str
    mode: str
    arrival_per_hour: float
    servers: list[int]
    service_mean_min: list[float]
    horizon_days: int = 10
    warmup_hours: float = 24.0
    replications: int = REPLICATIONS

    def config(self, seed: int, warmup_hours: float | None = None) -> dict:
        single = self.mode == "mmc"
        return {
            "seed": seed,
            "horizon_days": self.horizon_days,
            "drain_hours": 24.0,
            "validation": {
                "mode": self.mode,
                "arrival_per_hour": self.arrival_per_hour,
                "servers": self.servers[0] if single else self.servers,
                "service_mean_min": self.service_mean_min[0] if single else self.service_mean_min,
                "warmup_hours": self.warmup_hours if warmup_hours is None else warmup_hours,
            },
            "output": {"progress": False, "orders": False},
        }

    def theory(self) -> dict[str, float]:
        lam = self.arrival_per_hour / 60.0
        out = mmc(lam, self.servers[0], self.service_mean_min[0])
        out["system_sojourn_mean_min"] = jackson_series(lam, self.servers, self.service_mean_min)
        return out


MMC_CASES = [
    Case("M/M/2, rho 0.50", "mmc", 30.0, [2], [2.0]),
    Case("M/M/3, rho 0.80", "mmc", 36.0, [3], [4.0]),
    Case("M/M/4, rho 0.90 (the preset)", "mmc", 54.0, [4], [4.0]),
    Case("M/M/8, rho 0.95", "mmc", 114.0, [8], [4.0], horizon_days=20, warmup_hours=72.0),
]
TANDEM = Case("pick M/M/4 -> sort M/M/2 -> last mile M/M/3", "tandem", 54.0, [4, 2, 3], [4.0, 1.8, 2.5])


@dataclass
class Replications:
    """Per-metric replication values of one simulator on one case."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, row: dict[str, float]) -> None:
        for k, v in row.items():
            self.values.setdefault(k, []).append(v)

    def interval(self, metric: str, confidence: float = 0.95) -> tuple[float, float, float, float]:
        return t_interval(self.values[metric], confidence)


def run_model(case: Case, warmup_hours: float | None = None) -> Replications:
    reps = Replications()
    for seed in range(1, case.replications + 1):
        k = sim.run(case.config(seed, warmup_hours)).kpis
        reps.add(
            {
                "wait_mean_min": k["pick_wait_mean_min"],
                "wait_prob": k["pick_wait_prob"],
                "utilization": k["pick_utilization"],
                "system_sojourn_mean_min": k["system_sojourn_mean_min"],
            }
        )
    return reps


def run_ciw(case: Case) -> Replications:
    reps = Replications()
    for seed in range(1, case.replications + 1):
        reps.add(
            ciw_series(
                case.arrival_per_hour / 60.0,
                case.servers,
                case.service_mean_min,
                case.horizon_days * 1440.0,
                case.warmup_hours * 60.0,
                seed=10_000 + seed,
            )
        )
    return reps


def joint_interval(a: list[float], b: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Welch interval for the difference of two means: (difference, half-width)."""
    a, b = np.asarray(a), np.asarray(b)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(a.mean() - b.mean()), float(stats.t.ppf(0.5 + confidence / 2, dof) * math.sqrt(va + vb))


def warmup_comparison(case: Case, replications: int = 100, window_hours: float = 6.0):
    """Mean wait of the customers arriving in the first `window_hours` of a run (no warm-up) and in
    the same length of time right after the default warm-up, over paired replications (same runs).
    Returns (without, with, paired difference without - with), each as (mean, sd, low, high)."""
    cold, warm = [], []
    start = case.warmup_hours * 60.0
    width = window_hours * 60.0
    for seed in range(1, replications + 1):
        cfg = case.config(seed)
        cfg["horizon_days"] = int(np.ceil((start + width) / 1440.0)) + 1
        o = sim.run(cfg).output.orders
        wait = o.pick_start - o.created
        cold.append(float(wait[o.created < width].mean()))
        warm.append(float(wait[(o.created >= start) & (o.created < start + width)].mean()))
    return t_interval(cold), t_interval(warm), t_interval(np.subtract(cold, warm))


def little_runs(replications: int = 5) -> list:
    """Default-city runs whose measured window starts and ends in the same periodic state (two warm-up days), with a
    drain long enough for parcels retried on later days (nearby cities redeliver a day later) to finish. Every day
    as planned (no day-to-day swing): the replications' spread is then the queues' own, and the interval tells a
    broken identity from noise (with the swing, whole days differ by 10 % and the interval grows twentyfold)."""
    steady = {"daily_cv": 0.0, "profile_cv": 0.0}
    return [
        sim.run(
            {"seed": s, "horizon_days": 4, "warmup_days": 2, "drain_hours": 96, "demand": steady}
            | {"output": {"progress": False, "sample_min": 5.0}}
        )
        for s in range(1, replications + 1)
    ]


def littles_law(runs: list, stage: str) -> tuple[list[float], list[float]]:
    """Per run: (time-average WIP of the stage, throughput x mean time in the stage) over the measured window."""
    wip, flow = [], []
    for r in runs:
        entry, _, exit_ = stage_intervals(r.output)[stage]
        t0, t1 = r.config.measure_start_min, r.output.horizon_min
        entered = (entry >= t0) & (entry < t1)
        sojourn = np.where(np.isnan(exit_), r.output.end_min, exit_)[entered] - entry[entered]
        wip.append(r.kpis[f"{stage}_wip_mean"])
        flow.append(np.count_nonzero(entered) / (t1 - t0) * sojourn.mean())
    return wip, flow
