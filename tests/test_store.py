"""The sweep results store: per-run partitions, completeness, consolidation, finding the sweep to resume."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from sim.store import SweepStore, config_hash, list_sweeps, local_path, new_sweep_id, sweep_to_resume


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
    frame = store.consolidate()
    assert frame["run"].tolist() == [0, 1]
    written = pd.read_parquet(tmp_path / "exp" / store.sweep_id / "summary.parquet")
    assert written["cutoff.time"].isna().tolist() == [True, False]


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
