"""`fixed`: one cutoff time for every region (the seed's example: 11:00 for Jilin)."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import parse_time_min, spec
from .base import CutoffPolicy, PromiseState


@dataclass
class FixedParams:
    time: str = spec("11:00", time=True, doc="orders placed before this time get the fastest tier")


class FixedCutoff(CutoffPolicy):
    name = "fixed"
    Params = FixedParams

    def __init__(self, params: FixedParams, regions: list[str]):
        super().__init__(params, regions)
        self._cutoff = parse_time_min(params.time, "cutoff.time")

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        return self._cutoff
