"""`fixed`: one cutoff time for every region (13:00 by default; the seed's example is 11:00 for Jilin)."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tod
from .base import CutoffPolicy, PromiseState, check_same_day_possible


@dataclass
class FixedParams:
    time: TimeOfDay = spec(
        tod("13:00"),
        doc="orders placed before this time get the fastest tier; at 13:00 the default city keeps about 95 % of its same-day "
        "promises (11:00 is the seed article's example, 极速达 Jilin)",
    )

    def validate(self, regions: list[str], day_end_min: float) -> None:
        check_same_day_possible("cutoff.time", self.time, day_end_min)


class FixedCutoff(CutoffPolicy):
    name = "fixed"
    Params = FixedParams

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        return self.params.time
