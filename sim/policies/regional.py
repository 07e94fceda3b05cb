"""`regional`: a cutoff time per region (home city or nearby city), with a default for the rest."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import ConfigError, TimeOfDay, spec, tod
from .base import CutoffPolicy, PromiseState, check_same_day_possible


def _default_times() -> dict[str, TimeOfDay]:
    # the default city's regions: the home city later, the farthest nearby city earlier
    return {"changchun": tod("12:00"), "jilin": tod("11:00"), "siping": tod("11:00"), "songyuan": tod("10:00")}


@dataclass
class RegionalParams:
    times: dict[str, TimeOfDay] = spec(
        factory=_default_times, doc="region name -> 'HH:MM': the home city later, the farthest nearby city earlier"
    )
    default: TimeOfDay = spec(tod("11:00"), doc="cutoff of regions not listed in `times`")

    def validate(self, regions: list[str], day_end_min: float) -> None:
        for region, time in self.times.items():
            if region not in regions:
                raise ConfigError(f"cutoff.times.{region}", str(time), f"unknown region; regions are {', '.join(regions)}")
        home = regions[0]
        key = f"cutoff.times.{home}" if home in self.times else "cutoff.default"
        check_same_day_possible(key, self.times.get(home, self.default), day_end_min)


class RegionalCutoff(CutoffPolicy):
    name = "regional"
    Params = RegionalParams

    def __init__(self, params: RegionalParams, regions: list[str]):
        super().__init__(params, regions)
        self._cutoff = {r: params.times.get(r, params.default) for r in regions}

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        return self._cutoff[region]
