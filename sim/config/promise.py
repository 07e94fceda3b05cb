"""When promises fall due and how often checkout re-reads the cutoff."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tod


@dataclass
class PromiseConfig:
    """When a promised day ends and how often checkout re-reads the cutoff."""

    day_end: TimeOfDay = spec(
        tod("22:00"),
        doc="a promised day's deliveries must be done by this time: the end of the delivery day in the 极速达 description",
    )
    review_interval_min: float = spec(15.0, gt=0.0, le=1440.0, doc="checkout re-asks the cutoff policy this often")
