"""The analyst report, tested as a user would: built from a real sweep, its figures' data checked
against the summary, and rendered by headless Chromium (skipped where Chromium is absent)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

import sim
from sim.report import (
    profit_differences,
    recovery_days,
    render_page,
    report_template,
    scenario_table,
    sweep_dimensions,
    top_policies,
)
from sim.results import ci


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "+experiment=smoke", "services.parcel_centre.enabled=true", f"results.uri={results}"],
        cwd=results,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next((results / "smoke").iterdir())


@pytest.fixture(scope="module")
def report(sweep_dir):
    script = Path(sys.executable).parent / "sim-report"
    proc = subprocess.run([str(script), str(sweep_dir), "--target", "0.9"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return sweep_dir / "report" / "report.html"


def test_report_files(report):
    out = report.parent
    for name in ("hit_rate_vs_cutoff", "coverage_hit_frontier", "cost_vs_hit_rate", "profit_vs_cutoff", "days_by_scenario"):
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.svg").exists()
    for name in ("backlog_and_warnings", "days"):
        assert list(out.glob(f"run_*_{name}.png")) and list(out.glob(f"run_*_{name}.svg"))
    assert "Recovery from the busiest day" in report.read_text() and (out / "recovery.csv").exists()


def test_report_is_self_contained_and_says_where_it_came_from(report, sweep_dir):
    text = report.read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert sources and all(s.startswith("data:") for s in sources), "figures are embedded, nothing is fetched"
    assert "http://" not in text and "https://" not in text
    assert sweep_dir.name in text and "smoke" in text and f"sim {sim.__version__}" in text
    assert "Policies meeting the target" in text


def test_figure_data_match_the_summary(sweep_dir):
    summary = pd.read_parquet(sweep_dir / "summary.parquet")
    assert sweep_dimensions(summary) == ["cutoff.time", "capacity.couriers_per_station"]
    table = scenario_table(summary, target=0.9)
    expected = ci(summary, by=["cutoff.time", "capacity.couriers_per_station"], metric="same_day_hit_rate")
    merged = table.merge(expected, on=["cutoff.time", "capacity.couriers_per_station"])
    assert len(merged) == 4
    np.testing.assert_allclose(merged["same_day_hit_rate_mean"], merged["mean"])
    np.testing.assert_allclose(merged["same_day_hit_rate_ci_low"], merged["ci_low"])
    means = summary.groupby("cutoff.time")["same_day_coverage"].mean()
    for _, row in table.iterrows():
        direct = summary[
            (summary["cutoff.time"] == row["cutoff.time"])
            & (summary["capacity.couriers_per_station"] == row["capacity.couriers_per_station"])
        ]
        assert row["same_day_coverage_mean"] == pytest.approx(direct["same_day_coverage"].mean())
    assert means.is_monotonic_increasing  # later cutoff, more coverage
    top = top_policies(table)
    assert (top["same_day_hit_rate_mean"] >= 0.9).all()
    assert top["same_day_coverage_mean"].is_monotonic_decreasing


def test_profit_is_compared_paired_by_seed(sweep_dir):
    """Each scenario against the most profitable of its line on the same seeds: the best is 0 exactly, the others'
    differences are the per-seed differences' mean, and the means are the summary's; shares' intervals stay in [0, 1]."""
    summary = pd.read_parquet(sweep_dir / "summary.parquet")
    table = profit_differences(summary, "cutoff.time", ["capacity.couriers_per_station"])
    assert len(table) == 4 and (table.groupby("label")["best"].sum() == 1).all()
    assert (table.loc[table["best"], "vs_best"] == 0).all()
    for _, row in table[~table["best"]].iterrows():
        line = summary[summary["capacity.couriers_per_station"].astype(str) == row["label"].split("=")[-1]]
        best = table[(table["label"] == row["label"]) & table["best"]]["cutoff.time"].iloc[0]
        mine = line[line["cutoff.time"] == row["cutoff.time"]].set_index("seed")["profit_per_day"]
        other = line[line["cutoff.time"] == best].set_index("seed")["profit_per_day"]
        assert row["vs_best"] == pytest.approx((mine - other).mean())
        assert row["profit_per_day"] == pytest.approx(mine.mean())
    scenarios = scenario_table(summary, target=0.9)
    assert scenarios["same_day_hit_rate_ci_high"].max() <= 1 and scenarios["same_day_hit_rate_ci_low"].min() >= 0


def test_recovery_counts_the_days_back_to_the_level_before_the_peak():
    days = pd.DataFrame(
        {
            "day": pd.date_range("2026-11-08", periods=8).date,
            "measured": [False] + [True] * 7,
            "orders": [100, 100, 100, 300, 120, 100, 100, 100],
            "backlog": [10, 10, 10, 200, 120, 40, 10, 10],
            "same_day_hit_rate": [0.5, 0.96, 0.97, 0.40, 0.20, 0.90, 0.955, 0.97],
        }
    )
    r = recovery_days(days)
    assert r["peak_orders"] == 300 and r["hit_rate_before"] == pytest.approx(0.965) and r["hit_rate_on_peak"] == 0.40
    assert r["days_to_recover"] == 3 and r["peak_backlog"] == 200 and r["recovery"] == "3 days"
    never = recovery_days(days.assign(same_day_hit_rate=[0.5, 0.96, 0.97, 0.4, 0.2, 0.3, 0.3, 0.3]))
    assert never["days_to_recover"] is None and never["recovery"] == "not within the run"
    last = recovery_days(
        days.assign(orders=[100, 100, 100, 100, 100, 100, 100, 300], same_day_hit_rate=[0.5, 0.96, 0.97, 0.96, 0.97, 0.96, 0.97, 0.4])
    )
    assert last["days_to_recover"] is None and last["recovery"] == "too few days after the peak"


def test_template_placeholders_are_all_filled():
    """The page template (sim/templates/report.html) is valid, and filling every placeholder leaves no `$` behind;
    render_page refuses a placeholder without a value or a value without a placeholder, so the report built
    above also proves the template has every field write_report fills."""
    template = report_template()
    names = template.get_identifiers()
    assert template.is_valid() and {"experiment", "sweep", "policies_html", "shared_config_html"} <= set(names)
    page = render_page({name: f"[{name}]" for name in names})
    assert "$" not in page and all(f"[{name}]" in page for name in names)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</body></html>")
    with pytest.raises(ValueError, match="no value for"):
        render_page({name: "" for name in names[1:]})
    with pytest.raises(ValueError, match="no placeholder for"):
        render_page({name: "" for name in names} | {"not_in_the_template": ""})


def test_bad_folder_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim.report", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a sweep folder" in proc.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make report-deps installs it)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            "--window-size=1200,1800",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), proc.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.std() > 0.05, "the screenshot is blank"
    assert (pixels < 0.5).mean() > 0.005, "no text or lines drawn"
