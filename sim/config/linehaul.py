"""Truck timetables from the sorting centre; capacities are in `capacity`."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tods


@dataclass
class LinehaulConfig:
    """Truck timetables; capacities are in `capacity`."""

    # morning (overnight backlog), two midday runs, the afternoon same-day run, an evening run
    station_departures: list[TimeOfDay] = spec(
        factory=lambda: tods("07:00", "10:00", "13:00", "16:00", "18:30"),
        doc="trucks to every station: a morning run (overnight volume), two midday runs, the afternoon same-day run, an evening run",
    )
    dock_min: float = spec(
        15.0, ge=0.0, le=1440.0, doc="unloading and scanning in at the station or nearby city, added to each truck's transit"
    )
    cancel_empty: bool = spec(True, doc="a timetabled run with nothing to carry is cancelled (neither driven nor paid)")
    nearby_truck_capacity: int = spec(6000, ge=1, le=100_000, doc="a 17.5 m trailer of small parcels")
