"""The analyst report of a sweep: figures (PNG and SVG) and one self-contained HTML page.

    python -m sim.report RESULTS_DIR [--run N] [--target 0.95] [--out DIR]     (or: sim-report ...)

RESULTS_DIR is a sweep folder (`<results.uri>/<experiment>/<sweep id>/`). The figures show the
same-day hit rate and the profit against the cutoff with 95% confidence bands over replications, the
coverage x hit-rate frontier, cost against hit rate, and, for one run, the backlog per stage and the
parcel-centre warnings by hour and the run day by day (orders, backlog, hit rate, profit); a table ranks
the policies that meet the target by coverage, another how many days each scenario's hit rate needs to
recover from its busiest day.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import json
import string
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import matplotlib
import matplotlib.dates

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import __version__  # noqa: E402
from .results import ci, load_summary, t_interval  # noqa: E402

BOOKKEEPING = {"seed", "wall_s", "events", "version", "run", "status", "error", "overrides", "config_hash", "sweep_id", "experiment"}


def sweep_dimensions(summary: pd.DataFrame) -> list[str]:
    """Config columns (dotted names) that vary across the runs, seeds left out: what the sweep studies."""
    dims = []
    for col in summary.columns:
        if "." not in col or col in BOOKKEEPING or col.startswith("results."):
            continue
        if summary[col].astype(str).nunique(dropna=False) > 1:
            dims.append(col)
    return dims


def _axes(summary: pd.DataFrame) -> tuple[str | None, list[str]]:
    """(x dimension, the dimensions drawn as separate lines)."""
    dims = sweep_dimensions(summary)
    if not dims:
        return None, []
    x = "cutoff.time" if "cutoff.time" in dims else dims[0]
    return x, [d for d in dims if d != x]


def _scenario_dims(summary: pd.DataFrame) -> list[str]:
    """The swept dimensions that make a scenario, x first: a scenario's replications differ only in their seed."""
    x, lines = _axes(summary)
    return ([x] if x else []) + lines


def _label(row: pd.Series, dims: list[str]) -> str:
    return ", ".join(f"{d.split('.')[-1]}={row[d]}" for d in dims) or "all runs"


def _ok_runs(summary: pd.DataFrame, lines: list[str] | None = None) -> pd.DataFrame:
    """The runs that finished (a sweep's failed runs have a row too); with `lines`, each labelled by its line."""
    ok = summary[summary["status"] == "ok"] if "status" in summary else summary
    return ok if lines is None else ok.assign(label=[_label(row, lines) for _, row in ok.iterrows()])


COST = "cost_per_delivered_order"  # what a collapsing operation really costs; sweeps before 0.2 lack it
PROFIT = "profit_per_day"  # gross margin less every cost (CNY a measured day); results before schema version 5 lack it
RECOVERY_TOLERANCE = 0.02  # a day's same-day hit rate counts as recovered within this of its level before the peak


def scenario_table(summary: pd.DataFrame, target: float) -> pd.DataFrame:
    """One row per scenario (a combination of the swept values): mean and 95% interval of the hit rate,
    coverage and cost over its replications, and whether it meets the target."""
    _, lines = _axes(summary)
    by = _scenario_dims(summary)
    ok = _ok_runs(summary)
    if COST not in ok:
        ok = ok.assign(**{COST: ok["cost_per_order"]})
    table = None
    metrics = ["same_day_hit_rate", "same_day_coverage", "cost_per_order", COST]
    metrics += [PROFIT] if PROFIT in ok else []  # results before schema version 5 have no profit
    for metric in metrics:
        part = ci(ok, by=by, metric=metric).drop(columns=["metric", "confidence"])
        part = part.rename(columns={c: f"{metric}_{c}" for c in ("n", "mean", "std", "ci_low", "ci_high")})
        table = part if table is None else table.merge(part, on=by) if by else pd.concat([table, part], axis=1)
    for rate in ("same_day_hit_rate", "same_day_coverage"):  # a t interval knows no bounds: a share's does
        table[[f"{rate}_ci_low", f"{rate}_ci_high"]] = table[[f"{rate}_ci_low", f"{rate}_ci_high"]].clip(0.0, 1.0)
    table["meets_target"] = table["same_day_hit_rate_mean"] >= target
    table["label"] = [_label(row, lines) for _, row in table.iterrows()]
    return table


def top_policies(table: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Scenarios meeting the target, most same-day coverage first."""
    return (
        table[table["meets_target"]]
        .sort_values(["same_day_coverage_mean", "cost_per_order_mean"], ascending=[False, True])
        .head(limit)
    )


def _save(fig, out: Path, name: str) -> dict:
    png, svg = out / f"{name}.png", out / f"{name}.svg"
    fig.savefig(png, dpi=110, bbox_inches="tight")
    fig.savefig(svg, bbox_inches="tight")
    plt.close(fig)
    return {"name": name, "png": png, "svg": svg}


def figure_hit_vs_cutoff(table: pd.DataFrame, summary: pd.DataFrame, target: float, out: Path) -> dict:
    x, _ = _axes(summary)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for label, group in table.groupby("label", sort=True):
        group = group.sort_values(x) if x else group
        xs = group[x].astype(str).tolist() if x else ["all"]
        ax.plot(xs, group["same_day_hit_rate_mean"], marker="o", label=label)
        ax.fill_between(xs, group["same_day_hit_rate_ci_low"], group["same_day_hit_rate_ci_high"], alpha=0.2)
    ax.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    ax.set_xlabel(x or "")
    ax.set_ylabel("same-day hit rate (95% CI over replications)")
    ax.set_title("Same-day hit rate against the cutoff")
    ax.legend(fontsize=8)
    return _save(fig, out, "hit_rate_vs_cutoff")


def figure_frontier(table: pd.DataFrame, target: float, out: Path) -> dict:
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    err = np.vstack(
        [
            table["same_day_hit_rate_mean"] - table["same_day_hit_rate_ci_low"],
            table["same_day_hit_rate_ci_high"] - table["same_day_hit_rate_mean"],
        ]
    )
    ax.errorbar(table["same_day_coverage_mean"], table["same_day_hit_rate_mean"], yerr=np.nan_to_num(err), fmt="o", alpha=0.8)
    pts = table.sort_values("same_day_coverage_mean", ascending=False)
    best, frontier = -np.inf, []
    for _, row in pts.iterrows():  # not dominated: no other scenario has both more coverage and a higher hit rate
        if row["same_day_hit_rate_mean"] > best:
            frontier.append(row)
            best = row["same_day_hit_rate_mean"]
    if frontier:
        front = pd.DataFrame(frontier)
        ax.plot(front["same_day_coverage_mean"], front["same_day_hit_rate_mean"], color="black", linewidth=1, label="frontier")
    ax.axhline(target, color="red", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    ax.set_xlabel("same-day coverage (share of home-city orders offered same-day)")
    ax.set_ylabel("same-day hit rate")
    ax.set_title("Coverage against hit rate: each point a policy and capacity")
    ax.legend(fontsize=8)
    return _save(fig, out, "coverage_hit_frontier")


def figure_cost(table: pd.DataFrame, out: Path) -> dict:
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for label, group in table.groupby("label", sort=True):
        ax.scatter(group["same_day_hit_rate_mean"], group[f"{COST}_mean"], label=label)
    ax.set_xlabel("same-day hit rate")
    ax.set_ylabel("cost per delivered order (CNY)")
    ax.set_title("Cost per delivered order against hit rate")
    ax.legend(fontsize=8)
    return _save(fig, out, "cost_vs_hit_rate")


def profit_differences(summary: pd.DataFrame, x: str | None, lines: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """Profit per day of each scenario (mean over replications) and its difference to the most profitable scenario
    of its line, paired by seed (common random numbers: the same shoppers in both), with a t interval: whether the
    peak is resolved or only the best of close ones."""
    rows = []
    for label, group in _ok_runs(summary, lines).groupby("label", sort=True):
        scenarios = {key: g.set_index("seed")[PROFIT] for key, g in (group.groupby(x, sort=True) if x else [("all", group)])}
        means = {key: float(profit.mean()) for key, profit in scenarios.items()}
        best = max(means, key=means.get)
        for key, profit in scenarios.items():
            paired = profit - scenarios[best]
            mean, _, low, high = t_interval(paired.dropna().to_numpy(), confidence)
            rows.append(
                {"label": label, x or "scenario": key, "profit_per_day": means[key], "best": key == best}
                | {"vs_best": mean, "vs_best_ci_low": low, "vs_best_ci_high": high, "seeds": int(paired.notna().sum())}
            )
    return pd.DataFrame(rows)


def figure_profit(summary: pd.DataFrame, out: Path) -> dict:
    """Profit per day against the cutoff (or the first swept dimension): a thin line per seed (the same shoppers at
    every cutoff), the mean bold, the most profitable mean starred."""
    x, lines = _axes(summary)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    if PROFIT not in summary:
        ax.text(0.5, 0.5, "no profit in these results (before schema version 5)", ha="center", va="center", transform=ax.transAxes)
    else:
        for label, group in _ok_runs(summary, lines).groupby("label", sort=True):
            keys = sorted(group[x].unique()) if x else ["all"]
            xs = [str(k) for k in keys]
            per_seed = group.pivot_table(index="seed", columns=x, values=PROFIT) if x else group.set_index("seed")[[PROFIT]]
            mean = per_seed.mean(axis=0).to_numpy() / 1e3
            line = ax.plot(xs, mean, marker="o", linewidth=2, label=label)[0]
            for _, seed_row in per_seed.iterrows():
                ax.plot(xs, seed_row.to_numpy() / 1e3, color=line.get_color(), linewidth=0.8, alpha=0.35)
            best = int(np.nanargmax(mean))
            ax.plot([xs[best]], [mean[best]], marker="*", markersize=14, color=line.get_color())
        ax.legend(fontsize=8)
    ax.set_xlabel(x or "")
    ax.set_ylabel("profit per day (thousand CNY)")
    ax.set_title("Profit against the cutoff: mean (bold, star: the most profitable) and each seed (thin)")
    return _save(fig, out, "profit_vs_cutoff")


def load_days(sweep: Path) -> pd.DataFrame | None:
    """Every run's days (days/run=<n>/), with its `run`; None for results written before schema version 5."""
    if not (sweep / "days").is_dir():
        return None
    days = pd.read_parquet(sweep / "days")
    days["run"] = days["run"].astype(int)
    return days


def recovery_days(days: pd.DataFrame, tolerance: float = RECOVERY_TOLERANCE) -> dict[str, object]:
    """One run's peak (its busiest measured day) and how many days after it the same-day hit rate first comes back
    within `tolerance` of its median over the measured days before the peak (None: not within the run, or too few
    days before or after the peak to tell; the peak day itself counts as recovered when its hit rate never dropped),
    and that in words (`recovery`)."""
    days = days[days["measured"]].sort_values("day").reset_index(drop=True)
    peak = int(days["orders"].idxmax())
    before = days["same_day_hit_rate"].iloc[:peak].dropna()
    level = float(before.median()) if len(before) else float("nan")
    after = days["same_day_hit_rate"].iloc[peak:].to_numpy()
    back = np.flatnonzero(after >= level - tolerance) if np.isfinite(level) else np.array([], dtype=int)
    if back.size:
        verdict = f"{int(back[0])} days" if back[0] != 1 else "1 day"
    else:
        verdict = "too few days after the peak" if peak >= len(days) - 2 or not np.isfinite(level) else "not within the run"
    return {
        "peak_day": days["day"].iloc[peak],
        "peak_orders": int(days["orders"].iloc[peak]),
        "hit_rate_before": level,
        "hit_rate_on_peak": float(after[0]),
        "peak_backlog": int(days["backlog"].iloc[peak]),
        "days_to_recover": int(back[0]) if back.size else None,
        "recovery": verdict,
    }


def recovery_table(days: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """`recovery_days` of every run, labelled by its scenario (the swept values)."""
    dims = _scenario_dims(summary)
    rows = []
    for run, group in days.groupby("run", sort=True):
        match = summary[summary["run"] == run]
        scenario = _label(match.iloc[0], dims) if len(match) else "?"
        seed = int(match.iloc[0]["seed"]) if len(match) and "seed" in match else None
        rows.append({"scenario": scenario, "run": run, "seed": seed} | recovery_days(group))
    table = pd.DataFrame(rows)
    if len(table):
        table["days_to_recover"] = table["days_to_recover"].astype("Int64")
    return table


def days_by_scenario(days: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Each scenario's days: orders, backlog and same-day hit rate by day, means over its replications."""
    dims = _scenario_dims(summary)
    labels = {int(row["run"]): _label(row, dims) for _, row in summary.iterrows()}
    days = days.assign(scenario=days["run"].map(labels))
    return days.groupby(["scenario", "day"], sort=True)[["orders", "backlog", "same_day_hit_rate", "profit"]].mean().reset_index()


def _day_axis(axes, when: pd.Series, warmup: np.ndarray) -> None:
    """Days on the x axis, one label a day (at most about 15), warm-up days shaded."""
    step = max(1, int(np.ceil(len(when) / 15)))
    for ax in axes:
        for day in when[warmup]:
            ax.axvspan(day - pd.Timedelta(hours=12), day + pd.Timedelta(hours=12), color="grey", alpha=0.15)
    axes[-1].xaxis.set_major_locator(matplotlib.dates.DayLocator(interval=step))
    axes[-1].xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m-%d"))


def figure_days_by_scenario(days: pd.DataFrame, summary: pd.DataFrame, out: Path, target: float) -> dict:
    """The backlog at each day's end and the same-day hit rate by day, one line per scenario (means over seeds): where
    a peak's backlog builds and how fast each capacity clears it; warm-up days shaded."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    for scenario, group in days_by_scenario(days, summary).groupby("scenario", sort=True):
        when = pd.to_datetime(group["day"])
        top.plot(when, group["backlog"] / 1e3, marker="o", label=scenario)
        bottom.plot(when, group["same_day_hit_rate"], marker="o", label=scenario)
    top.set_ylabel("backlog at the day's end\n(thousand orders)")
    top.set_title("Day by day, each scenario (means over replications)")
    bottom.axhline(target, color="grey", linestyle="--", linewidth=1)
    bottom.set_ylabel("same-day hit rate")
    first = days[days["run"] == days["run"].min()].sort_values("day")
    _day_axis((top, bottom), pd.to_datetime(first["day"]), ~first["measured"].to_numpy())
    fig.legend(*top.get_legend_handles_labels(), loc="lower center", fontsize=7, ncol=1, bbox_to_anchor=(0.5, 0.0))
    fig.subplots_adjust(bottom=0.07 + 0.03 * len(top.get_lines()))
    return _save(fig, out, "days_by_scenario")


def figure_days(days: pd.DataFrame, run: int, out: Path, target: float) -> dict:
    """One run day by day: orders placed (and shoppers lost), the backlog at the day's end, the same-day hit rate and
    the day's profit (hollow on a day whose later promises fall after the horizon: not all its misses are charged);
    warm-up days shaded."""
    d = days[days["run"] == run].sort_values("day")
    when = pd.to_datetime(d["day"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    top.bar(when, d["orders"] / 1e3, width=0.8, label="orders placed")
    top.bar(when, d["lost_orders"] / 1e3, bottom=d["orders"] / 1e3, width=0.8, label="shoppers lost at checkout")
    top.plot(when, d["backlog"] / 1e3, color="black", marker="o", label="backlog at the day's end")
    top.set_ylabel("thousand orders")
    top.set_title(f"Run {run} day by day")
    top.legend(fontsize=8)
    bottom.plot(when, d["same_day_hit_rate"], marker="o", label="same-day hit rate")
    bottom.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    bottom.set_ylabel("same-day hit rate")
    profit = bottom.twinx()
    complete = d["complete"].to_numpy() if "complete" in d else np.ones(len(d), dtype=bool)
    profit.plot(when, d["profit"] / 1e3, color="tab:green", linewidth=1)
    profit.plot(when[complete], d["profit"][complete] / 1e3, "s", color="tab:green", label="profit")
    profit.plot(when[~complete], d["profit"][~complete] / 1e3, "s", mfc="none", color="tab:green", label="profit, day incomplete")
    profit.set_ylabel("profit (thousand CNY)", color="tab:green")
    handles = bottom.get_legend_handles_labels()[0] + profit.get_legend_handles_labels()[0]
    bottom.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="lower left")
    _day_axis((top, bottom), when, ~d["measured"].to_numpy())
    fig.autofmt_xdate()
    return _save(fig, out, f"run_{run}_days")


def run_tables(sweep: Path, run: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One run's backlog per stage by hour, and its parcel-centre alerts by hour and level (None if off)."""
    util = pd.read_parquet(sweep / "utilization" / f"run={run}")
    util["hour"] = util["time"].dt.floor("h")
    backlog = util.groupby(["hour", "stage"], observed=True)["wip"].mean().unstack("stage")
    alerts_dir = sweep / "alerts" / f"run={run}"
    if not alerts_dir.exists():
        return backlog, None
    alerts = pd.read_parquet(alerts_dir)
    alerts["hour"] = alerts["time"].dt.floor("h")
    by_hour = alerts.groupby(["hour", "level"], observed=True).size().unstack("level", fill_value=0)
    return backlog, by_hour


def figure_run(sweep: Path, run: int, out: Path) -> dict:
    backlog, alerts = run_tables(sweep, run)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for stage in backlog.columns:
        top.plot(backlog.index, backlog[stage], label=str(stage))
    top.set_ylabel("orders in stage (hourly mean)")
    top.set_title(f"Run {run}: backlog per stage by hour")
    top.legend(fontsize=8)
    if alerts is None:
        bottom.text(0.5, 0.5, "parcel centre off in this sweep: no warnings", ha="center", va="center", transform=bottom.transAxes)
    else:
        bottom_acc = np.zeros(len(alerts))
        for level in alerts.columns:
            bottom.bar(alerts.index, alerts[level], bottom=bottom_acc, width=1 / 24, label=str(level))
            bottom_acc = bottom_acc + alerts[level].to_numpy()
        bottom.legend(fontsize=8)
    bottom.set_ylabel("parcel-centre alerts per hour")
    fig.autofmt_xdate()
    return _save(fig, out, f"run_{run}_backlog_and_warnings")


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, classes="data")


def report_template() -> string.Template:
    """The page, sim/templates/report.html: `$name` placeholders (string.Template), read from the installed package."""
    return string.Template((resources.files("sim") / "templates" / "report.html").read_text(encoding="utf-8"))


def render_page(fields: Mapping[str, object]) -> str:
    """The report page with its placeholders filled. Values go in as given, so text must be HTML-escaped first;
    a placeholder left without a value, or a value with no placeholder, is an error."""
    template = report_template()
    missing, unused = set(template.get_identifiers()) - set(fields), set(fields) - set(template.get_identifiers())
    if missing or unused:
        raise ValueError(f"report template and fields differ: no value for {sorted(missing)}, no placeholder for {sorted(unused)}")
    return template.substitute(fields)


def write_report(sweep: str | Path, out: str | Path | None = None, run: int | None = None, target: float = 0.95) -> Path:
    """Write report.html and the figures for a sweep folder; returns the HTML path."""
    sweep = Path(sweep)
    out = Path(out) if out else sweep / "report"
    out.mkdir(parents=True, exist_ok=True)
    summary = load_summary(sweep)
    meta = json.loads((sweep / "sweep.json").read_text()) if (sweep / "sweep.json").exists() else {}
    table = scenario_table(summary, target)
    if run is None:  # the run that missed most: where the bottleneck shows
        run = int(_ok_runs(summary).sort_values("same_day_hit_rate").iloc[0]["run"])
    days = load_days(sweep)
    x, lines = _axes(summary)
    if PROFIT in summary:
        differences = profit_differences(summary, x, lines)
        differences.to_csv(out / "profit.csv", index=False)
        profit_html = _table_html(differences)
    else:
        profit_html = ""
    replications = int(table["same_day_hit_rate_n"].min()) if len(table) else 0
    replication_note = (
        f"With {replications} replication{'s' if replications != 1 else ''} a scenario, the intervals are wide or "
        "missing (a t interval over 2 values multiplies their spread by 12.7): add seeds before trusting a ranking."
        if replications < 3
        else ""
    )
    figures = [
        figure_hit_vs_cutoff(table, summary, target, out),
        figure_frontier(table, target, out),
        figure_cost(table, out),
        figure_run(sweep, run, out),
        figure_profit(summary, out),
    ]
    if days is not None:
        figures.append(figure_days(days, run, out, target))
        figures.append(figure_days_by_scenario(days, summary, out, target))
        recovery = recovery_table(days, summary)
        recovery.to_csv(out / "recovery.csv", index=False)
        recovery_html = _table_html(recovery.drop(columns=["days_to_recover"]))  # `recovery` says it in words
        days_html = _img(figures[6]["png"]) + _img(figures[5]["png"])
    else:
        recovery_html = days_html = "<p>No days.parquet in these results (written before schema version 5).</p>"
    shown = _scenario_dims(summary)
    top = top_policies(table)

    def interval(frame, m):
        return [f"{a:.3f} [{b:.3f}, {c:.3f}]" for a, b, c in zip(frame[f"{m}_mean"], frame[f"{m}_ci_low"], frame[f"{m}_ci_high"])]

    ranked = top[shown].copy()
    for metric, title in (
        ("same_day_coverage", "same-day coverage"),
        ("same_day_hit_rate", "same-day hit rate"),
        ("cost_per_order", "cost per order (CNY)"),
    ):
        ranked[title] = interval(top, metric)
    if f"{PROFIT}_mean" in top:  # its interval over whole runs says little: the paired differences are below
        ranked["profit per day (CNY, mean)"] = [f"{v:,.0f}" for v in top[f"{PROFIT}_mean"]]
    ranked["replications"] = top["same_day_hit_rate_n"].to_numpy()
    table.to_csv(out / "scenarios.csv", index=False)
    common = {
        c: summary[c].iloc[0]
        for c in summary.columns
        if "." in c and c not in shown and summary[c].astype(str).nunique(dropna=False) == 1
    }
    chosen = summary[summary["run"] == run].iloc[0]
    text = {  # plain text: escaped here, as the page takes values as they are
        "experiment": html.escape(str(meta.get("experiment", sweep.parent.name))),
        "sweep": html.escape(sweep.name),
        "swept": html.escape(", ".join(shown) or "nothing but seeds"),
        "results_version": html.escape(str(summary["version"].iloc[0]) if "version" in summary else "?"),
        "run_settings": html.escape(", ".join(f"{d}={chosen[d]}" for d in shown + ["seed"])),
        "replication_note": html.escape(replication_note),
        "run_bottleneck": html.escape(str(chosen.get("bottleneck", ""))),
    }
    formatted = {  # numbers, the version and the date: nothing in them to escape
        "runs": len(summary),
        "failed": int((summary.get("status", pd.Series(dtype=str)) == "failed").sum()),
        "target": f"{target:.0%}",
        "version": __version__,
        "date": dt.date.today().isoformat(),
        "run": run,
        "run_hit_rate": f"{chosen['same_day_hit_rate']:.3f}",
    }
    markup = {  # HTML built here: pandas escapes the table cells, _img the alt text
        "policies_html": _table_html(ranked) if len(top) else "<p>No scenario meets the target.</p>",
        "hit_rate_figure_html": _img(figures[0]["png"]),
        "frontier_figure_html": _img(figures[1]["png"]),
        "cost_figure_html": _img(figures[2]["png"]),
        "run_figure_html": _img(figures[3]["png"]),
        "profit_figure_html": _img(figures[4]["png"]),
        "profit_table_html": profit_html,
        "days_figure_html": days_html,
        "recovery_html": recovery_html,
        "shared_config_html": _table_html(pd.DataFrame({"key": list(common), "value": [str(v) for v in common.values()]})),
    }
    page = render_page(text | formatted | markup)
    path = out / "report.html"
    path.write_text(page)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sim-report", description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", help="a sweep folder: <results.uri>/<experiment>/<sweep id>")
    parser.add_argument("--run", type=int, default=None, help="the run whose backlog and days to show (default: worst hit rate)")
    parser.add_argument("--target", type=float, default=0.95, help="target same-day hit rate (default 0.95)")
    parser.add_argument("--out", default=None, help="output folder (default: RESULTS_DIR/report)")
    args = parser.parse_args(argv)
    sweep = Path(args.results_dir)
    if not (sweep / "summary.parquet").exists():
        print(f"error: {sweep} is not a sweep folder (no summary.parquet)", file=sys.stderr)
        return 2
    if not 0 < args.target <= 1:
        print(f"error: --target {args.target} must be in (0, 1]", file=sys.stderr)
        return 2
    path = write_report(sweep, args.out, args.run, args.target)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
