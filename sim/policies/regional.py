"""`regional`: a cutoff time per region (home city or nearby city), with a default for the rest."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import ConfigError, parse_time_min, spec
from .base import CutoffPolicy, PromiseState


@dataclass
class RegionalParams:
    times: dict[str, str] = spec(factory=dict, time=True, doc="region name -> 'HH:MM'")
    default: str = spec("11:00", time=True, doc="cutoff of regions not listed in `times`")


class RegionalCutoff(CutoffPolicy):
    name = "regional"
    Params = RegionalParams

    def __init__(self, params: RegionalParams, regions: list[str]):
        super().__init__(params, regions)
        for region in params.times:
            if region not in regions:
                raise ConfigError(f"cutoff.times.{region}", params.times[region], f"unknown region; regions are {', '.join(regions)}")
        default = parse_time_min(params.default, "cutoff.default")
        self._cutoff = {r: parse_time_min(params.times[r], f"cutoff.times.{r}") if r in params.times else default for r in regions}

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        return self._cutoff[region]
