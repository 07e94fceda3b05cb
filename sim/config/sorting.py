"""Sort waves and the sorter."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tod


def _default_waves() -> list[TimeOfDay]:
    return [tod(f"{h:02d}:00") for h in range(5, 24, 2)]


@dataclass
class SortingConfig:
    """Sort waves and the sorter."""

    waves: list[TimeOfDay] = spec(
        factory=_default_waves, doc="wave release times, the cadence of a city sorting centre (every 2 h); [] = continuous sorting"
    )
    lines: int = spec(1, ge=1, le=1000, doc="parallel sorter lines sharing the throughput")
    service_cv: float = spec(0.0, ge=0.0, le=3.0, doc="variability of time per parcel (0: machine-paced)")
    overtime_max_h: float = spec(
        2.0,
        ge=0.0,
        le=12.0,
        doc="overtime cap per day: the sorter runs on past its hours (first wave to an hour after the last) to finish waves",
    )
