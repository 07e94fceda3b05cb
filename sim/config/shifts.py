"""A daily shift pattern: a share of a headcount works from `start` to `end`."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import TimeOfDay, spec, tod


@dataclass
class Shift:
    """A daily shift; `end` before `start` means it runs past midnight."""

    start: TimeOfDay = spec(tod("08:00"), doc="start of the shift")
    end: TimeOfDay = spec(tod("17:00"), doc="end of the shift; before `start`, it runs past midnight")
    share: float = spec(1.0, ge=0.0, le=1.0, doc="share of the headcount working this shift")
