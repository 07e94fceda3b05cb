"""Bad input, as a hostile user gives it: every bad override is one line naming the key, exit code 2, nothing written.

The table-driven and generated cases run in-process through `sim.cli.check_launch` (what `python -m sim`
does before Hydra starts anything); a handful of end-to-end cases run the real command.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from conftest import SMALL_OVERRIDES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.cli
from sim.config import SimConfig
from sim.schema import CEILING, ConfigError, TimeOfDay

ROOT = Path(__file__).resolve().parent.parent
SMALL = SMALL_OVERRIDES


@pytest.fixture(scope="module", autouse=True)
def _registered():
    sim.cli._register_base()


def _leaves(cls: type, prefix: str = ""):
    """(dotted key, type, limits) of every scalar or list-of-scalars field an override can set."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key, tp = f"{prefix}.{f.name}" if prefix else f.name, hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from _leaves(tp, key)
        elif key not in ("validation", "cutoff") and typing.get_origin(tp) is not list:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            yield key, (args[0] if args else tp), dict(f.metadata)


def _bad_values(tp: type, meta: dict) -> list[str]:
    if tp is TimeOfDay:
        return ["25:00", "9:60", "noon"]
    if tp is bool:
        return ["maybe", "2"]
    if tp is str:
        return ["[1,2]"] if meta.get("choices") is None else ["no_such_choice", "[1,2]"]
    if tp in (int, float):
        values = ["nan", "inf", "abc"]
        if meta.get("le") is None and meta.get("lt") is None:
            values.append(f"{CEILING * 10:g}")
        if meta.get("ge") is not None or meta.get("gt") is not None:
            values.append(str(float(meta.get("ge") if meta.get("ge") is not None else meta["gt"]) - 1.5))
        if meta.get("le") is not None:
            values.append(repr(float(meta["le"]) * 2 + 1))
        if tp is int:
            values.append("2.5")
        return values
    return []


CASES = [(key, value) for key, tp, meta in _leaves(SimConfig) for value in _bad_values(tp, meta)]
CASES += [
    ("capacity.pickers", "1e12"),
    ("capacity.couriers_per_station", "1000000000000000000000000000000"),
    ("capacity.truck_capacity", "10000000000000000000"),
    ("seed", "1e30"),
    ("seed", "9223372036854775808"),
    ("demand.orders_per_day", "1e12"),
    ("output.sample_min", "1e-9"),
    ("capacity.pickers", "${oops}"),
    ("capacity.pickers", "${oc.env:NO_SUCH_VAR_FOR_SIM}"),
    ("services.parcel_centre.pickup_sla_h", "nan"),
    ("services.parcel_centre.pickup_sla_h", "{warehouse:nan,merchant:12}"),
    ("services.parcel_centre.dispatch_sla_h", "inf"),
    ("services.on_demand.slots", "[25:00-26:00]"),
    ("services.on_demand.slots", "[12:00-09:00]"),
    ("demand.hourly_profile", "[1,2,3]"),
    ("demand.hourly_profile", "[nan,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]"),
    ("demand.weekday_factors", "[1,1,1]"),
    ("demand.weekday_factors", "[1,1,1,1,1,2,2]"),
    ("demand.weekday_factors", "[1,1,1,1,1,2,-0.01]"),
    ("demand.daily_cv", "-0.1"),
    ("demand.profile_cv", "-0.1"),
    ("demand.calendar", "[{date:2026-13-01,factor:2}]"),
    ("demand.calendar", "[{date:11-11,factor:2}]"),
    ("demand.calendar", "[{date:20261111,factor:2}]"),
    ("demand.calendar", "[{factor:2}]"),
    ("demand.calendar", "[{date:2026-03-03,factor:-1}]"),
    ("demand.calendar", "[{date:2026-03-03,profile:[1,2,3]}]"),
    ("demand.calendar", "[{date:2026-03-03,profile:[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]"),
    ("demand.calendar", "[{date:2026-03-03},{date:2026-03-03}]"),
    ("demand.calendar", "[{date:2026-03-03,when:noon}]"),
    ("demand.bursts.duration_min", "0"),
    ("demand.bursts", "[1]"),
    ("demand.hourly_profile", "{a:1}"),
    ("demand.response.conversion", "1.5"),
    ("demand.response.tier_factors", "[1,1]"),
    ("demand.returns.rate", "-0.1"),
    ("economics.order_value_cny", "-1"),
    ("promise.day_end", "00:00"),
    ("cutoff", "5"),
    ("cutoff", "nosuchpolicy"),
    ("city.sorting_centres", "[{name:a,x_km:0,y_km:0},{name:a,x_km:8,y_km:8}]"),
    ("city.sorting_centres", "[{name:a,x_km:0,y_km:0},{name:b,x_km:100,y_km:100}]"),
    ("city.sorting_centres", "[{name:a,x_km:nan,y_km:0}]"),
    ("city.sorting_centres", "[{name:a,x_km:0,y_km:0,capacity:3}]"),
    ("capacity.pickers", "[1,2"),
    ("capacity.pickers", "1,2"),
]


@pytest.mark.parametrize("key,value", CASES, ids=[f"{k}={v}" for k, v in CASES])
def test_each_bad_override_is_one_line_naming_its_key(key, value):
    with pytest.raises(ConfigError) as info:
        sim.cli.check_launch([*SMALL, f"{key}={value}"])
    message = str(info.value)
    assert "\n" not in message
    assert info.value.key.split("[")[0].startswith(key.split(".")[0]), message  # a key, not "overrides"
    assert key.split(".")[-1] in message or key in message, message


def test_a_swept_option_or_key_that_cannot_compose_names_itself():
    """A sweep's jobs are composed up front only for each swept group option (other swept keys at their first value)."""
    with pytest.raises(ConfigError, match="'cutoff' has bad value 'bogus'"):
        sim.cli.check_launch([*SMALL, "-m", "seed=1,2", "cutoff=fixed,regional,bogus"])
    with pytest.raises(ConfigError, match="'cutoff.time' has bad value '10:00'"):
        sim.cli.check_launch([*SMALL, "-m", "cutoff=fixed,dynamic", "cutoff.time=10:00,11:00"])


def test_a_grid_sweep_composes_one_job_per_swept_option():
    jobs = sim.cli._sweep_jobs_to_check(
        ["-m", "cutoff=fixed,dynamic", "seed=range(1,41)", "capacity.pickers=100"],
        sim.cli._compose(["capacity.pickers=100"]),
        lambda group: ["dynamic", "fixed"] if group == "cutoff" else [],
    )
    assert jobs == [["cutoff=fixed", "seed=1", "capacity.pickers=100"], ["cutoff=dynamic", "seed=1", "capacity.pickers=100"]]


def test_there_are_enough_cases():
    assert len(CASES) >= 200


@pytest.mark.parametrize(
    "argv",
    [
        ["cutoff.time=14:00", "promise.day_end=10:00"],
        ["~cutoff.time", "+cutoff._target_=sim.policies.CutoffPolicy"],
        ["cutoff=regional", "cutoff.times.atlantis=10:00"],
        ["services.fresh.cutoff=23:00"],
        ["-m", "seed=1,2", "capacity.pickers=${oops}"],
        ["-m", "seed=1", "results.experiment=../../escaped"],
        ["-m", "seed=1", "results.sweep_id=../../../sid"],
        ["-m", "seed=1", "results.uri=/proc/sim-results"],
        ["hydra.run.dir=/proc/sim-run"],
        ["hydra.run.dir=/etc/hostname/run"],
        ["+validation=mmc", "validation.servers=1e12"],
        ["+validation=tandem", "validation.servers=[4,2]"],
        ["demand.orders_per_day=50000000", "horizon_days=300"],
        ["demand.orders_per_day=5000000", "horizon_days=300", "demand.calendar=[{date:2026-03-10,factor:100}]"],
        ["demand.bursts.per_day=1000", "demand.bursts.orders_mean=1000000"],
        ["-m", "cutoff=fixed,bogus"],
        ["-m", "seed=1,2", "capacity.bogus=1,2"],
        ["-m", "cutoff=fixed,dynamic", "cutoff.time=10:00"],
        ["-m", "+experiment=smoke", "cutoff=fixed,nope"],
    ],
)
def test_inconsistent_or_unwritable_launches_are_refused(argv):
    with pytest.raises(ConfigError) as info:
        sim.cli.check_launch([*SMALL, *argv])
    assert "\n" not in str(info.value)


KEYS = [key for key, _, _ in _leaves(SimConfig)]
JUNK = st.one_of(
    st.sampled_from(["nan", "inf", "-1e308", "1e308", "-0", "[]", "{}", "null", "''", "1,2", "${x}", "[1,", "a b"]),
    st.text(alphabet="0123456789:.-e+abc", max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=JUNK)
def test_any_override_is_accepted_or_one_clear_line(key, value):
    """Whatever value lands on whatever key, the launch check either accepts it or says why in one line."""
    try:
        sim.cli.check_launch([*SMALL, f"{key}={value}"])
    except ConfigError as exc:
        assert "\n" not in str(exc)


# --- end to end: the real command ------------------------------------------------------------------------


def _sim(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["capacity.pickers=1e12"],
        ["capacity.pickers=${oops}"],
        ["cutoff=5"],
        ["demand.weekday_factors=[1,1,1]"],
        ["city.sorting_centres=[{name:a,x_km:0,y_km:0},{name:b,x_km:100,y_km:100}]"],
        ["capacity.pickers=1,2"],
        ["-m", "seed=1,2", "capacity.pickers=${oops}"],
        ["-m", "seed=1", "results.experiment=../../escaped"],
        ["-m", "cutoff=fixed,dynamic", "cutoff.time=10:00"],
    ],
)
def test_the_command_prints_one_line_exits_2_and_writes_nothing(tmp_path, args):
    flags = [a for a in args if a.startswith("-")]
    proc = _sim(
        tmp_path,
        *flags,
        *SMALL,
        *[a for a in args if a not in flags],
        f"results.uri={tmp_path / 'results'}",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert _files(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a,b", "with space", "it's", 'say "x"', "cost$5", "a;b", "结果"])
def test_any_results_path_is_safe_in_a_sweep(tmp_path, name):
    uri = tmp_path / name
    proc = _sim(tmp_path, "-m", *SMALL, "seed=1,2", f"results.uri={sim.cli.quoted(str(uri))}", "hydra.launcher.n_jobs=1")
    assert proc.returncode == 0, proc.stderr
    sweeps = list((uri / "adhoc").glob("*/summary.parquet"))
    assert len(sweeps) == 1, _files(tmp_path)
    import pandas as pd

    assert len(pd.read_parquet(sweeps[0])) == 2
    assert [p for p in tmp_path.iterdir() if p != uri] == [], "nothing written beside the results folder"


@pytest.mark.slow
def test_temporaries_of_a_killed_launch_are_removed_on_resume(tmp_path):
    args = ["-m", *SMALL, "seed=1", f"results.uri={tmp_path}", "hydra.launcher.n_jobs=1"]
    assert _sim(tmp_path, *args).returncode == 0
    sweep = next(p for p in (tmp_path / "adhoc").iterdir() if p.is_dir())
    stale = sweep / "orders" / "run=0" / ".orders.parquet.tmp-12345-0123abcd"
    stale.write_bytes(b"half a file")
    assert _sim(tmp_path, *args).returncode == 0
    assert not stale.exists()


@pytest.mark.slow
def test_a_failing_run_is_one_line_on_the_console_and_its_traceback_in_its_log(tmp_path):
    proc = _sim(tmp_path, "-m", *SMALL, "capacity.pickers=-1,6", f"results.uri={tmp_path}", "hydra.launcher.n_jobs=1")
    assert proc.returncode == 1
    lines = (proc.stdout + proc.stderr).splitlines()
    assert "Traceback" not in proc.stdout + proc.stderr
    assert sum("run 0 failed" in line for line in lines) == 1
    log = next((tmp_path / "adhoc").glob("*/runs/0/*.log")).read_text()
    assert "Traceback" in log and "capacity.pickers" in log


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "900k"):
        pytest.skip("needs root and tmpfs to make a small disk")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_no_result_files(small_disk):
    proc = _sim(small_disk.parent, *SMALL, f"hydra.run.dir={small_disk / 'run'}", "horizon_days=20", "output.progress=false")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: disk full while writing"), proc.stderr
    assert not [p for p in _files(small_disk / "run") if p.suffix == ".parquet" or ".tmp-" in p.name]


@pytest.mark.slow
def test_a_sweep_on_a_full_disk_keeps_the_others_and_a_resume_redoes_the_rest(small_disk, tmp_path):
    # Hydra's own bookkeeping (each run's .hydra/ and log file) is kept off the small disk: if the disk fills
    # while Hydra itself writes, its traceback shows (exit 1, the run redone on resume): a known limit
    args = ["-m", *SMALL, "seed=1,2,3,4", "hydra.launcher.n_jobs=1", "hydra.output_subdir=null", "hydra/job_logging=stdout"]
    proc = _sim(tmp_path, *args, f"results.uri={small_disk}")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    done = {p.parent.name for p in small_disk.glob("adhoc/*/summary/run=*/summary.parquet")}
    assert 0 < len(done) <= 4
    # the same sweep on a roomier disk: copy the results there and launch again
    roomy = tmp_path / "roomy"
    subprocess.run(["cp", "-a", str(small_disk), str(roomy)], check=True)
    again = _sim(tmp_path, *args, f"results.uri={roomy}")
    assert again.returncode == 0, again.stderr
    import pandas as pd

    summary = pd.read_parquet(next(roomy.glob("adhoc/*/summary.parquet")))
    assert sorted(summary["run"]) == [0, 1, 2, 3] and (summary["status"] == "ok").all()
