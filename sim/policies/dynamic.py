"""`dynamic`: capacity-aware; same-day closes early once the projected backlog cannot be cleared in time.

At each review the policy projects the home city's parcels due today (the backlog plus the
orders expected before the next review) and checks two stages: the parcels not yet sorted
must fit the sorter before `last_wave`, and the parcels not yet delivered must fit the
couriers before the delivery window ends. If either projection exceeds `headroom` times
that capacity, same-day closes until the next review. It never offers same-day after
`latest`. Nearby cities keep `latest` as their next-day cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import MIN_PER_DAY
from ..schema import parse_time_min, spec
from .base import CutoffPolicy, PromiseState


@dataclass
class DynamicParams:
    latest: str = spec("14:00", time=True, doc="never offer same-day after this time")
    last_wave: str = spec("15:00", time=True, doc="same-day parcels must be sorted by this wave")
    headroom: float = spec(1.0, gt=0.0, le=2.0, doc="accept up to this share of the projected clearing capacity")


class DynamicCutoff(CutoffPolicy):
    name = "dynamic"
    Params = DynamicParams

    def __init__(self, params: DynamicParams, regions: list[str]):
        super().__init__(params, regions)
        self._latest = parse_time_min(params.latest, "cutoff.latest")
        self._last_wave = parse_time_min(params.last_wave, "cutoff.last_wave")

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        if region != self.regions[0]:
            return self._latest
        day_start = day * MIN_PER_DAY
        now_tod = state.now_min - day_start
        if now_tod >= self._latest:
            return self._latest
        new = state.expected_orders(region, state.now_min, state.now_min + state.review_interval_min)
        checks = (("sorted", day_start + self._last_wave), ("delivered", day_start + state.window_end_min))
        for stage, until in checks:
            if state.backlog(region, stage) + new > self.params.headroom * state.clearing_capacity(stage, until):
                return now_tod  # closed until the next review
        return self._latest
