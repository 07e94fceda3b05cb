"""Parquet output: the documented tables of a run, written atomically with a schema version.

See docs/schema.md for every column. Times are Arrow timestamps (ms) on the clock of
`start_date`, so analysts can group by hour without arithmetic.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .records import CATEGORY_NAMES, SOURCE_NAMES, TIER_NAMES, OrderTable

SCHEMA_VERSION = "5"  # 2: service columns in orders, alerts.parquet; 3: slot_start/slot_end, the pickup stage, servers at
# work; 4: stations.parquet, tours.parquet, territories, overtime and the cost of the work; 5: days.parquet, shoppers who
# did not buy (gaps in order_id), customer returns, money

# (column in orders.parquet, OrderTable attribute) for the timestamp columns, in chain order
TIMESTAMP_COLUMNS = (
    ("created", "created"),
    ("promised_by", "promised_by"),
    ("picked", "picked"),
    ("arrived_sort", "arrived_sort"),
    ("sorted", "sorted"),
    ("departed", "departed"),
    ("arrived_station", "arrived_station"),
    ("out_for_delivery", "out_for_delivery"),
    ("delivered", "delivered"),
)


def _metadata(table_name: str, version: str) -> dict[bytes, bytes]:
    return {b"sim.schema_version": SCHEMA_VERSION.encode(), b"sim.table": table_name.encode(), b"sim.version": version.encode()}


def _array(values: Any, mask: np.ndarray | None = None, type: pa.DataType | None = None) -> pa.Array:
    """An Arrow array straight from a numpy array's buffer (or from a list of strings). `pa.array` would do the same but
    first imports pandas to check what it was given: about 0.3 s of every run's start-up."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        return _strings([str(v) for v in values])
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        arrow_type, data = pa.bool_(), pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        arrow_type, data = type or pa.from_numpy_dtype(values.dtype), pa.py_buffer(values)
    nulls = int(mask.sum()) if mask is not None else 0
    validity = pa.py_buffer(np.packbits(~mask, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(arrow_type, len(values), [validity, data], null_count=nulls)


def _strings(values: list[str | None]) -> pa.Array:
    """Strings (None for null) as an Arrow string array, built from its offsets and bytes."""
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    nulls = np.array([v is None for v in values], dtype=bool)
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers, null_count=int(nulls.sum()))


def _dictionary_encoded(values: np.ndarray) -> pa.DictionaryArray:
    """Strings dictionary-encoded in order of first appearance (as Arrow's `dictionary_encode` does)."""
    unique, first, inverse = np.unique(np.asarray(values), return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return pa.DictionaryArray.from_arrays(_array(rank[inverse].astype(np.int32)), _strings([str(u) for u in unique[order]]))


def _since_epoch(start_date: str, unit: str) -> int:
    """`start_date` in `unit`s since 1970-01-01 ('ms' for timestamps, 'D' for dates): Arrow's own encoding."""
    return int(np.datetime64(start_date, unit).astype(np.int64))


def _timestamps(minutes: np.ndarray, start_ms: int) -> pa.Array:
    nan = np.isnan(minutes)
    ms = np.where(nan, 0.0, minutes) * 60_000.0
    return _array(np.rint(ms).astype(np.int64) + start_ms, mask=nan, type=pa.timestamp("ms"))


def _labels(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
    mask = codes < 0
    return pa.DictionaryArray.from_arrays(_array(codes.astype(np.int32), mask=mask), _strings(list(names)))


def _service_column(kind: str, values: np.ndarray | None, start_ms: int, n: int) -> pa.Array:
    if values is None:  # the service is off: null for every order
        return pa.nulls(n, pa.timestamp("ms") if kind == "time" else pa.bool_() if kind in ("bool", "flag") else pa.float64())
    if kind == "time":
        return _timestamps(values, start_ms)
    if kind == "flag":  # 1 / 0 / -1 (not applicable) -> true / false / null
        return _array(values == 1, mask=values < 0)
    return _array(values)


def orders_to_arrow(
    o: OrderTable,
    start_date: str,
    regions: list[str],
    hit: np.ndarray,
    version: str,
    rows: slice = slice(None),
    extra: dict[str, tuple[str, np.ndarray]] | None = None,
    order_ids: np.ndarray | None = None,
) -> pa.Table:
    """One row per order (see docs/schema.md), for all orders or a slice of them; `extra` holds the
    services' columns (name -> (kind, values), see `sim.services.order_columns`); `order_ids` each order's row among
    all the shoppers drawn (None: the rows themselves)."""
    start_ms = _since_epoch(start_date, "ms")
    zone, station = o.zone[rows], o.station[rows].astype(np.int16)
    ids = np.arange(len(o), dtype=np.int64)[rows] if order_ids is None else order_ids[rows].astype(np.int64)
    columns: dict[str, Any] = {
        "order_id": _array(ids),
        "region": _labels(o.region[rows], regions),
        "zone": _array(zone, mask=zone < 0),
        "station": _array(station, mask=station < 0),
        "territory": _array(o.territory[rows], mask=o.territory[rows] < 0),
        "category": _labels(o.category[rows], CATEGORY_NAMES),
        "source": _labels(o.source[rows], SOURCE_NAMES),
        "tier": _labels(o.tier[rows], TIER_NAMES),
    }
    for col, attr in TIMESTAMP_COLUMNS:
        columns[col] = _timestamps(getattr(o, attr)[rows], start_ms)
    columns["attempts"] = _array(o.attempts[rows])
    h = hit[rows]
    columns["hit"] = _array(h == 1, mask=h < 0)
    columns["returned"] = _timestamps(o.returned[rows], start_ms)
    columns["customer_return"] = _array(o.customer_return[rows])
    for name, (kind, values) in (extra or {}).items():
        columns[name] = _service_column(kind, None if values is None else values[rows], start_ms, len(ids))
    table = pa.table(columns)
    return table.replace_schema_metadata(_metadata("orders", version))


def write_orders(
    o: OrderTable,
    start_date: str,
    regions: list[str],
    hit: np.ndarray,
    version: str,
    path: str | os.PathLike,
    chunk_rows: int = 1 << 18,
    filesystem: pafs.FileSystem | None = None,
    extra: dict[str, tuple[str, np.ndarray]] | None = None,
    order_ids: np.ndarray | None = None,
) -> Path:
    """orders.parquet written in row groups, so memory stays bounded whatever the number of orders."""
    return _atomic(path, orders_writer(o, start_date, regions, hit, version, chunk_rows, filesystem, extra, order_ids), filesystem)


def orders_writer(
    o: OrderTable,
    start_date: str,
    regions: list[str],
    hit: np.ndarray,
    version: str,
    chunk_rows: int = 1 << 18,
    filesystem: pafs.FileSystem | None = None,
    extra: dict[str, tuple[str, np.ndarray]] | None = None,
    order_ids: np.ndarray | None = None,
) -> Callable[[str], None]:
    """A `write` for `write_together`: orders.parquet in row groups of `chunk_rows`."""

    def write(tmp: str) -> None:
        chunks = range(0, max(len(o), 1), chunk_rows)
        first = orders_to_arrow(o, start_date, regions, hit, version, slice(0, chunk_rows), extra, order_ids)
        with pq.ParquetWriter(
            tmp, first.schema, compression="zstd", use_dictionary=_few_values(first.schema), filesystem=filesystem
        ) as writer:
            writer.write_table(first)
            for start in chunks[1:]:
                rows = slice(start, start + chunk_rows)
                writer.write_table(orders_to_arrow(o, start_date, regions, hit, version, rows, extra, order_ids))

    return write


def _few_values(schema: pa.Schema) -> list[str]:
    """The columns worth Parquet's dictionary encoding: all but the order id and the timestamps, whose values are nearly
    all distinct (trying a dictionary on them costs time and a fallback; without it orders.parquet is faster and smaller)."""
    return [f.name for f in schema if f.name != "order_id" and not pa.types.is_timestamp(f.type)]


def summary_to_arrow(row: dict[str, Any], version: str) -> pa.Table:
    """The one-row summary: KPIs, the flattened config, and run facts."""
    arrays, names = [], []
    for key, value in row.items():
        if isinstance(value, (bool, np.bool_)):
            arr = _array(np.array([bool(value)]))
        elif isinstance(value, (int, np.integer)):
            arr = _array(np.array([int(value)], dtype=np.int64))
        elif isinstance(value, (float, np.floating)):
            arr = _array(np.array([float(value)], dtype=np.float64))
        elif value is None:
            arr = _strings([None])
        else:
            arr = _strings([str(value)])
        arrays.append(arr)
        names.append(key)
    table = pa.Table.from_arrays(arrays, names=names)
    return table.replace_schema_metadata(_metadata("summary", version))


TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.tmp-\d+-[0-9a-f]{8}$")  # what `_temp_path` makes


def _temp_path(path_str: str) -> str:
    parent, _, name = path_str.rpartition("/")
    return f"{parent}/.{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def write_together(
    writes: list[tuple[str | os.PathLike, Callable[[str], None]]], filesystem: pafs.FileSystem | None = None
) -> list[Path]:
    """Run each `write` on a temporary name beside its path, then rename them all, in order, only when every
    one succeeded; on any failure remove the temporaries and re-raise. Readers never see a half-written file,
    and a failed run never leaves some of its files without the others.

    `filesystem` is any pyarrow filesystem (local when None); there the rename is the filesystem's move.
    """
    fs = filesystem or pafs.LocalFileSystem()
    done: list[tuple[str, str]] = []
    try:
        for path, write in writes:
            path_str = str(path) if filesystem is not None else os.path.abspath(path)
            fs.create_dir(path_str.rpartition("/")[0], recursive=True)
            tmp = _temp_path(path_str)
            done.append((tmp, path_str))
            write(tmp)
        for tmp, path_str in done:
            fs.move(tmp, path_str)
    finally:
        for tmp, _ in done:
            if fs.get_file_info(tmp).type != pafs.FileType.NotFound:
                fs.delete_file(tmp)
    return [Path(path_str) for _, path_str in done]


def _atomic(path: str | os.PathLike, write: Callable[[str], None], filesystem: pafs.FileSystem | None = None) -> Path:
    """Run `write` on a temporary name beside `path`, then rename: readers never see a half-written file."""
    return write_together([(path, write)], filesystem)[0]


def parquet_writer(table: pa.Table, filesystem: pafs.FileSystem | None = None) -> Callable[[str], None]:
    """A `write` for `write_together`: the table as zstd Parquet."""
    return lambda tmp: pq.write_table(table, tmp, compression="zstd", filesystem=filesystem)


def write_parquet_atomic(table: pa.Table, path: str | os.PathLike, filesystem: pafs.FileSystem | None = None) -> Path:
    """Write a table atomically (temporary name, then rename)."""
    return _atomic(path, parquet_writer(table, filesystem), filesystem)


def schema_version(path: str | os.PathLike) -> str:
    """The schema version recorded in a Parquet file written by this package."""
    meta = pq.read_schema(path).metadata or {}
    return meta.get(b"sim.schema_version", b"").decode()


def utilization_to_arrow(samples: dict[str, np.ndarray], start_date: str, version: str) -> pa.Table:
    """One row per stage per sample time (see docs/schema.md)."""
    start_ms = _since_epoch(start_date, "ms")
    queue, in_service = samples["queue"].astype(np.int64), samples["in_service"].astype(np.int64)
    table = pa.table(
        {
            "time": _timestamps(samples["time_min"], start_ms),
            "stage": _dictionary_encoded(samples["stage"]),
            "queue": _array(queue),
            "in_service": _array(in_service),
            "wip": _array(queue + in_service),
            "busy_servers": _array(samples["busy_servers"].astype(np.int64)),
            "servers": _array(samples["servers"].astype(np.int64)),
        }
    )
    return table.replace_schema_metadata(_metadata("utilization", version))


def tours_to_arrow(tours, start_date: str, version: str) -> pa.Table:
    """One row per courier tour (see docs/schema.md)."""
    start_ms = _since_epoch(start_date, "ms")
    table = pa.table(
        {
            "station": _array(tours.station.astype(np.int64)),
            "courier": _array(tours.courier.astype(np.int64)),
            "territory": _array(tours.territory.astype(np.int64)),
            "start": _timestamps(tours.start, start_ms),
            "end": _timestamps(tours.start + tours.duration_min, start_ms),
            "parcels": _array(tours.parcels.astype(np.int64)),
            "stops": _array(tours.stops),
            "km": _array(tours.km, mask=np.isnan(tours.km)),
            "doorstep_parcels": _array(tours.doorstep_parcels.astype(np.int64)),
            "slot_parcels": _array(tours.slot_parcels.astype(np.int64)),
            "overtime_min": _array(tours.overtime_min),
        }
    )
    return table.replace_schema_metadata(_metadata("tours", version))


def stations_to_arrow(rows: dict[str, np.ndarray], version: str) -> pa.Table:
    """One row per delivery station (see docs/schema.md)."""
    table = pa.table({name: _array(values) for name, values in rows.items()})
    return table.replace_schema_metadata(_metadata("stations", version))


def alerts_to_arrow(alerts: dict[str, np.ndarray], start_date: str, version: str, order_ids: np.ndarray | None = None) -> pa.Table:
    """Parcel-centre alerts: one row per order, SLA and level, at the moment it became true; `order_ids` as in
    `orders_to_arrow`, so `order_id` joins orders.parquet."""
    from .services.parcel_centre import LEVEL_NAMES, SLA_NAMES

    start_ms = _since_epoch(start_date, "ms")
    table = pa.table(
        {
            "order_id": _array((alerts["order_id"] if order_ids is None else order_ids[alerts["order_id"]]).astype(np.int64)),
            "sla": _labels(alerts["sla"], SLA_NAMES),
            "level": _labels(alerts["level"], LEVEL_NAMES),
            "time": _timestamps(alerts["time_min"], start_ms),
        }
    )
    return table.replace_schema_metadata(_metadata("alerts", version))


def days_to_arrow(rows: dict[str, np.ndarray], start_date: str, version: str) -> pa.Table:
    """One row per day of the run (see docs/schema.md); `day` as a calendar date."""
    start_day = _since_epoch(start_date, "D")
    columns = {"day": _array((rows["day"] + start_day).astype(np.int32), type=pa.date32())}
    columns |= {name: _array(values) for name, values in rows.items() if name != "day"}
    table = pa.table(columns)
    return table.replace_schema_metadata(_metadata("days", version))
