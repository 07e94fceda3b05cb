"""`dynamic`: capacity-aware; same-day closes early once the projected backlog cannot be cleared in time.

At each review the policy projects the home city's parcels due today (the backlog plus the
orders expected before the next review) and checks two stages: the parcels not yet sorted
must fit the sorter before `last_wave`, and the parcels not yet delivered must fit the
couriers before the promised day ends (`promise.day_end`). If either projection exceeds `headroom` times
that capacity, same-day closes until the next review. It never offers same-day after
`latest`. Nearby cities keep `latest` as their next-day cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import MIN_PER_DAY
from ..schema import TimeOfDay, spec, tod
from .base import CutoffPolicy, PromiseState, check_same_day_possible


@dataclass
class DynamicParams:
    latest: TimeOfDay = spec(tod("14:00"), doc="never offer same-day after this time")
    last_wave: TimeOfDay = spec(tod("15:00"), doc="same-day parcels must be sorted by this wave")
    headroom: float = spec(1.0, gt=0.0, le=2.0, doc="accept up to this share of the projected clearing capacity")

    def validate(self, regions: list[str], day_end_min: float) -> None:
        check_same_day_possible("cutoff.latest", self.latest, day_end_min)


class DynamicCutoff(CutoffPolicy):
    name = "dynamic"
    Params = DynamicParams

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        if region != self.regions[0]:
            return self.params.latest
        day_start = day * MIN_PER_DAY
        now_tod = state.now_min - day_start
        if now_tod >= self.params.latest:
            return self.params.latest
        new = state.expected_orders(region, state.now_min, state.now_min + state.review_interval_min)
        checks = (("sorted", day_start + self.params.last_wave), ("delivered", day_start + state.day_end_min))
        for stage, until in checks:
            if state.backlog(region, stage) + new > self.params.headroom * state.clearing_capacity(stage, until):
                return now_tod  # closed until the next review
        return self.params.latest
