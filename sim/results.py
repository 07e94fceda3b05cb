"""Reading results back: summaries, orders, and confidence intervals over replications."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from scipy import stats


def load_summary(path: str | Path) -> pd.DataFrame:
    """The summary of a run folder, a sweep folder, or a summary.parquet file."""
    path = Path(path)
    if path.is_dir():
        path = path / "summary.parquet"
    return pd.read_parquet(path)


def load_orders(path: str | Path, filters=None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Orders of a run or of a sweep (the Hive-partitioned `orders/run=<n>/` dataset), with
    `filters` (pyarrow expression or DNF list) pushed down to the Parquet reader."""
    path = Path(path)
    if path.is_dir() and (path / "orders").is_dir():
        dataset = ds.dataset(path / "orders", format="parquet", partitioning="hive")
    else:
        dataset = ds.dataset(path / "orders.parquet" if path.is_dir() else path, format="parquet")
    if isinstance(filters, list):
        from pyarrow.parquet import filters_to_expression

        filters = filters_to_expression(filters)
    return dataset.to_table(filter=filters, columns=list(columns) if columns else None).to_pandas()


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, standard deviation, low, high) of a Student t interval for the mean of replications."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def ci(
    summary: pd.DataFrame, by: Sequence[str] | str | None = None, metric: str = "same_day_hit_rate", confidence: float = 0.95
) -> pd.DataFrame:
    """Mean, standard deviation and a t confidence interval of `metric` over replications, per group.

    Rows of `summary` that share the values of `by` (e.g. a cutoff and a capacity) and differ
    only in their seed are replications of one scenario.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    groups = summary.groupby(by, dropna=False, sort=True) if by else [((), summary)]
    rows = []
    for key, group in groups:
        mean, sd, low, high = t_interval(group[metric].to_numpy(dtype=float), confidence)
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, key)),
                "metric": metric,
                "n": int(group[metric].notna().sum()),
                "mean": mean,
                "std": sd,
                "ci_low": low,
                "ci_high": high,
                "confidence": confidence,
            }
        )
    return pd.DataFrame(rows)
