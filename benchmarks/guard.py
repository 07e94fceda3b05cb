"""The CI regression guard: compare normalised benchmark figures with the committed baseline.

Absolute times differ between machines and between runs on a shared one, so each guarded
figure is normalised by the calibration loop (a bare SimPy loop): `figure = fastest round of
the benchmark / fastest round of the calibration`, the calibration run before each round of
the benchmark itself (`calibration_s` in its extra_info) where it was, else the session's
calibration benchmark.
A figure more than `--tolerance` (default 25 %) above its baseline fails the check.

    python -m benchmarks.guard RESULTS.json                      # check against benchmarks/baseline.json
    python -m benchmarks.guard RESULTS.json --write-baseline     # deliberately record a new baseline
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

CALIBRATION = "test_bare_simpy_loop"
GUARDED = ("test_model_on_the_reference_scenario", "test_model_100k_orders_per_day", "test_write_parquet")
DEFAULT_BASELINE = Path(__file__).with_name("baseline.json")
DEFAULT_TOLERANCE = 0.25


def normalised_figures(results: dict) -> dict[str, float]:
    """Benchmark name -> its fastest round divided by the calibration loop's fastest round (beside it, if run)."""
    best = {b["name"]: b["stats"]["min"] for b in results["benchmarks"]}
    beside = {b["name"]: b.get("extra_info", {}).get("calibration_s") for b in results["benchmarks"]}
    if CALIBRATION not in best:
        raise SystemExit(f"error: the results have no calibration benchmark '{CALIBRATION}'")
    missing = [name for name in GUARDED if name not in best]
    if missing:
        raise SystemExit(f"error: the results lack guarded benchmarks: {', '.join(missing)}")
    return {name: best[name] / (beside[name] or best[CALIBRATION]) for name in GUARDED}


def compare(current: dict[str, float], baseline: dict[str, float], tolerance: float) -> tuple[bool, str]:
    """(all within tolerance, a table of baseline, now and change per figure)."""
    rows = [("benchmark (time / calibration)", "baseline", "now", "change", "verdict")]
    ok = True
    for name, now in current.items():
        base = baseline.get(name)
        if base is None:
            rows.append((name, "-", f"{now:.3f}", "-", "new (no baseline)"))
            continue
        change = now / base - 1.0
        verdict = "ok" if change <= tolerance else f"SLOWER than +{tolerance:.0%}"
        ok &= change <= tolerance
        rows.append((name, f"{base:.3f}", f"{now:.3f}", f"{change:+.1%}", verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return ok, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a pytest-benchmark JSON file (--benchmark-json)")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--write-baseline", action="store_true", help="record these figures as the new baseline")
    args = parser.parse_args(argv)
    current = normalised_figures(json.loads(args.results.read_text()))
    if args.write_baseline:
        args.baseline.write_text(
            json.dumps(
                {
                    "figures": current,
                    "note": "benchmark time / bare SimPy loop time, fastest rounds, same session",
                    "recorded": datetime.now(UTC).strftime("%Y-%m-%d"),
                    "python": platform.python_version(),
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {args.baseline}")
        return 0
    if not args.baseline.exists():
        print(f"error: no baseline at {args.baseline}; record one with `make bench-baseline`", file=sys.stderr)
        return 2
    ok, table = compare(current, json.loads(args.baseline.read_text())["figures"], args.tolerance)
    print(table)
    print("benchmark check passed" if ok else "benchmark check FAILED: a figure regressed beyond the tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
