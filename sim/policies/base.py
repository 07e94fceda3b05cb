"""The cutoff-policy interface: until what time of day a region is offered its fastest tier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..schema import ConfigError, TimeOfDay


class PromiseState(Protocol):
    """What a policy may ask of the running model (all times in minutes since the start)."""

    now_min: float
    day_end_min: float  # when a promised day's deliveries must be done, minutes after midnight
    review_interval_min: float  # the policy is asked again after this long

    def backlog(self, region: str, stage: str = "delivered") -> int:
        """Orders of the region due by today's end (`promise.day_end`) that have not yet passed `stage`
        ('sorted' or 'delivered')."""

    def clearing_capacity(self, stage: str, until_min: float) -> float:
        """Parcels that `stage` ('sorted': the sorter, 'delivered': the couriers) can still
        clear between now and `until_min` at nominal capacity."""

    def expected_orders(self, region: str, a_min: float, b_min: float) -> float:
        """Expected orders of the region created in [a, b)."""


@dataclass
class NoParams:
    """A policy without parameters."""


def check_same_day_possible(key: str, cutoff: float, day_end_min: float) -> None:
    """A home-city cutoff must come before the promised day's end, or its same-day promises are broken when made."""
    if cutoff >= day_end_min:
        raise ConfigError(
            key,
            str(cutoff),
            f"a same-day promise must be possible: the cutoff must come before promise.day_end ({TimeOfDay(day_end_min)})",
        )


class CutoffPolicy:
    """Base class for cutoff policies.

    A policy answers `cutoff_min(region, day, state)`: minutes after midnight before which an
    order placed in `region` gets the region's fastest tier (same-day in the home city,
    next-day in a nearby city). The model asks every `review_interval_min` minutes and applies
    the answer to the orders placed until the next review; return 0 to offer nothing faster,
    1440 to offer it all day. Subclasses declare their parameters as a dataclass `Params`,
    which the config validates (a `validate(regions, day_end_min)` method on `Params`, if any, checks
    what spans the city and the promise); `regions` lists the region names (home city first).
    """

    name: ClassVar[str] = "custom"
    Params: ClassVar[type] = NoParams

    def __init__(self, params: Any, regions: list[str]):
        self.params = params
        self.regions = regions

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        raise NotImplementedError
