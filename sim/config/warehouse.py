"""The first mile: picking at the front DCs (拣货) and merchant pickup rounds (揽件)."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tod, tods
from .shifts import Shift


def _default_picker_shifts() -> list[Shift]:
    # two day shifts carry the load, a thin night shift keeps the late-evening peak moving
    return [Shift(tod("06:00"), tod("14:00"), 0.42), Shift(tod("14:00"), tod("22:00"), 0.42), Shift(tod("22:00"), tod("06:00"), 0.16)]


@dataclass
class WarehouseConfig:
    """Pick and pack at the front DCs, and the shuttle to the sorting centre."""

    pick_mean_min: float = spec(
        1.2,
        gt=0.0,
        le=1440.0,
        doc="pick+pack of a one-to-few-line order; 50 orders per picker-hour (piece picking runs 60-150 lines an hour)",
    )
    pick_cv: float = spec(0.6, ge=0.0, le=3.0, doc="coefficient of variation of pick times (1 = exponential)")
    shifts: list[Shift] = spec(
        factory=_default_picker_shifts,
        doc="pickers' shifts: two main ones, a thin night one that clears the evening peak for the morning trucks",
    )
    overtime_max_h: float = spec(
        2.0,
        ge=0.0,
        le=12.0,
        doc="overtime cap per picker and day: a pick that would end later waits for the next shift",
    )
    shuttle_interval_min: float = spec(30.0, gt=0.0, le=1440.0, doc="a shuttle van leaves each DC this often")
    shuttle_dock_min: float = spec(10.0, ge=0.0, le=1440.0, doc="load at the DC and unload at the sorting centre")


@dataclass
class PickupConfig:
    """Merchant pickup rounds (揽件)."""

    rounds: list[TimeOfDay] = spec(
        factory=lambda: tods("09:00", "11:00", "13:00", "15:00", "17:00", "19:00"),
        doc="pickup couriers set out at these times, six rounds a day",
    )
    round_min: float = spec(90.0, gt=0.0, le=720.0, doc="from leaving to unloading at the sorting centre")
    parcels_per_courier_round: int = spec(
        150, ge=1, le=100_000, doc="parcels a pickup courier collects per round: merchants hand over their parcels in bulk"
    )
