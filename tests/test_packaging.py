"""The wheel carries the Hydra configs and the experiments: an installed (non-editable) copy runs from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_OVERRIDES

ROOT = Path(__file__).resolve().parent.parent
SMALL = SMALL_OVERRIDES


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package as a wheel installs it: built with pip, unpacked into a folder of its own."""
    source, build = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("sim", "configs", "experiments"):  # a copy, so the build leaves nothing in the checkout
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(build), str(source)], check=True)
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(next(build.glob("sim-*.whl"))) as wheel:
        wheel.extractall(site)
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_wheel_carries_configs_and_experiments(installed):
    configs = installed / "sim" / "hydra_configs"
    assert (configs / "config.yaml").is_file()
    assert {p.stem for p in (configs / "experiment").glob("*.yaml")} >= {"smoke", "cutoff_capacity", "on_demand"}


@pytest.mark.slow
def test_an_installed_copy_runs_and_sweeps_from_another_folder(installed, tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", "import sim.cli; print(sim.cli.CONFIG_DIR)"],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(installed)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().startswith(str(installed)), "the installed copy reads its own configs"
    run = _run(installed, tmp_path, *SMALL, "hydra.run.dir=run", "cutoff=regional")
    assert run.returncode == 0, run.stderr
    assert pd.read_parquet(tmp_path / "run" / "summary.parquet")["cutoff.name"].iloc[0] == "regional"
    sweep = _run(installed, tmp_path, "+experiment=smoke", "seed=1", "capacity.couriers_per_station=5")
    assert sweep.returncode == 0, sweep.stderr
    summaries = list((tmp_path / "results" / "smoke").glob("*/summary.parquet"))
    assert len(summaries) == 1 and len(pd.read_parquet(summaries[0])) == 2, "results/ of the current folder"
