"""Parquet output: the documented tables of a run, written atomically with a schema version.

See docs/schema.md for every column. Times are Arrow timestamps (ms) on the clock of
`start_date`, so analysts can group by hour without arithmetic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .demand import CATEGORY_NAMES, SOURCE_NAMES, TIER_NAMES, OrderTable

SCHEMA_VERSION = "1"

# (column in orders.parquet, OrderTable attribute) for the timestamp columns, in chain order
TIMESTAMP_COLUMNS = (
    ("created", "created"), ("promised_by", "promised_by"), ("picked", "picked"),
    ("arrived_sort", "arrived_sort"), ("sorted", "sorted"), ("departed", "departed"),
    ("arrived_station", "arrived_station"), ("out_for_delivery", "out_for_delivery"), ("delivered", "delivered"),
)


def _metadata(table_name: str, version: str) -> dict[bytes, bytes]:
    return {b"sim.schema_version": SCHEMA_VERSION.encode(), b"sim.table": table_name.encode(),
            b"sim.version": version.encode()}


def _timestamps(minutes: np.ndarray, start_ms: int) -> pa.Array:
    nan = np.isnan(minutes)
    ms = np.where(nan, 0.0, minutes) * 60_000.0
    return pa.array(np.rint(ms).astype(np.int64) + start_ms, type=pa.timestamp("ms"), mask=nan)


def _labels(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
    mask = codes < 0
    indices = pa.array(codes.astype(np.int32), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string()))


def orders_to_arrow(o: OrderTable, start_date: str, regions: list[str], hit: np.ndarray, version: str) -> pa.Table:
    """One row per order (see docs/schema.md)."""
    start_ms = int(np.datetime64(start_date, "ms").astype(np.int64))
    station = o.station.astype(np.int16)
    columns: dict[str, Any] = {
        "order_id": pa.array(np.arange(len(o), dtype=np.int64)),
        "region": _labels(o.region, regions),
        "zone": pa.array(o.zone, mask=o.zone < 0),
        "station": pa.array(station, mask=station < 0),
        "category": _labels(o.category, CATEGORY_NAMES),
        "source": _labels(o.source, SOURCE_NAMES),
        "tier": _labels(o.tier, TIER_NAMES),
    }
    for col, attr in TIMESTAMP_COLUMNS:
        columns[col] = _timestamps(getattr(o, attr), start_ms)
    columns["attempts"] = pa.array(o.attempts)
    columns["hit"] = pa.array(hit == 1, mask=hit < 0)
    table = pa.table(columns)
    return table.replace_schema_metadata(_metadata("orders", version))


def summary_to_arrow(row: dict[str, Any], version: str) -> pa.Table:
    """The one-row summary: KPIs, the flattened config, and run facts."""
    arrays, names = [], []
    for key, value in row.items():
        if isinstance(value, (bool, np.bool_)):
            arr = pa.array([bool(value)], pa.bool_())
        elif isinstance(value, (int, np.integer)):
            arr = pa.array([int(value)], pa.int64())
        elif isinstance(value, (float, np.floating)):
            arr = pa.array([float(value)], pa.float64())
        elif value is None:
            arr = pa.array([None], pa.string())
        else:
            arr = pa.array([str(value)], pa.string())
        arrays.append(arr)
        names.append(key)
    table = pa.Table.from_arrays(arrays, names=names)
    return table.replace_schema_metadata(_metadata("summary", version))


def write_parquet_atomic(table: pa.Table, path: str | os.PathLike) -> Path:
    """Write to a temporary name beside `path`, then rename: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def schema_version(path: str | os.PathLike) -> str:
    """The schema version recorded in a Parquet file written by this package."""
    meta = pq.read_schema(path).metadata or {}
    return meta.get(b"sim.schema_version", b"").decode()
