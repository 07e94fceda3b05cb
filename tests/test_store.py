"""The sweep results store: per-run partitions, completeness, consolidation, finding the sweep to resume."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.store import SummaryCache, SweepStore, config_hash, list_sweeps, local_path, new_sweep_id, sweep_to_resume


def summary_row(status="ok", digest="abc", **extra) -> pa.Table:
    return pa.table({"status": [status], "config_hash": [digest], "error": [""], **{k: [v] for k, v in extra.items()}})


def test_partitions_and_completeness(tmp_path):
    store = SweepStore(str(tmp_path), "exp", new_sweep_id())
    assert not store.is_complete(0, "abc")
    store.write_table("summary", 0, summary_row())
    store.write_table("summary", 1, summary_row(status="failed"))
    assert store.is_complete(0, "abc")
    assert not store.is_complete(0, "other"), "a changed config is not the same run"
    assert not store.is_complete(1, "abc"), "a failed run is redone"
    assert store.run_numbers() == [0, 1]
    assert (tmp_path / "exp" / store.sweep_id / "summary" / "run=0" / "summary.parquet").exists()


def test_consolidate_unions_columns(tmp_path):
    store = SweepStore(f"file://{tmp_path}", "exp", new_sweep_id())
    store.write_table("summary", 1, summary_row(**{"cutoff.name": "fixed", "cutoff.time": "11:00"}))
    store.write_table("summary", 0, summary_row(**{"cutoff.name": "none"}))
    assert store.consolidate().column("run").to_pylist() == [0, 1]
    written = pd.read_parquet(tmp_path / "exp" / store.sweep_id / "summary.parquet")
    assert written["cutoff.time"].isna().tolist() == [True, False]


def test_consolidated_summary_keeps_the_runs_types(tmp_path):
    """summary.parquet holds the runs' own columns: NaN stays NaN (not null), strings stay strings, and an integer
    column that is fractional in another run becomes double."""
    store = SweepStore(str(tmp_path), "exp", new_sweep_id())
    store.write_table("summary", 0, summary_row(kpi=float("nan"), level=10))
    store.write_table("summary", 1, summary_row(kpi=0.5, level=12.5))
    store.consolidate()
    written = pq.read_table(tmp_path / "exp" / store.sweep_id / "summary.parquet")
    assert written.schema.field("kpi").type == pa.float64() and written.column("kpi").null_count == 0
    assert written.column("level").to_pylist() == [10.0, 12.5]
    assert written.schema.field("status").type == pa.string()
    assert written.schema.metadata[b"sim.table"] == b"summary"


def test_summary_cache_reads_each_file_once(tmp_path):
    """Progress polls read only new or rewritten summaries; the combined table follows, sorted by run."""
    store = SweepStore(str(tmp_path), "exp", new_sweep_id())
    cache = SummaryCache()
    store.write_table("summary", 3, summary_row())
    store.write_table("summary", 1, summary_row(status="failed"))
    assert store.read_summaries(cache) == [1, 3]
    first = dict(cache.runs)
    assert cache.runs[1].failed and not cache.runs[3].failed
    assert cache.table().column("run").to_pylist() == [1, 3]
    store.write_table("summary", 2, summary_row())
    assert store.read_summaries(cache) == [1, 2, 3]
    assert cache.runs[1] is first[1] and cache.runs[3] is first[3], "files already read are not read again"
    assert cache.table().column("run").to_pylist() == [1, 2, 3]
    path = store.table_path("summary", 1)
    store.write_table("summary", 1, summary_row())  # redone: ok now
    os.utime(path, ns=(first[1].mtime_ns + 10**9, first[1].mtime_ns + 10**9))
    store.read_summaries(cache)
    assert not cache.runs[1].failed
    table = cache.table()
    assert table.column("status").to_pylist() == ["ok", "ok", "ok"] and table.num_rows == 3
    assert store.summary_table().equals(table), "the cache gives what reading every file afresh gives"


def test_summary_cache_gives_the_columns_in_run_order_whatever_the_order_runs_finish(tmp_path):
    """A failed run (no KPI columns) read before the runs ahead of it: the combined table is still what reading
    every file afresh gives, the KPI first as in run 0's file."""
    store = SweepStore(str(tmp_path), "exp", new_sweep_id())
    cache = SummaryCache()
    failed = pa.table({"status": ["failed"], "config_hash": [""], "error": ["bad value"], "level": ["abc"]})
    store.write_table("summary", 2, failed)
    store.read_summaries(cache)
    cache.table()
    store.write_table("summary", 0, summary_row(kpi=0.9, level=5))
    store.write_table("summary", 1, summary_row(kpi=0.8, level=6))
    store.read_summaries(cache)
    table = cache.table()
    assert table.equals(store.summary_table())
    assert table.column_names[:3] == ["run", "status", "config_hash"] and table.column_names.index("kpi") < 6
    assert table.column("level").to_pylist() == ["5", "6", "abc"], "a column the runs typed differently is text"
    assert table.column("kpi").to_pylist() == [0.9, 0.8, None]


def test_json_metadata_round_trip(tmp_path):
    store = SweepStore(str(tmp_path), "exp", new_sweep_id())
    assert store.read_json("sweep.json") is None
    store.write_json("sweep.json", {"signature": "s1", "finished": False})
    assert store.read_json("sweep.json")["signature"] == "s1"


def test_latest_matching_sweep_is_resumed(tmp_path):
    uri = str(tmp_path)
    ids = [new_sweep_id() for _ in range(3)]
    for sweep_id, signature in zip(ids, ["a", "b", "a"]):
        SweepStore(uri, "exp", sweep_id).write_json("sweep.json", {"signature": signature})
    (tmp_path / "exp" / "not-a-sweep").mkdir()
    assert list_sweeps(uri, "exp") == ids
    assert sweep_to_resume(uri, "exp", "a") == ids[2]
    assert sweep_to_resume(uri, "exp", "b") == ids[1]
    assert sweep_to_resume(uri, "exp", "c") is None
    assert sweep_to_resume(uri, "nothing", "a") is None


def test_config_hash_is_stable_and_sensitive():
    a = {"seed": 1, "capacity": {"pickers": 10}}
    assert config_hash(a) == config_hash({"capacity": {"pickers": 10}, "seed": 1})
    assert config_hash(a) != config_hash({"seed": 2, "capacity": {"pickers": 10}})


def test_local_path_of_uris(tmp_path):
    assert local_path(str(tmp_path)) == str(tmp_path)
    assert local_path(f"file://{tmp_path}") == str(tmp_path)
