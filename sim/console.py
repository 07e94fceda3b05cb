"""Human-readable output of a run: the KPI table printed at the end and the progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .clock import MIN_PER_DAY

_ROWS = (
    ("orders", "orders (measured days)", "{:,.0f}"),
    ("lost_orders", "shoppers lost at checkout", "{:,.0f}"),
    ("same_day_coverage", "same-day coverage", "pct"),
    ("same_day_hit_rate", "same-day hit rate", "pct"),
    ("next_day_hit_rate", "next-day hit rate", "pct"),
    ("promise_kept_rate", "promise kept (all tiers)", "pct"),
    ("lead_time_p50_min", "lead time p50 / p90 / p99", "lead"),
    ("lateness_p90_min", "lateness p90 of misses", "h"),
    ("picker_utilization", "utilisation: pickers", "pct"),
    ("sorter_utilization", "utilisation: sorter", "pct"),
    ("truck_utilization", "utilisation: trucks", "pct"),
    ("courier_utilization", "utilisation: couriers", "pct"),
    ("overtime_hours", "overtime (hours)", "{:,.0f}"),
    ("cost_per_order", "cost per order (CNY)", "{:.2f}"),
    ("cost_per_delivered_order", "cost per delivered order (CNY)", "{:.2f}"),
    ("return_rate", "customer returns", "pct"),
    ("revenue", "revenue (CNY, measured days)", "{:,.0f}"),
    ("profit_per_day", "profit per day (CNY)", "{:,.0f}"),
    ("bottleneck", "bottleneck (resource queue)", "{}"),
)


def _fmt(kind: str, k: dict[str, Any], key: str) -> str:
    value = k[key]
    if isinstance(value, float) and value != value:
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "h":
        return f"{value / 60:.1f} h"
    if kind == "lead":
        return " / ".join(f"{k[f'lead_time_p{q}_min'] / 60:.1f}" for q in (50, 90, 99)) + " h"
    return kind.format(value)


def kpi_table(kpis: dict[str, Any], cfg: Any, wall_s: float, events: int) -> str:
    """The short table printed after a run."""
    policy = cfg.cutoff.get("_target_") or cfg.cutoff.get("name", "custom")
    params = ", ".join(f"{k}={v}" for k, v in cfg.cutoff.items() if k not in ("name", "_target_"))
    measured = cfg.horizon_days - cfg.warmup_days
    lines = [
        f"{cfg.city.name}: {cfg.demand.orders_per_day:,.0f} orders/day, cutoff {policy}"
        + (f" ({params})" if params else "")
        + f", seed {cfg.seed}",
        f"One replication: {measured} measured day(s) after {cfg.warmup_days} warm-up day(s); "
        "run several seeds for confidence intervals.",
    ]
    width = max(len(label) for _, label, _ in _ROWS)
    lines += [f"  {label:<{width}}  {_fmt(kind, kpis, key)}" for key, label, kind in _ROWS]
    lines.append(
        f"  {'simulated in':<{width}}  {wall_s:.2f} s, {events:,} SimPy events, "
        f"{kpis['orders_total'] / max(wall_s, 1e-9):,.0f} orders/s"
    )
    return "\n".join(lines)


def progress_bar(total_min: float, enabled: bool = True) -> tuple[Callable[[float], None] | None, Callable[[], None]]:
    """A tqdm bar over simulated days that appears only on a terminal and only after 2 s."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(
        total=round(total_min / MIN_PER_DAY, 2),
        unit="day",
        desc="simulating",
        delay=2.0,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} days [{elapsed}<{remaining}]",
    )

    def update(done_min: float) -> None:
        bar.update(round(done_min / MIN_PER_DAY, 2) - bar.n)  # update() honours the 2 s delay

    return update, bar.close
