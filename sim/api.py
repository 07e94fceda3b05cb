"""The library front door for notebooks and scripts: `sim.run(config) -> RunResult`, no Hydra needed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import __version__, services
from .config import SimConfig, check_memory, load_config
from .io import (
    alerts_to_arrow,
    days_to_arrow,
    orders_to_arrow,
    orders_writer,
    parquet_writer,
    stations_to_arrow,
    summary_to_arrow,
    tours_to_arrow,
    utilization_to_arrow,
    write_together,
)
from .kpis import compute_kpis, day_table, order_hits, station_kpis, wip_samples
from .model import Model, ModelOutput
from .schema import flatten

if TYPE_CHECKING:  # pandas loads only when a table is asked for as a DataFrame (`to_pandas`)
    import pandas as pd


# Above this many orders a run's tables are built one after the other, not beside the orders' encoding: the two
# passes' temporaries would add up (about 20 bytes an order at the peak), for a tenth of a second saved.
SEQUENTIAL_WRITE_ORDERS = 1 << 20


@dataclass
class RunResult:
    """A finished run: the one-row summary and the orders, as pandas (or Arrow on request)."""

    config: SimConfig
    kpis: dict[str, Any]
    output: ModelOutput = field(repr=False)
    wall_s: float = 0.0
    model_config: SimConfig | None = field(default=None, repr=False)  # what was simulated (textbook reductions)

    @cached_property
    def summary_table(self) -> pa.Table:
        row = dict(self.kpis)
        row.update(flatten(self.config.to_dict()))
        row.update({"seed": self.config.seed, "version": __version__, "wall_s": self.wall_s, "events": self.output.events})
        return summary_to_arrow(row, __version__)

    @cached_property
    def _hit(self):
        return order_hits(self.model_config or self.config, self.output)

    @cached_property
    def _extra(self) -> dict:
        return services.order_columns(self.model_config or self.config, self.output)

    @cached_property
    def orders_table(self) -> pa.Table:
        return orders_to_arrow(
            self.output.orders,
            self.config.start_date,
            (self.model_config or self.config).city.regions,
            self._hit,
            __version__,
            extra=self._extra,
            order_ids=self.output.order_ids,
        )

    @cached_property
    def alerts_table(self) -> pa.Table | None:
        """Parcel-centre alerts (None when the parcel centre is off)."""
        if self.output.alerts is None:
            return None
        return alerts_to_arrow(self.output.alerts, self.config.start_date, __version__, self.output.order_ids)

    @property
    def alerts(self) -> pd.DataFrame | None:
        return None if self.alerts_table is None else self.alerts_table.to_pandas()

    @cached_property
    def utilization_table(self) -> pa.Table:
        samples = wip_samples(self.model_config or self.config, self.output, self.config.output.sample_min)
        return utilization_to_arrow(samples, self.config.start_date, __version__)

    @cached_property
    def tours_table(self) -> pa.Table:
        return tours_to_arrow(self.output.tours, self.config.start_date, __version__)

    @property
    def tours(self) -> pd.DataFrame:
        """One row per courier tour: station, courier, start, end, parcels, stops, km, overtime."""
        return self.tours_table.to_pandas()

    @cached_property
    def stations_table(self) -> pa.Table:
        return stations_to_arrow(station_kpis(self.model_config or self.config, self.output, self._hit), __version__)

    @cached_property
    def days_table(self) -> pa.Table:
        return days_to_arrow(day_table(self.model_config or self.config, self.output, self._hit), self.config.start_date, __version__)

    @property
    def days(self) -> pd.DataFrame:
        """One row per day of the run: orders, lost shoppers, same-day coverage and hit rate, backlog, cost, profit."""
        return self.days_table.to_pandas()

    @property
    def stations(self) -> pd.DataFrame:
        """One row per delivery station: parcels, couriers, utilisation, overtime, same-day hit rate."""
        return self.stations_table.to_pandas()

    @property
    def utilization(self) -> pd.DataFrame:
        """Work in progress per stage per sample interval."""
        return self.utilization_table.to_pandas()

    @property
    def summary(self) -> pd.DataFrame:
        return self.summary_table.to_pandas()

    @cached_property
    def orders(self) -> pd.DataFrame:
        return self.orders_table.to_pandas()

    def write(self, directory: str | Path, orders: bool = True) -> list[Path]:
        """Write orders.parquet (if asked), utilization, stations, tours, days, alerts (with the parcel centre) and
        summary into `directory`: the files appear together or not at all (a table that fails to build leaves none). Up to
        `SEQUENTIAL_WRITE_ORDERS` orders the other tables are built in a thread while orders.parquet is encoded
        (Arrow and numpy release the GIL)."""
        if not orders or len(self.output.orders) > SEQUENTIAL_WRITE_ORDERS:
            return write_together(self.writes(Path(directory), orders))
        _ = self._hit, self._extra  # shared by both threads: computed before the second one starts
        with ThreadPoolExecutor(max_workers=1) as pool:
            built = pool.submit(lambda: {name: getattr(self, f"{name}_table") for name in self._table_names()})
            return write_together(self.writes(Path(directory), orders, table=lambda name: built.result()[name]))

    def _table_names(self) -> list[str]:
        """The run's tables besides the orders, summary last (alerts only with the parcel centre)."""
        names = ["utilization", "stations", "tours", "days", "alerts", "summary"]
        return [name for name in names if name != "alerts" or self.output.alerts is not None]

    def writes(self, directory: Path | str, orders: bool = True, filesystem=None, table=None) -> list[tuple[str, Any]]:
        """(path, write) of each file of the run under `directory`, summary last, for `io.write_together`; each table
        is built when its file is written, by `table(name)` if given (by default the result's `<name>_table`)."""
        table = table or (lambda name: getattr(self, f"{name}_table"))
        out = [(f"{directory}/orders.parquet", self.orders_writer(filesystem))] if orders else []
        out += [
            (f"{directory}/{name}.parquet", lambda tmp, name=name: parquet_writer(table(name), filesystem)(tmp))
            for name in self._table_names()
        ]
        return out

    def orders_writer(self, filesystem=None):
        """A `write` for orders.parquet (in row groups, so memory stays bounded)."""
        cfg = self.model_config or self.config
        return orders_writer(
            self.output.orders,
            self.config.start_date,
            cfg.city.regions,
            self._hit,
            __version__,
            filesystem=filesystem,
            extra=self._extra,
            order_ids=self.output.order_ids,
        )

    def write_orders(self, path: str | Path, filesystem=None) -> Path:
        """orders.parquet alone (atomically), on a local path or a pyarrow filesystem."""
        return write_together([(path, self.orders_writer(filesystem))], filesystem)[0]


def run(config: SimConfig | dict | None = None, progress: Any = None) -> RunResult:
    """Validate `config` (defaults filled in), simulate it and compute its KPIs.

    `progress` is an optional callable receiving the simulated minutes done.
    """
    cfg = load_config(config)
    check_memory(cfg)
    started = time.perf_counter()
    model = Model(cfg)
    out = model.run(progress=progress)
    kpis = compute_kpis(model.cfg, out)  # the effective config (a textbook reduction in validation runs)
    return RunResult(config=cfg, kpis=kpis, output=out, wall_s=time.perf_counter() - started, model_config=model.cfg)
