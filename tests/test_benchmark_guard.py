"""The CI benchmark guard fails on a slowed-down figure and passes within tolerance."""

from __future__ import annotations

import json

import pytest

from benchmarks.guard import CALIBRATION, GUARDED, main


def results(calibration: float, **mins: float) -> dict:
    entries = [{"name": CALIBRATION, "stats": {"min": calibration}}]
    entries += [{"name": name, "stats": {"min": mins.get(name, 0.5)}} for name in GUARDED]
    return {"benchmarks": entries}


@pytest.fixture
def baseline(tmp_path):
    path = tmp_path / "baseline.json"
    run = tmp_path / "run.json"
    run.write_text(json.dumps(results(0.1)))
    assert main([str(run), "--baseline", str(path), "--write-baseline"]) == 0
    return path


def test_same_figures_pass(tmp_path, baseline, capsys):
    run = tmp_path / "now.json"
    # a machine twice as slow everywhere: normalised figures unchanged
    run.write_text(json.dumps(results(0.2, **{name: 1.0 for name in GUARDED})))
    assert main([str(run), "--baseline", str(baseline)]) == 0
    assert "passed" in capsys.readouterr().out


def test_slowed_figure_fails_with_a_table(tmp_path, baseline, capsys):
    run = tmp_path / "now.json"
    run.write_text(json.dumps(results(0.1, **{GUARDED[1]: 0.5 * 1.4})))
    assert main([str(run), "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and GUARDED[1] in out and "+40.0%" in out and "SLOWER" in out


def test_within_tolerance_passes(tmp_path, baseline):
    run = tmp_path / "now.json"
    run.write_text(json.dumps(results(0.1, **{GUARDED[0]: 0.5 * 1.2})))
    assert main([str(run), "--baseline", str(baseline)]) == 0


def test_missing_baseline_is_an_error(tmp_path):
    run = tmp_path / "now.json"
    run.write_text(json.dumps(results(0.1)))
    assert main([str(run), "--baseline", str(tmp_path / "none.json")]) == 2


def test_the_calibration_beside_a_benchmark_normalises_it(tmp_path, baseline):
    """A host that slowed down after the session's calibration ran: the loop run beside the benchmark says so."""
    slow = results(0.1, **{name: 0.5 * 1.8 for name in GUARDED})
    for entry in slow["benchmarks"][1:]:
        entry["extra_info"] = {"calibration_s": 0.1 * 1.8}
    run = tmp_path / "now.json"
    run.write_text(json.dumps(slow))
    assert main([str(run), "--baseline", str(baseline)]) == 0
    for entry in slow["benchmarks"][1:]:
        del entry["extra_info"]
    run.write_text(json.dumps(slow))
    assert main([str(run), "--baseline", str(baseline)]) == 1
