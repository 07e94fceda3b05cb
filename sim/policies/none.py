"""`none`: never offer the fastest tier; the baseline every other policy is compared with."""

from __future__ import annotations

from .base import CutoffPolicy, PromiseState


class NoFastTier(CutoffPolicy):
    name = "none"

    def cutoff_min(self, region: str, day: int, state: PromiseState) -> float:
        return 0.0
