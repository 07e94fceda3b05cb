"""Time of day: the model's clock is minutes since midnight of the first simulated day."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .schema import ConfigError, parse_time_min, spec

MIN_PER_DAY = 1440.0


def day_of(t_min: float) -> int:
    return int(t_min // MIN_PER_DAY)


def daily_times(times_hhmm: list[str], days: int, key: str = "times") -> np.ndarray:
    """Absolute minutes of a daily timetable repeated over `days` days, sorted."""
    tod = np.array(sorted(parse_time_min(t, key) for t in times_hhmm), dtype=float)
    if tod.size == 0:
        return tod
    return (np.arange(days)[:, None] * MIN_PER_DAY + tod[None, :]).ravel()


def next_at_or_after(t: np.ndarray, timetable: np.ndarray) -> np.ndarray:
    """For each time, the first timetable entry >= it (inf when there is none)."""
    pos = np.searchsorted(timetable, t, side="left")
    padded = np.append(timetable, np.inf)
    return padded[pos]


def call_at(env, times: np.ndarray, idx: np.ndarray, handler) -> None:
    """At each distinct time in `times` (not before now), call `handler` with the orders of `idx` due then,
    in their given order: one SimPy event per distinct time."""
    order = np.argsort(times, kind="stable")
    keys, first = np.unique(times[order], return_index=True)
    for t, batch in zip(keys.tolist(), np.split(idx[order], first[1:])):
        event = env.timeout(t - env.now)
        event.callbacks.append(lambda _ev, batch=batch: handler(batch))


@dataclass
class Shift:
    """A daily shift; `end` before `start` means it runs past midnight."""

    start: str = spec("08:00", time=True)
    end: str = spec("17:00", time=True)
    share: float = spec(1.0, ge=0.0, le=1.0, doc="share of the headcount working this shift")


@dataclass(frozen=True)
class DutyWindow:
    """One server's daily on-duty window, in minutes after midnight."""

    start: float
    end: float
    always: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        always = self.end - self.start >= MIN_PER_DAY or (self.start == 0.0 and self.end >= MIN_PER_DAY)
        object.__setattr__(self, "always", always)

    def on_duty(self, t: float) -> bool:
        if self.always:
            return True
        tod = t % MIN_PER_DAY
        if self.start < self.end:
            return self.start <= tod < self.end
        return tod >= self.start or tod < self.end

    def next_on_duty(self, t: float) -> float:
        """The first on-duty moment at or after t."""
        if self.always or self.on_duty(t):
            return t
        day = t // MIN_PER_DAY
        tod = t - day * MIN_PER_DAY
        if self.start < self.end and tod >= self.end:
            return (day + 1) * MIN_PER_DAY + self.start
        return day * MIN_PER_DAY + self.start

    def on_duty_minutes(self, a: float, b: float) -> float:
        """Minutes on duty within [a, b)."""
        if self.always:
            return max(0.0, b - a)
        total = 0.0
        first, last = int(a // MIN_PER_DAY) - 1, int(b // MIN_PER_DAY) + 1
        length = (self.end - self.start) % MIN_PER_DAY
        for d in range(first, last + 1):
            s = d * MIN_PER_DAY + self.start
            total += max(0.0, min(b, s + length) - max(a, s))
        return total


def duty_windows(shifts: list[Shift], headcount: int, key: str) -> list[DutyWindow]:
    """Split a headcount over shifts by share (largest remainder), one window per server."""
    if not shifts:
        return [DutyWindow(0.0, MIN_PER_DAY)] * headcount
    shares = np.array([s.share for s in shifts], dtype=float)
    if not np.isclose(shares.sum(), 1.0, atol=1e-6):
        raise ConfigError(f"{key}", [s.share for s in shifts], "shift shares must add up to 1")
    exact = shares * headcount
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: headcount - counts.sum()]:
        counts[i] += 1
    windows = []
    for i, (shift, n) in enumerate(zip(shifts, counts)):
        start = parse_time_min(shift.start, f"{key}[{i}].start")
        end = parse_time_min(shift.end, f"{key}[{i}].end")
        if start == end or (start == 0.0 and end == MIN_PER_DAY):
            window = DutyWindow(0.0, MIN_PER_DAY)
        else:
            window = DutyWindow(start, end % MIN_PER_DAY if end != MIN_PER_DAY else MIN_PER_DAY)
        windows += [window] * int(n)
    return windows
