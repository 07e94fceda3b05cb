"""Validation against queueing theory (Erlang C, Jackson networks, Little's law) and against Ciw.

Every tolerance is a confidence interval over seeded replications. Each family of checks
(say, the 12 M/M/c checks against Erlang C) holds with 95% confidence jointly: each check
uses the Bonferroni level 1 - 0.05 / checks, so a correct model fails the family by chance at
most 5% of the time instead of almost surely. A failure prints the estimate, the interval
and the value it was compared with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from validation_cases import (
    MMC_CASES,
    MMC_METRICS,
    TANDEM,
    bonferroni,
    joint_interval,
    little_runs,
    littles_law,
    run_ciw,
    run_model,
    warmup_comparison,
)

from sim.kpis import STAGES, stage_intervals

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module", params=MMC_CASES, ids=lambda c: c.name)
def mmc_case(request):
    case = request.param
    return case, run_model(case), run_ciw(case)


@pytest.mark.parametrize("metric", MMC_METRICS)
def test_mmc_agrees_with_erlang_c(mmc_case, metric):
    case, model, _ = mmc_case
    level = bonferroni(len(MMC_CASES) * len(MMC_METRICS))
    mean, _, low, high = model.interval(metric, level)
    theory = case.theory()[metric]
    assert low <= theory <= high, (
        f"{case.name} {metric}: model {mean:.4f}, {level:.2%} CI [{low:.4f}, {high:.4f}], Erlang C {theory:.4f}"
    )


@pytest.mark.parametrize("metric", MMC_METRICS)
def test_mmc_agrees_with_ciw(mmc_case, metric):
    case, model, reference = mmc_case
    diff, half = joint_interval(model.values[metric], reference.values[metric], bonferroni(len(MMC_CASES) * len(MMC_METRICS)))
    assert abs(diff) <= half, (
        f"{case.name} {metric}: model - Ciw = {diff:.4f}, joint half-width {half:.4f} "
        f"(model {np.mean(model.values[metric]):.4f}, Ciw {np.mean(reference.values[metric]):.4f})"
    )


@pytest.fixture(scope="module")
def tandem():
    return run_model(TANDEM), run_ciw(TANDEM)


def test_tandem_agrees_with_the_product_form(tandem):
    model, _ = tandem
    mean, _, low, high = model.interval("system_sojourn_mean_min", bonferroni(2))
    theory = TANDEM.theory()["system_sojourn_mean_min"]
    assert low <= theory <= high, f"tandem sojourn: model {mean:.3f}, 95% CI [{low:.3f}, {high:.3f}], Jackson {theory:.3f}"


def test_tandem_agrees_with_ciw(tandem):
    model, reference = tandem
    diff, half = joint_interval(model.values["system_sojourn_mean_min"], reference.values["system_sojourn_mean_min"], bonferroni(2))
    assert abs(diff) <= half, f"tandem sojourn: model - Ciw = {diff:.3f}, joint 95% half-width {half:.3f}"


def test_warm_up_removes_the_initialisation_bias():
    case = MMC_CASES[2]
    theory = case.theory()["wait_mean_min"]
    (cold, _, c_low, c_high), (warm, _, w_low, w_high), (diff, _, d_low, d_high) = warmup_comparison(case)
    assert w_low <= theory <= w_high, f"after the warm-up: {warm:.3f} [{w_low:.3f}, {w_high:.3f}] vs Erlang C {theory:.3f}"
    assert c_high < theory, f"from an empty start: {cold:.3f} [{c_low:.3f}, {c_high:.3f}] should lie below {theory:.3f}"
    assert d_high < 0, f"paired difference {diff:.3f} [{d_low:.3f}, {d_high:.3f}] should lie below zero"


@pytest.fixture(scope="module")
def default_replications():
    # Little's law holds over a window that starts and ends in the same periodic state: the
    # station backlog carried over midnight settles after the first day (docs/validation.md).
    return little_runs()


@pytest.mark.parametrize("stage", list(STAGES))
def test_littles_law_on_the_default_city(default_replications, stage):
    wip, flow = littles_law(default_replications, stage)
    diff, half = joint_interval(wip, flow, bonferroni(len(STAGES)))
    assert abs(diff) <= half, (
        f"{stage}: time-average WIP {np.mean(wip):.1f} vs throughput x time in stage "
        f"{np.mean(flow):.1f}; difference {diff:.1f}, joint half-width {half:.1f}"
    )


@pytest.mark.parametrize("stage", list(STAGES))
def test_sampled_wip_matches_the_time_average(default_replications, stage):
    """utilization.parquet's samples average to the exact time-average WIP, within the sampling error:
    each order's entry and exit move by at most half a sample interval, so the average can be off
    by at most throughput x interval."""
    for r in default_replications:
        u = r.utilization
        entry = stage_intervals(r.output)[stage][0]
        t0, t1 = r.config.measure_start_min, r.output.horizon_min
        start = pd.Timestamp(r.config.start_date)
        rows = (u["stage"] == stage) & (u["time"] >= start + pd.Timedelta(minutes=t0)) & (u["time"] < start + pd.Timedelta(minutes=t1))
        throughput = np.count_nonzero((entry >= t0) & (entry < t1)) / (t1 - t0)
        bound = throughput * r.config.output.sample_min
        assert abs(u.loc[rows, "wip"].mean() - r.kpis[f"{stage}_wip_mean"]) <= bound
