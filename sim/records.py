"""What a run records: the order table and the stages' logs, all struct-of-arrays (plain numpy data).

Stages append rows to a `LogBook` while the clock runs; `ModelOutput` holds the frozen logs
and the order table, and KPIs, work-in-progress samples and Parquet output read only these,
never an engine object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

SOURCE_WAREHOUSE, SOURCE_MERCHANT = 0, 1
CATEGORY_GENERAL, CATEGORY_FRESH = 0, 1
TIER_SAME_DAY, TIER_NEXT_DAY, TIER_SECOND_DAY = 0, 1, 2
TIER_NAMES = ["same_day", "next_day", "second_day"]
CATEGORY_NAMES = ["general", "fresh"]
SOURCE_NAMES = ["warehouse", "merchant"]


@dataclass
class OrderTable:
    """All orders of a run as a struct of arrays, sorted by creation time; the model fills the stage columns.

    The central invariant: a stage may stamp a time that is still in the future (a pick that
    will finish, a parcel on a truck); a consumer reading at clock time `now` counts only the
    stamps `<= now`.
    """

    created: np.ndarray  # minutes since the start
    region: np.ndarray  # 0 = home city, k = nearby city k
    zone: np.ndarray  # home-city zone, -1 for nearby cities
    station: np.ndarray  # delivery station, -1 for nearby cities
    category: np.ndarray
    source: np.ndarray
    warehouse: np.ndarray  # front DC picking it, -1 for merchant orders
    pick_service_min: np.ndarray  # work content of its pick, drawn up front
    failed_attempts: np.ndarray  # delivery attempts that will fail before one succeeds
    tier: np.ndarray = field(default=None)
    promised_by: np.ndarray = field(default=None)
    pick_start: np.ndarray = field(default=None)
    picked: np.ndarray = field(default=None)
    territory: np.ndarray = field(default=None)  # courier territory (片区) within its station, -1 for nearby cities
    picker: np.ndarray = field(default=None)  # which picker of its DC (-1: a merchant order, or a pool always on duty)
    arrived_sort: np.ndarray = field(default=None)
    sort_start: np.ndarray = field(default=None)
    sorted: np.ndarray = field(default=None)
    departed: np.ndarray = field(default=None)
    arrived_station: np.ndarray = field(default=None)
    out_for_delivery: np.ndarray = field(default=None)  # first attempt
    last_out: np.ndarray = field(default=None)  # latest attempt
    delivered: np.ndarray = field(default=None)
    attempts: np.ndarray = field(default=None)
    failed_at: np.ndarray = field(default=None)  # when its latest failed attempt failed (customer absent)
    returned: np.ndarray = field(default=None)  # refused at the door and sent back
    refused: np.ndarray = field(default=None)  # will refuse the parcel at the door
    priority: np.ndarray = field(default=None)  # goes first in pickup rounds, sort waves and onto trucks
    # written by the services (sim/services); all off by default
    doorstep: np.ndarray = field(default=None)  # 音尊达: call ahead, hand over at the door
    slot: np.ndarray = field(default=None)  # 按需派送: chosen delivery slot, -1 for none
    pickup_point: np.ndarray = field(default=None)  # 按需派送: to be left at a pickup point (驿站)
    # the shopper (demand.response, demand.returns)
    placed: np.ndarray = field(default=None)  # bought when shown the promise (false: counted as lost, dropped after the run)
    customer_return: np.ndarray = field(default=None)  # sent back after delivery (售后退货; counted, never simulated)

    # the columns demand draws (`sim.demand.generate_orders`); the model fills or derives the others
    DRAWN_COLUMNS = ("created", "region", "zone", "station", "category", "source", "warehouse", "pick_service_min", "failed_attempts")
    STAGE_COLUMNS = (
        "promised_by",
        "pick_start",
        "picked",
        "arrived_sort",
        "sort_start",
        "sorted",
        "departed",
        "arrived_station",
        "out_for_delivery",
        "last_out",
        "delivered",
        "returned",
        "failed_at",
    )

    def __post_init__(self) -> None:
        n = len(self.created)
        if self.tier is None:
            self.tier = np.full(n, -1, dtype=np.int8)
        for name in self.STAGE_COLUMNS:
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, np.nan))
        if self.attempts is None:
            self.attempts = np.zeros(n, dtype=np.int8)
        if self.placed is None:
            self.placed = np.ones(n, dtype=bool)
        for name in ("doorstep", "refused", "priority", "pickup_point", "customer_return"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(n, dtype=bool))
        if self.slot is None:
            self.slot = np.full(n, -1, dtype=np.int8)
        if self.picker is None:
            self.picker = np.full(n, -1, dtype=np.int16)
        if self.territory is None:
            self.territory = np.full(n, -1, dtype=np.int16)

    def __len__(self) -> int:
        return len(self.created)

    def select(self, keep: np.ndarray) -> OrderTable:
        """The table of the rows `keep`: copies for a mask or indices, views for a slice."""
        return OrderTable(**{f.name: getattr(self, f.name)[keep] for f in dataclasses.fields(self)})

    def keep_only(self, keep: np.ndarray) -> None:
        """Drop every row but `keep` (a mask or indices), column by column: memory grows by one column at most."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name)[keep])

    def failed_attempts_made(self, mask: np.ndarray) -> int:
        """Delivery attempts made that failed, over the orders of `mask` (attempts less the one that succeeded)."""
        done = ~np.isnan(self.delivered[mask]) | ~np.isnan(self.returned[mask])
        attempts = self.attempts[mask]
        return int(attempts.sum()) - int(np.count_nonzero(done & (attempts > 0)))


def column(dtype: type | str = float):
    """A column of a log; `dtype` is its numpy type."""
    return field(metadata={"dtype": dtype})


@dataclass
class Log:
    """A struct-of-arrays log; subclasses declare their columns with `column(dtype)`."""

    @classmethod
    def from_rows(cls, rows: list[tuple]):
        fields = dataclasses.fields(cls)
        columns = list(zip(*rows)) if rows else [()] * len(fields)
        return cls(**{f.name: np.asarray(c, dtype=f.metadata["dtype"]) for f, c in zip(fields, columns)})

    def __len__(self) -> int:
        return len(getattr(self, dataclasses.fields(self)[0].name))

    def between(self, column: str, a: float, b: float):
        """The rows whose `column` lies in [a, b) (e.g. the tours that started in the measured days)."""
        values = getattr(self, column)
        return self.where((values >= a) & (values < b))

    def where(self, rows: np.ndarray):
        """The rows a boolean mask or an index array selects."""
        return type(self)(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})


@dataclass
class TourLog(Log):
    """One row per courier tour from a delivery station."""

    start: np.ndarray = column(float)
    duration_min: np.ndarray = column(float)
    parcels: np.ndarray = column(np.int32)
    doorstep_parcels: np.ndarray = column(np.int32)
    doorstep_min: np.ndarray = column(float)  # courier minutes spent on the doorstep parcels
    slot_parcels: np.ndarray = column(np.int32)  # parcels with a customer-chosen delivery slot
    station: np.ndarray = column(np.int32)
    courier: np.ndarray = column(np.int32)  # the courier within its station (its `server` in the `ShiftLog`)
    stops: np.ndarray = column(float)
    km: np.ndarray = column(float)  # among the stops plus the approach out and back (NaN for textbook tours)
    overtime_min: np.ndarray = column(float)  # past the end of the courier's shift
    territory: np.ndarray = column(np.int32)  # the territory (片区) of the station its stops lie in

    def by_station(self) -> TourLog:
        """The tours station by station (each station's in time order), the order station-by-station sums use."""
        return self.where(np.argsort(self.station, kind="stable"))


@dataclass
class DepartureLog(Log):
    """One row per timetabled truck run from the sorting centre (to a station, or a nearby city)."""

    time: np.ndarray = column(float)
    dest: np.ndarray = column(np.int32)  # station, or n_stations + k for nearby city k
    load: np.ndarray = column(np.int32)
    capacity: np.ndarray = column(np.int32)
    arrival: np.ndarray = column(float)  # when its parcels are unloaded (also for an empty run)


@dataclass
class WaveLog(Log):
    """One row per batch released into the sorter (a wave, or an arrival time when sorting is continuous)."""

    time: np.ndarray = column(float)
    parcels: np.ndarray = column(np.int32)


@dataclass
class PickupRoundLog(Log):
    """One row per merchant pickup round that collected parcels."""

    time: np.ndarray = column(float)
    parcels: np.ndarray = column(np.int32)
    couriers: np.ndarray = column(np.int32)  # pickup couriers it took
    duration_min: np.ndarray = column(float)


@dataclass
class ShiftLog(Log):
    """One row per server with a daily shift: pickers of each DC, sorter lines, couriers of each station."""

    stage: np.ndarray = column(object)  # "pick", "sort" or "lastmile"
    site: np.ndarray = column(np.int32)  # the DC or the station
    server: np.ndarray = column(np.int32)  # index within the site
    start: np.ndarray = column(float)  # minutes after midnight
    end: np.ndarray = column(float)  # minutes after midnight (before `start`: past midnight; 1440 and start 0: always)

    def of(self, stage: str) -> ShiftLog:
        return self.where(self.stage == stage)


@dataclass
class OvertimeLog(Log):
    """One row per stretch of overtime: a server working on past the end of its shift."""

    stage: np.ndarray = column(object)  # "pick", "sort" or "lastmile"
    site: np.ndarray = column(np.int32)
    server: np.ndarray = column(np.int32)
    shift_end: np.ndarray = column(float)  # when the shift ended (minutes since the start)
    until: np.ndarray = column(float)  # when the work in hand was done

    def of(self, stage: str) -> OvertimeLog:
        return self.where(self.stage == stage)

    def merged(self) -> OvertimeLog:
        """One row per server and shift (the latest `until`): batches may log the same stretch more than once."""
        if len(self) == 0:
            return self
        stage = np.unique(self.stage.astype(str), return_inverse=True)[1]
        keys = (self.shift_end, self.server, self.site, stage)
        order = np.lexsort((-self.until, *keys))
        changed = np.zeros(len(self) - 1, dtype=bool)
        for key in keys:
            sorted_key = key[order]
            changed |= sorted_key[1:] != sorted_key[:-1]
        return self.where(order[np.concatenate([[True], changed])])


class Rows:
    """Rows of a log appended as tuples during a run and kept as columns every `chunk` rows: a tuple of boxed
    numbers costs several times its columns (a tour's row about 300 bytes against 80), and the memory of freed
    tuples stays with Python's small-object allocator, not given back for the arrays that follow."""

    def __init__(self, log: type[Log], chunk: int = 4096):
        self.log, self.chunk = log, chunk
        self._rows: list[tuple] = []
        self._done: list[Log] = []

    def append(self, row: tuple) -> None:
        rows = self._rows
        rows.append(row)
        if len(rows) >= self.chunk:
            self._done.append(self.log.from_rows(rows))
            rows.clear()

    def __len__(self) -> int:
        return sum(len(part) for part in self._done) + len(self._rows)

    def freeze(self) -> Log:
        parts = self._done + [self.log.from_rows(self._rows)]
        self._rows, self._done = [], []
        if len(parts) == 1:
            return parts[0]
        return self.log(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(self.log)})


class LogBook:
    """Where the stages append rows during a run; `freeze` turns them into logs."""

    def __init__(self) -> None:
        self.tours = Rows(TourLog)  # one row per tour: the one log that grows with the orders
        self.departures: list[tuple] = []
        self.waves: list[tuple] = []
        self.pickup_rounds: list[tuple] = []
        self.shifts: list[tuple] = []
        self.overtime: list[tuple] = []
        self.cutoffs: list[tuple[float, str, float]] = []  # (review time, region, cutoff)

    def freeze(self) -> dict:
        """The rows as logs; the book is emptied (a row as a tuple costs several times its columns: a large run's
        tours alone take about 300 bytes each)."""
        logs = {
            "tours": self.tours.freeze(),
            "departures": DepartureLog.from_rows(self.departures),
            "waves": WaveLog.from_rows(self.waves),
            "pickup_rounds": PickupRoundLog.from_rows(self.pickup_rounds),
            "shifts": ShiftLog.from_rows(self.shifts),
            "overtime": OvertimeLog.from_rows(self.overtime),
            "cutoffs": list(self.cutoffs),
        }
        for rows in (self.departures, self.waves, self.pickup_rounds, self.shifts, self.overtime, self.cutoffs):
            rows.clear()
        return logs
