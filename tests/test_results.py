"""sim.results: loaders and confidence intervals; the README's "Analysing results" examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from sim.results import ci, load_summary, t_interval

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_examples() -> list[str]:
    text = README.read_text()
    section = text.split("## Analysing results", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "+experiment=smoke", f"results.uri={results}"],
        cwd=results,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next((results / "smoke").iterdir())


def test_readme_has_pandas_duckdb_and_polars_examples():
    code = "\n".join(readme_examples())
    assert "pd.read_parquet" in code and "duckdb.sql" in code and "pl.scan_parquet" in code


@pytest.mark.parametrize("index", range(len(readme_examples())))
def test_readme_example_runs(sweep_dir, index):
    namespace = {"SWEEP": str(sweep_dir)}
    exec(compile(readme_examples()[index], f"README example {index}", "exec"), namespace)
    frames = [v for k, v in namespace.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")]
    assert frames or any(hasattr(v, "height") for v in namespace.values())


def test_readme_examples_compute_the_right_numbers(sweep_dir):
    namespace = {"SWEEP": str(sweep_dir)}
    for code in readme_examples():
        exec(code, namespace)
    hit_by_run = namespace["hit_by_run"]
    orders = pd.read_parquet(f"{sweep_dir}/orders")
    orders["run"] = orders["run"].astype(int)
    same_day = orders[orders["tier"] == "same_day"]
    expected = same_day.groupby("run")["hit"].apply(lambda h: h.fillna(False).astype(bool).mean())
    assert hit_by_run["hit_rate"].tolist() == pytest.approx(expected.tolist())
    assert namespace["lead"].height == 8
    table = namespace["table"]
    assert len(table) == 4 and (table["n"] == 2).all()


def test_load_summary_accepts_a_file_or_a_folder(sweep_dir):
    assert load_summary(sweep_dir).equals(load_summary(sweep_dir / "summary.parquet"))


def test_ci_over_replications():
    summary = pd.DataFrame(
        {
            "cutoff.time": ["11:00"] * 4 + ["14:00"] * 4,
            "seed": list(range(8)),
            "same_day_hit_rate": [0.9, 0.92, 0.94, 0.96, 0.8, 0.8, 0.8, 0.8],
        }
    )
    table = ci(summary, by=["cutoff.time"], metric="same_day_hit_rate")
    first = table.iloc[0]
    assert first["n"] == 4 and first["mean"] == pytest.approx(0.93)
    # the textbook interval: mean ± t(0.975, 3) · s / √4, s = 0.0258199 (scipy's t interval, independently)
    low, high = stats.t.interval(0.95, 3, loc=0.93, scale=0.025819888974716 / 2)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((low, high))
    assert first["ci_high"] - first["ci_low"] == pytest.approx(2 * 3.182446 * 0.025819889 / 2, rel=1e-6)
    assert t_interval([0.9, 0.92, 0.94, 0.96])[2:] == pytest.approx((low, high))
    narrow = t_interval([0.9, 0.92, 0.94, 0.96], confidence=0.8)
    assert low < narrow[2] < 0.93 < narrow[3] < high, "a lower confidence, a narrower interval"
    assert first["ci_low"] < 0.93 < first["ci_high"]
    assert table.iloc[1]["std"] == 0.0


def test_ci_without_groups_and_with_one_replication():
    whole = ci(pd.DataFrame({"m": [1.0, 2.0, 3.0]}), metric="m")
    assert whole.loc[0, "mean"] == 2.0 and whole.loc[0, "n"] == 3
    single = t_interval([5.0])
    assert single[0] == 5.0 and pd.isna(single[2])
