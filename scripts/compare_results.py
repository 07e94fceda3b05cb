"""Check that a refactor did not change the simulator's results: compare two result folders ("before" and "after").

Each folder has the layout written by the reference runs:

    <dir>/default/                                   a single run (`python -m sim hydra.run.dir=<dir>/default`):
                                                     summary.parquet, orders.parquet, utilization.parquet
    <dir>/sweeps/<experiment>/<sweep id>/            a sweep (`python -m sim +experiment=NAME results.uri=<dir>/sweeps`):
        summary.parquet                              one row per run, with `run` and `overrides` columns
        orders/run=<n>/orders.parquet                each run's orders (with output.orders=true)

What is compared:

* Summaries. The default runs with each other; sweeps by experiment name (the latest sweep id on each side), their
  runs matched by the `overrides` column (the list of overrides, order ignored), not by run number. For every matched
  row every column present on both sides must be equal: floats exactly (or both NaN), everything else by value, nulls
  only with nulls. `wall_s`, `version`, `sweep_id` and `config_hash` are ignored, plus any `--ignore COL`; `overrides`
  is the matching key and is not compared as text. Columns only on one side, and column type changes, count as
  differences.
* Orders. For every matched run with orders.parquet on both sides, the tables column by column: same row count, same
  values in the same row order (so the same `order_id` order), nulls in the same places. Dictionary columns are compared
  by their values. Files are read one at a time, so memory stays bounded however many runs there are. Runs with an
  orders file on one side only are listed but do not make the verdict DIFFERENT (e.g. orders left out to save disk).
* `--also utilization alerts` compares those per-run tables the same way (off by default).

Renames: `--rename OLD=NEW` says that the summary column (and config key) OLD before is called NEW after; it is also
applied to the keys in the after side's `overrides` before matching. OLD and NEW both ending in "." rename a prefix
(`--rename lastmile.=last_mile.`). `--rename-orders OLD=NEW` does the same for columns of orders.parquet.

    python scripts/compare_results.py BEFORE_DIR AFTER_DIR [--ignore COL ...] [--rename OLD=NEW ...] [--rename-orders OLD=NEW ...]

The last line is the verdict, "IDENTICAL (...)" (exit code 0) or "DIFFERENT: ..." (exit code 1); exit code 2 means
bad arguments or unreadable input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DEFAULT_IGNORE = ("wall_s", "version", "sweep_id", "config_hash", "worker")
KEY_COLUMN = "overrides"  # how sweep runs are matched
MAX_LISTED = 20  # examples/items listed per section before "... and N more"


# --- renames ------------------------------------------------------------------------------------------------------


class Renamer:
    """Maps names of the AFTER side back to the BEFORE side's names (exact names, or prefixes ending in '.')."""

    def __init__(self, pairs: Iterable[str]):
        self.exact: dict[str, str] = {}
        self.prefixes: list[tuple[str, str]] = []  # (after prefix, before prefix)
        for pair in pairs:
            old, sep, new = pair.partition("=")
            if not sep or not old or not new:
                raise ValueError(f"bad rename {pair!r}: expected OLD=NEW")
            if old.endswith(".") and new.endswith("."):
                self.prefixes.append((new, old))
            else:
                self.exact[new] = old
        self.prefixes.sort(key=lambda p: -len(p[0]))  # longest prefix first

    def to_before(self, name: str) -> str:
        if name in self.exact:
            return self.exact[name]
        for new, old in self.prefixes:
            if name.startswith(new):
                return old + name[len(new) :]
        return name


def normalise_overrides(text: Any, renamer: Renamer | None = None) -> str:
    """A run's overrides as a canonical key: the JSON list sorted, after-side keys renamed to before-side names."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if not isinstance(items, list):
        return str(text)
    out = []
    for item in items:
        item = str(item)
        if renamer is not None and "=" in item:
            key, _, value = item.partition("=")
            stripped = key.lstrip("+~")
            item = f"{key[: len(key) - len(stripped)]}{renamer.to_before(stripped)}={value}"
        out.append(item)
    return json.dumps(sorted(out))


# --- finding results -------------------------------------------------------------------------------------------------


@dataclass
class Source:
    """One table of runs: the default run, or one experiment's latest sweep."""

    label: str  # "default" or the experiment name
    root: Path  # the run folder (default) or the sweep folder
    summary: pa.Table | None = None
    sweep: bool = True
    problem: str = ""

    def table_path(self, table: str, run: int | None) -> Path:
        if not self.sweep:
            return self.root / f"{table}.parquet"
        return self.root / table / f"run={run}" / f"{table}.parquet"


def latest_sweep(exp_dir: Path) -> Path | None:
    """The latest sweep of an experiment: sweep ids sort by launch time; only sweeps with a summary count."""
    sweeps = sorted(d for d in exp_dir.iterdir() if d.is_dir() and (d / "summary.parquet").is_file())
    return sweeps[-1] if sweeps else None


def find_sources(base: Path) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    default = base / "default"
    if (default / "summary.parquet").is_file():
        sources["default"] = Source("default", default, pq.read_table(default / "summary.parquet"), sweep=False)
    sweeps = base / "sweeps"
    if sweeps.is_dir():
        for exp_dir in sorted(d for d in sweeps.iterdir() if d.is_dir()):
            sweep = latest_sweep(exp_dir)
            if sweep is None:
                sources[exp_dir.name] = Source(exp_dir.name, exp_dir, problem="no sweep with a summary.parquet")
            else:
                sources[exp_dir.name] = Source(exp_dir.name, sweep, pq.read_table(sweep / "summary.parquet"))
    return sources


# --- comparing values ------------------------------------------------------------------------------------------------


@dataclass
class ColumnDiff:
    """Differences found in one column, accumulated over tables or files."""

    rows: int = 0
    where: int = 0  # tables/files in which the column differs
    max_abs: float = float("nan")
    example: str = ""  # at the largest absolute difference, else the first difference found
    types: set[str] = field(default_factory=set)  # "before type -> after type" when the types differ
    unit: str = ""  # of the absolute difference (timestamps: their unit)

    def add(self, rows: int, max_abs: float, example: str) -> None:
        if rows == 0:
            return
        self.rows += rows
        self.where += 1
        if not self.example or (not np.isnan(max_abs) and (np.isnan(self.max_abs) or max_abs > self.max_abs)):
            self.example = example
        if not np.isnan(max_abs):
            self.max_abs = max_abs if np.isnan(self.max_abs) else max(self.max_abs, max_abs)


def _fmt(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = str(value) if isinstance(value, (dt.datetime, dt.date, dt.timedelta)) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def series_diff(before: pd.Series, after: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """(mask of differing rows, absolute differences or None) for two aligned pandas columns."""
    bnull, anull = before.isna().to_numpy(), after.isna().to_numpy()
    both = ~bnull & ~anull
    numeric = all(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) for s in (before, after))
    if numeric and all(pd.api.types.is_integer_dtype(s) for s in (before, after)):
        b, a = before.to_numpy(), after.to_numpy()
        unequal = b != a
        absdiff = np.abs(b.astype(np.float64) - a.astype(np.float64))
    elif numeric:
        b, a = before.to_numpy(np.float64, na_value=np.nan), after.to_numpy(np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            unequal = b != a
            absdiff = np.abs(b - a)
    else:
        b, a = before.to_numpy(object), after.to_numpy(object)
        unequal = np.array([bool(x != y) for x, y in zip(b, a)], dtype=bool)
        absdiff = None
    mask = (bnull != anull) | (both & unequal)
    return mask, (np.where(mask & both, absdiff, np.nan) if absdiff is not None else None)


def _plain(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encoded columns decoded to their values (so the encoding itself is not compared)."""
    return arr.cast(arr.type.value_type) if pa.types.is_dictionary(arr.type) else arr


def arrow_diff(before: pa.ChunkedArray, after: pa.ChunkedArray) -> tuple[int, float, int]:
    """(differing rows, largest absolute difference or NaN, index of the example row) of two equally long columns.

    Nulls must be in the same places; floats are equal when exactly equal or both NaN; timestamps are compared as
    their integer values (the difference is in the column's unit).
    """
    if before.type == after.type and before.equals(after):
        return 0, float("nan"), -1
    b, a = _plain(before), _plain(after)
    if b.type != a.type:
        try:
            a = a.cast(b.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            b, a = b.cast(pa.string()), a.cast(pa.string())
    bvalid = pc.is_valid(b).to_numpy(zero_copy_only=False)
    avalid = pc.is_valid(a).to_numpy(zero_copy_only=False)
    both = bvalid & avalid
    t = b.type
    absdiff = None
    if pa.types.is_floating(t):
        x, y = b.to_numpy(zero_copy_only=False).astype(np.float64), a.to_numpy(zero_copy_only=False).astype(np.float64)
        with np.errstate(invalid="ignore"):
            unequal = (x != y) & ~(np.isnan(x) & np.isnan(y))
            absdiff = np.abs(x - y)
    elif pa.types.is_integer(t) or pa.types.is_temporal(t):
        if pa.types.is_temporal(t):
            b, a = b.cast(pa.int64()), a.cast(pa.int64())
        x = pc.fill_null(b, 0).to_numpy(zero_copy_only=False)
        y = pc.fill_null(a, 0).to_numpy(zero_copy_only=False)
        unequal = x != y
        absdiff = np.abs(x.astype(np.float64) - y.astype(np.float64))
    elif pa.types.is_null(t):
        unequal = np.zeros(len(b), dtype=bool)
    else:  # bool, string, nested, ...
        unequal = ~pc.fill_null(pc.equal(b, a), True).to_numpy(zero_copy_only=False)
    diff = (bvalid != avalid) | (both & unequal)
    n = int(diff.sum())
    if n == 0:
        return 0, float("nan"), -1
    if absdiff is not None:
        masked = np.where(diff & both, absdiff, -1.0)
        best = int(np.argmax(masked))
        if masked[best] >= 0:
            return n, float(masked[best]), best
    return n, float("nan"), int(np.argmax(diff))


# --- the comparison --------------------------------------------------------------------------------------------------


@dataclass
class Report:
    reasons: list[str] = field(default_factory=list)  # why the verdict is DIFFERENT
    notes: list[str] = field(default_factory=list)  # worth knowing, not a difference
    summary_rows: int = 0
    files: dict[str, int] = field(default_factory=dict)  # table -> files compared
    one_sided_files: dict[str, list[str]] = field(default_factory=dict)  # table -> runs with the file on one side only


def section(title: str) -> None:
    print(f"\n== {title}")


def listed(items: list[str], indent: str = "  ") -> None:
    for item in items[:MAX_LISTED]:
        print(f"{indent}{item}")
    if len(items) > MAX_LISTED:
        print(f"{indent}... and {len(items) - MAX_LISTED} more")


def match_rows(src_b: Source, src_a: Source, renamer: Renamer, report: Report) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The two summaries as pandas frames, rows aligned (the after side's columns renamed to before-side names)."""
    tb, ta = src_b.summary, src_a.summary
    assert tb is not None and ta is not None
    ta = ta.rename_columns([renamer.to_before(c) for c in ta.column_names])
    dup = sorted({c for c in ta.column_names if ta.column_names.count(c) > 1})
    if dup:
        report.reasons.append(f"{src_a.label}: --rename maps several after columns onto {dup}")
        return None
    fb, fa = tb.to_pandas(), ta.to_pandas()
    if not src_b.sweep:
        if len(fb) != 1 or len(fa) != 1:
            report.reasons.append(f"default: expected one summary row on each side, found {len(fb)} and {len(fa)}")
            return None
        return fb, fa
    for side, frame in (("BEFORE", fb), ("AFTER", fa)):
        if KEY_COLUMN not in frame.columns:
            report.reasons.append(f"{src_b.label}: no '{KEY_COLUMN}' column in the {side} summary; its runs cannot be matched")
            return None
    kb = fb[KEY_COLUMN].map(normalise_overrides)
    ka = fa[KEY_COLUMN].map(lambda t: normalise_overrides(t, renamer))
    if "replication" in fb.columns and "replication" in fa.columns:  # a search trial's replications share overrides
        kb = kb + "#" + fb["replication"].astype(str)
        ka = ka + "#" + fa["replication"].astype(str)
    for side, keys in (("BEFORE", kb), ("AFTER", ka)):
        if keys.duplicated().any():
            report.reasons.append(f"{src_b.label}: {int(keys.duplicated().sum())} duplicate overrides in the {side} summary")
            return None
    only_b, only_a = sorted(set(kb) - set(ka)), sorted(set(ka) - set(kb))
    if only_b or only_a:
        report.reasons.append(f"{src_b.label}: {len(only_b)} runs only in BEFORE, {len(only_a)} only in AFTER")
        print(f"  {src_b.label}: runs only in BEFORE: {len(only_b)}, only in AFTER: {len(only_a)}")
        listed([f"only in BEFORE: {k}" for k in only_b] + [f"only in AFTER:  {k}" for k in only_a], "    ")
    in_after = set(ka)
    common = [k for k in kb if k in in_after]
    ib = pd.Series(range(len(kb)), index=kb.to_numpy())
    ia = pd.Series(range(len(ka)), index=ka.to_numpy())
    fb = fb.iloc[ib[common].to_numpy()].reset_index(drop=True)
    fa = fa.iloc[ia[common].to_numpy()].reset_index(drop=True)
    return fb, fa


def row_label(src: Source, frame: pd.DataFrame, i: int) -> str:
    if not src.sweep:
        return "default"
    return f"{src.label} overrides={frame[KEY_COLUMN].iloc[i]}"


def compare_summaries(
    pairs: list[tuple[Source, Source]], ignore: set[str], renamer: Renamer, report: Report
) -> list[tuple[Source, Source, pd.DataFrame, pd.DataFrame]]:
    section("Summaries")
    only_b: dict[str, list[str]] = {}
    only_a: dict[str, list[str]] = {}
    diffs: dict[str, ColumnDiff] = {}
    matched = []
    for src_b, src_a in pairs:
        aligned = match_rows(src_b, src_a, renamer, report)
        if aligned is None:
            continue
        fb, fa = aligned
        matched.append((src_b, src_a, fb, fa))
        report.summary_rows += len(fb)
        ta_types = {renamer.to_before(f.name): f.type for f in src_a.summary.schema}
        for c in fb.columns:
            if c not in fa.columns and c not in ignore:
                only_b.setdefault(c, []).append(src_b.label)
        for c in fa.columns:
            if c not in fb.columns and c not in ignore:
                only_a.setdefault(c, []).append(src_b.label)
        skip = ignore | ({KEY_COLUMN} if src_b.sweep else set())
        for c in [c for c in fb.columns if c in fa.columns and c not in skip]:
            d = diffs.setdefault(c, ColumnDiff())
            tb_type, ta_type = src_b.summary.schema.field(c).type, ta_types[c]
            if tb_type != ta_type:
                d.types.add(f"{tb_type} -> {ta_type} ({src_b.label})")
            mask, absdiff = series_diff(fb[c], fa[c])
            n = int(mask.sum())
            if not n:
                continue
            max_abs, i = float("nan"), int(np.argmax(mask))
            if absdiff is not None and not np.all(np.isnan(absdiff)):
                i = int(np.nanargmax(absdiff))
                max_abs = float(absdiff[i])
            d.add(n, max_abs, f"{row_label(src_b, fb, i)}: before {_fmt(fb[c].iloc[i])}, after {_fmt(fa[c].iloc[i])}")
    print(f"  rows compared: {report.summary_rows} (in {len(matched)} of {len(pairs)} matched tables)")
    print(f"  ignored columns: {', '.join(sorted(ignore))}")
    if only_b:
        report.reasons.append(f"{len(only_b)} summary columns only in BEFORE")
    if only_a:
        report.reasons.append(f"{len(only_a)} summary columns only in AFTER")
    _print_one_sided("summary columns", only_b, only_a)
    _print_column_diffs("summary", diffs, "tables", report)
    return matched


def _print_one_sided(what: str, only_b: dict[str, list[str]], only_a: dict[str, list[str]]) -> None:
    for side, cols in (("BEFORE", only_b), ("AFTER", only_a)):
        print(f"  {what} only in {side}: {len(cols) or 'none'}")
        listed([f"{c}  (in {', '.join(sorted(set(where)))})" for c, where in sorted(cols.items())], "    ")


def _print_column_diffs(table: str, diffs: dict[str, ColumnDiff], unit: str, report: Report) -> None:
    differing = {c: d for c, d in diffs.items() if d.rows or d.types}
    print(f"  differing {table} columns: {len(differing) or 'none'}")
    for c, d in sorted(differing.items()):
        if d.types:
            print(f"    {c}: type changed: {'; '.join(sorted(d.types))}")
        if d.rows:
            biggest = "" if np.isnan(d.max_abs) else f", largest absolute difference {d.max_abs:.6g}{d.unit}"
            print(f"    {c}: {d.rows} differing rows in {d.where} {unit}{biggest}")
            print(f"      e.g. {d.example}")
    if differing:
        report.reasons.append(
            f"{len(differing)} {table} columns differ ({', '.join(sorted(differing)[:8])}{', ...' if len(differing) > 8 else ''})"
        )


def run_numbers(src: Source, frame: pd.DataFrame) -> list[int | None]:
    if not src.sweep:
        return [None]
    return [int(r) for r in frame["run"]] if "run" in frame.columns else []


def compare_tables(
    table: str, matched: list[tuple[Source, Source, pd.DataFrame, pd.DataFrame]], renamer: Renamer, report: Report
) -> None:
    """One per-run table (orders, utilization, alerts) of every matched run, one file pair at a time."""
    section(f"{table}.parquet")
    only_b: dict[str, list[str]] = {}
    only_a: dict[str, list[str]] = {}
    diffs: dict[str, ColumnDiff] = {}
    compared, one_sided, count_diffs, order_changes = 0, [], [], 0
    for src_b, src_a, fb, fa in matched:
        runs_b, runs_a = run_numbers(src_b, fb), run_numbers(src_a, fa)
        if len(runs_b) != len(fb) or len(runs_a) != len(fa):
            report.notes.append(f"{src_b.label}: no 'run' column, {table} not compared")
            continue
        for i, (rb, ra) in enumerate(zip(runs_b, runs_a)):
            pb, pa_ = src_b.table_path(table, rb), src_a.table_path(table, ra)
            label = row_label(src_b, fb, i)
            if not pb.is_file() or not pa_.is_file():
                if pb.is_file() or pa_.is_file():
                    one_sided.append(f"{label}: only in {'BEFORE' if pb.is_file() else 'AFTER'}")
                continue
            tb, ta = pq.read_table(pb), pq.read_table(pa_)
            ta = ta.rename_columns([renamer.to_before(c) for c in ta.column_names])
            compared += 1
            for c in tb.column_names:
                if c not in ta.column_names:
                    only_b.setdefault(c, []).append(src_b.label)
            for c in ta.column_names:
                if c not in tb.column_names:
                    only_a.setdefault(c, []).append(src_b.label)
            common = [c for c in tb.column_names if c in ta.column_names]
            if [c for c in ta.column_names if c in tb.column_names] != common:
                order_changes += 1
            if tb.num_rows != ta.num_rows:
                count_diffs.append(f"{label}: {tb.num_rows} rows before, {ta.num_rows} after")
                continue
            for c in common:
                d = diffs.setdefault(c, ColumnDiff())
                cb, ca = tb.column(c), ta.column(c)
                if cb.type != ca.type:
                    d.types.add(f"{cb.type} -> {ca.type}")
                if pa.types.is_temporal(cb.type) and hasattr(cb.type, "unit"):
                    d.unit = f" {cb.type.unit}"
                n, max_abs, k = arrow_diff(cb, ca)
                if n:
                    where = f"row {k}" + (f" (order_id {tb.column('order_id')[k].as_py()})" if "order_id" in tb.column_names else "")
                    example = f"{label}, {where}: before {_fmt(cb[k].as_py())}, after {_fmt(ca[k].as_py())}"
                    d.add(n, max_abs, example)
            del tb, ta
    report.files[table] = compared
    report.one_sided_files[table] = one_sided
    print(f"  files compared: {compared}")
    if one_sided:
        print(f"  runs with {table}.parquet on one side only (not compared): {len(one_sided)}")
        listed(one_sided, "    ")
    if count_diffs:
        report.reasons.append(f"{len(count_diffs)} {table} files differ in row count")
        print(f"  files with different row counts: {len(count_diffs)}")
        listed(count_diffs, "    ")
    if order_changes:
        report.notes.append(f"{table}: column order differs in {order_changes} files (values compared by name)")
    if only_b:
        report.reasons.append(f"{len(only_b)} {table} columns only in BEFORE")
    if only_a:
        report.reasons.append(f"{len(only_a)} {table} columns only in AFTER")
    _print_one_sided(f"{table} columns", only_b, only_a)
    _print_column_diffs(table, diffs, "files", report)


def compare(before: Path, after: Path, ignore: set[str], renamer: Renamer, orders_renamer: Renamer, also: list[str]) -> Report:
    report = Report()
    sb, sa = find_sources(before), find_sources(after)
    section("Runs")
    print(f"  BEFORE {before}: {', '.join(sb) or 'nothing'}")
    print(f"  AFTER  {after}: {', '.join(sa) or 'nothing'}")
    if not sb and not sa:
        report.reasons.append("no results found on either side")
    pairs = []
    for label in sorted(set(sb) | set(sa), key=lambda x: (x != "default", x)):
        b, a = sb.get(label), sa.get(label)
        if b is None or a is None:
            report.reasons.append(f"{label} only in {'BEFORE' if a is None else 'AFTER'}")
            print(f"  {label}: only in {'BEFORE' if a is None else 'AFTER'}")
            continue
        if b.problem or a.problem:
            report.reasons.append(f"{label}: {b.problem or a.problem}")
            continue
        if b.sweep:
            print(f"  {label}: sweep {b.root.name} vs {a.root.name}")
        for side, src in (("BEFORE", b), ("AFTER", a)):
            if "status" in src.summary.column_names:
                bad = sum(1 for s in src.summary.column("status").to_pylist() if s != "ok")
                if bad:
                    report.notes.append(f"{label}: {bad} runs with status other than 'ok' in {side}")
        pairs.append((b, a))
    matched = compare_summaries(pairs, ignore, renamer, report)
    compare_tables("orders", matched, orders_renamer, report)
    for table in also:
        compare_tables(table, matched, Renamer([]), report)
    if report.notes:
        section("Notes")
        listed(report.notes)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the reference results (BEFORE_DIR)")
    parser.add_argument("after", type=Path, help="the results to check (AFTER_DIR)")
    parser.add_argument(
        "--ignore", nargs="+", action="extend", default=[], metavar="COL", help="summary columns to ignore (before-side names)"
    )
    parser.add_argument(
        "--rename", nargs="+", action="extend", default=[], metavar="OLD=NEW", help="summary column OLD (before) is NEW (after)"
    )
    parser.add_argument("--rename-orders", nargs="+", action="extend", default=[], metavar="OLD=NEW", help="orders column OLD is NEW")
    parser.add_argument(
        "--also",
        nargs="+",
        action="extend",
        default=[],
        metavar="TABLE",
        help="also compare these per-run tables (utilization, alerts)",
    )
    args = parser.parse_args(argv)
    for d in (args.before, args.after):
        if not d.is_dir():
            parser.error(f"not a directory: {d}")
    try:
        renamer, orders_renamer = Renamer(args.rename), Renamer(args.rename_orders)
    except ValueError as exc:
        parser.error(str(exc))
    ignore = set(DEFAULT_IGNORE) | set(args.ignore)
    try:
        report = compare(args.before, args.after, ignore, renamer, orders_renamer, list(dict.fromkeys(args.also)))
    except (OSError, pa.ArrowException) as exc:  # an unreadable or corrupt file: no verdict
        print(f"error: cannot read the results: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{report.files.get(t, 0)} {t} files" for t in ["orders", *args.also])
    skipped = sum(len(v) for v in report.one_sided_files.values())
    extra = f"; {skipped} run files on one side only, not compared" if skipped else ""
    print()
    if report.reasons:
        print(f"DIFFERENT: {'; '.join(report.reasons)} ({report.summary_rows} summary rows, {counts} compared{extra})")
        return 1
    print(f"IDENTICAL ({report.summary_rows} summary rows, {counts} compared{extra})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
