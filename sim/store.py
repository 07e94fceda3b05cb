"""The results dataset of a sweep, on any filesystem pyarrow reaches (a local path, file://, s3://, gs://).

    <uri>/<experiment>/<sweep id>/
        sweep.json                         what was launched, and whether it finished
        summary.parquet                    one row per run, consolidated
        summary/run=<n>/summary.parquet    each run's own row (written last: it marks the run complete)
        orders/run=<n>/orders.parquet      Hive-partitioned: read every run at once
        utilization/run=<n>/utilization.parquet
        stations/run=<n>/stations.parquet
        tours/run=<n>/tours.parquet
        days/run=<n>/days.parquet          one row per day of the run
        runs/<n>/                          the run's Hydra folder (local results only)

Every file is written under a temporary name and moved into place, so an interrupted sweep
leaves no truncated Parquet file; a run whose summary exists with the same `config_hash` is
complete and is skipped when the sweep is launched again.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .io import TEMP_NAME, _atomic, write_parquet_atomic, write_together
from .schema import ConfigError

_ROOT = Path(__file__).resolve().parent.parent
# the project's checkout when running from one (an editable install), else None (an installed wheel)
CHECKOUT = _ROOT if (_ROOT / "pyproject.toml").is_file() and (_ROOT / "configs" / "config.yaml").is_file() else None


def default_results_dir() -> Path:
    """Where sweeps write by default: the checkout's results/, or results/ in the current folder."""
    return (CHECKOUT or Path.cwd()) / "results"


_SWEEP_ID = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_name(key: str, value: str) -> None:
    """A name that becomes a folder (an experiment, a sweep id): letters, digits, '.', '_', '-', no separators, no '..'."""
    if value and (not _NAME.match(value) or ".." in value):
        raise ConfigError(key, value, "expected a plain name: letters, digits, '.', '_' or '-', no '/' and no '..'")


def os_problem(exc: OSError) -> str:
    """An OS error in a few words ('disk full', 'read-only file system', ...)."""
    if exc.errno == errno.ENOSPC:
        return "disk full"
    return (exc.strerror or type(exc).__name__).lower()


def check_writable(key: str, path: str) -> None:
    """Refuse, before anything runs, a folder results cannot be written to: read-only, a file, or not allowed.
    Nothing is left behind (the probe is a temporary file in the nearest folder that exists)."""
    target = Path(path).absolute()
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(key, path, f"cannot write results there: {probe} is not a folder")
    try:
        tempfile.TemporaryFile(dir=probe).close()
    except OSError as exc:
        raise ConfigError(key, path, f"cannot write results there: {os_problem(exc)}") from None


def resolve_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path) for a local path or any URI pyarrow.fs understands."""
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def local_path(uri: str) -> str | None:
    """The local directory a results URI names, or None when it is remote."""
    fs, path = resolve_uri(uri)
    return path if isinstance(fs, pafs.LocalFileSystem) else None


def new_sweep_id(now: dt.datetime | None = None) -> str:
    """Sorts by launch time; the microseconds and a random suffix keep same-second launches apart."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:4]}"


def config_hash(config: dict) -> str:
    """A stable hash of a run's model config (what decides its results)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class SweepStore:
    """Reads and writes one sweep's results dataset."""

    def __init__(self, uri: str, experiment: str, sweep_id: str):
        self.uri, self.experiment, self.sweep_id = uri, experiment, sweep_id
        self.fs, base = resolve_uri(uri)
        self.root = f"{base.rstrip('/')}/{experiment}/{sweep_id}"

    # --- paths ---------------------------------------------------------------------------------
    def table_path(self, table: str, run: int) -> str:
        return f"{self.root}/{table}/run={run}/{table}.parquet"

    def _exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    # --- sweep metadata ------------------------------------------------------------------------
    def write_json(self, name: str, data: dict) -> None:
        text = json.dumps(data, indent=2, sort_keys=True, default=str)

        def write(tmp: str) -> None:
            with self.fs.open_output_stream(tmp) as f:
                f.write(text.encode())

        _atomic(f"{self.root}/{name}", write, self.fs)

    def read_json(self, name: str) -> dict | None:
        path = f"{self.root}/{name}"
        if not self._exists(path):
            return None
        with self.fs.open_input_stream(path) as f:
            return json.loads(f.read().decode())

    # --- one run -------------------------------------------------------------------------------
    def write_table(self, table_name: str, run: int, table: pa.Table) -> None:
        write_parquet_atomic(table, self.table_path(table_name, run), self.fs)

    def write_run(self, run: int, writes: list[tuple[str, object]]) -> None:
        """A run's tables (name, write) together or not at all; list `summary` last: it marks the run complete."""
        write_together([(self.table_path(name, run), write) for name, write in writes], self.fs)

    def remove_temporaries(self) -> int:
        """Delete the temporary files a killed run left (`.<name>.tmp-<pid>-<hex>`); returns how many."""
        selector = pafs.FileSelector(self.root, allow_not_found=True, recursive=True)
        stale = [i.path for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File and TEMP_NAME.match(i.base_name)]
        for path in stale:
            self.fs.delete_file(path)
        return len(stale)

    def run_rows(self, run: int) -> list[dict[str, Any]]:
        """A run's summary rows (one, or one per replication of a search trial)."""
        path = self.table_path("summary", run)
        if not self._exists(path):
            return []
        return pq.read_table(path, filesystem=self.fs).to_pylist()

    def run_summary(self, run: int) -> dict[str, Any] | None:
        rows = self.run_rows(run)
        return rows[0] if rows else None

    def is_complete(self, run: int, config_hash_: str) -> bool:
        """The run finished before with the same config (a failed or half-written run is redone)."""
        row = self.run_summary(run)
        return bool(row) and row.get("status") == "ok" and row.get("config_hash") == config_hash_

    # --- the whole sweep -----------------------------------------------------------------------
    def run_numbers(self) -> list[int]:
        return sorted(self._summary_files())

    def _summary_files(self) -> dict[int, int]:
        """Run number -> modification time (ns) of each run's summary file, from one listing of summary/."""
        selector = pafs.FileSelector(f"{self.root}/summary", allow_not_found=True, recursive=True)
        files = {}
        for info in self.fs.get_file_info(selector):
            parent = info.path.rstrip("/").rsplit("/", 2)
            if info.type == pafs.FileType.File and info.base_name == "summary.parquet" and parent[-2].startswith("run="):
                files[int(parent[-2].split("=", 1)[1])] = info.mtime_ns or 0
        return files

    def read_summaries(self, cache: SummaryCache) -> list[int]:
        """Bring `cache` up to date, reading only the summary files that are new or changed since; returns the runs
        with a summary, sorted. Progress polls stay cheap as runs pile up."""
        runs = sorted(self._summary_files().items())
        for run, mtime in runs:
            known = cache.runs.get(run)
            if known is None or known.mtime_ns != mtime:
                path = self.table_path("summary", run)
                try:
                    table = pq.ParquetFile(path, filesystem=self.fs).read()
                except (OSError, pa.ArrowException) as exc:
                    raise OSError(f"cannot read {path}: {exc}") from exc
                table = table.add_column(0, "run", pa.array([run] * table.num_rows, pa.int64()))
                cache.put(run, RunSummary(mtime, table, "failed" in table.column("status").to_pylist()))
        return [run for run, _ in runs]

    def summary_table(self, cache: SummaryCache | None = None) -> pa.Table:
        """Every run's summary rows, with `run`, sorted by run, stacked as `stack_summaries` does. `cache`: see
        `read_summaries`."""
        cache = SummaryCache() if cache is None else cache
        self.read_summaries(cache)
        return cache.table()

    def consolidate(self, table: pa.Table | None = None) -> pa.Table:
        """Write summary.parquet from the runs' own summaries (`summary_table`, or the one given), atomically; return it."""
        table = self.summary_table() if table is None else table
        meta = dict(table.schema.metadata or {})
        meta.update({b"sim.table": b"summary", b"sim.sweep_id": self.sweep_id.encode(), b"sim.experiment": self.experiment.encode()})
        write_parquet_atomic(table.replace_schema_metadata(meta), f"{self.root}/summary.parquet", self.fs)
        return table


class RunSummary(NamedTuple):
    """A run's summary file as the launching process last read it."""

    mtime_ns: int
    table: pa.Table  # its rows (one, or one per replication of a search trial), `run` first
    failed: bool  # a row of it failed

    @property
    def first_error(self) -> str:
        """The error of its first failed row."""
        rows = self.table.select(["status", "error"]).to_pylist()
        return next(row["error"] for row in rows if row["status"] == "failed")


class SummaryCache:
    """The launching process's copy of the runs' summaries: each file read once. While every run has the same
    columns, their combined table is extended by the runs read since it was last asked for; otherwise it is stacked
    afresh in run order, so it is what reading every file afresh gives."""

    def __init__(self) -> None:
        self.runs: dict[int, RunSummary] = {}
        self._table: pa.Table | None = None  # the runs of `_combined`, one chunk, sorted by run
        self._combined: set[int] = set()
        self._uniform = False  # every run of `_table` has the same columns

    def put(self, run: int, summary: RunSummary) -> None:
        if run in self._combined:  # a run redone while the sweep runs
            self._table, self._combined = None, set()
        self.runs[run] = summary

    def table(self) -> pa.Table:
        """Every run's rows, `run` first, sorted by run."""
        new = sorted(set(self.runs) - self._combined)
        if not new and self._table is not None:
            return self._table
        if not self.runs:
            return pa.table({"run": pa.array([], pa.int64())})
        table = None
        if self._uniform and self._table is not None:
            try:  # the usual sweep: the new runs have the same columns too
                table = pa.concat_tables([self._table] + [self.runs[run].table for run in new])
            except pa.ArrowInvalid:
                pass
        if table is None:
            table, self._uniform = stack_summaries([self.runs[run].table for run in sorted(self.runs)])
        self._table = table.combine_chunks().sort_by("run")
        self._combined = set(self.runs)
        return self._table


def stack_summaries(tables: list[pa.Table]) -> tuple[pa.Table, bool]:
    """Summary tables stacked in the order given, and whether they all had the same columns. A column some lack is
    null there; an integer column that is fractional elsewhere becomes double; a column the runs typed
    irreconcilably (a bad swept value: `abc` where the others have numbers) becomes text."""
    try:
        return pa.concat_tables(tables), True
    except pa.ArrowInvalid:
        pass
    try:
        return pa.concat_tables(tables, promote_options="permissive"), False
    except pa.ArrowTypeError:
        types: dict[str, set] = {}
        for table in tables:
            for field in table.schema:
                types.setdefault(field.name, set()).add(field.type)
        as_text = {name for name, seen in types.items() if not _unify([pa.schema([(name, t)]) for t in seen])}
        tables = [_with_text_columns(table, as_text) for table in tables]
        return pa.concat_tables(tables, promote_options="permissive"), False


def _unify(schemas: list[pa.Schema]) -> bool:
    try:
        pa.unify_schemas(schemas, promote_options="permissive")
        return True
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False


def _with_text_columns(table: pa.Table, names: set[str]) -> pa.Table:
    for i, field in enumerate(table.schema):
        if field.name in names and field.type != pa.string():
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


def list_sweeps(uri: str, experiment: str) -> list[str]:
    """Sweep ids of an experiment, oldest first."""
    fs, base = resolve_uri(uri)
    selector = pafs.FileSelector(f"{base.rstrip('/')}/{experiment}", allow_not_found=True)
    ids = [i.base_name for i in fs.get_file_info(selector) if i.type == pafs.FileType.Directory and _SWEEP_ID.match(i.base_name)]
    return sorted(ids)


def sweep_to_resume(uri: str, experiment: str, signature: str) -> str | None:
    """The latest sweep of this experiment launched with the same overrides, if any."""
    for sweep_id in reversed(list_sweeps(uri, experiment)):
        meta = SweepStore(uri, experiment, sweep_id).read_json("sweep.json") or {}
        if meta.get("signature") == signature:
            return sweep_id
    return None
