"""Time of day: the model's clock is minutes since midnight of the first simulated day.

Also the two idioms every stage uses: run an action at each time of a daily timetable
(`at_times`), and act on index batches grouped by a key such as a time or a destination
(`group_by`, `call_at`); and servers' daily shift hours (`ShiftHours`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .config.shifts import Shift

MIN_PER_DAY = 1440.0


def daily_times(times_of_day: Sequence[float], days: int) -> np.ndarray:
    """Absolute minutes of a daily timetable (minutes after midnight) repeated over `days` days, sorted."""
    tod = np.array(sorted(float(t) for t in times_of_day), dtype=float)
    if tod.size == 0:
        return tod
    return (np.arange(days)[:, None] * MIN_PER_DAY + tod[None, :]).ravel()


def at_times(env, times: Sequence[float], action: Callable[[float], None]):
    """A process that calls `action(t)` at each time of a sorted timetable (at once for times not after now)."""

    def run():
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            action(t)

    return env.process(run())


def group_by(keys: np.ndarray, idx: np.ndarray) -> Iterator[tuple[object, np.ndarray]]:
    """(key, the indices of `idx` with that key, in their given order), keys ascending."""
    order = np.argsort(keys, kind="stable")
    values, first = np.unique(keys[order], return_index=True)
    return zip(values.tolist(), np.split(idx[order], first[1:]))


def call_at(env, times: np.ndarray, idx: np.ndarray, handler: Callable[[np.ndarray], None]) -> None:
    """At each distinct time in `times` (not before now), call `handler` with the orders of `idx` due then,
    in their given order: one SimPy event per distinct time."""
    for t, batch in group_by(times, idx):
        event = env.timeout(t - env.now)
        event.callbacks.append(lambda _ev, batch=batch: handler(batch))


@dataclass(frozen=True)
class ShiftHours:
    """One server's daily shift, in minutes after midnight (`end` before `start`: past midnight)."""

    start: float
    end: float
    always: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        always = self.end - self.start >= MIN_PER_DAY or self.start == self.end or (self.start == 0.0 and self.end >= MIN_PER_DAY)
        object.__setattr__(self, "always", always)

    def on_duty(self, t: float) -> bool:
        if self.always:
            return True
        tod = t % MIN_PER_DAY
        # `t - tod + end > t` is `tod < end` as `end_after` computes the shift's end: without it, a time one ulp
        # before the end would be on duty in a shift that (rounded) already ended
        if self.start < self.end:
            return self.start <= tod < self.end and t - tod + self.end > t
        return tod >= self.start or (tod < self.end and t - tod + self.end > t)

    def end_after(self, t: float) -> float:
        """For work started at `t` on duty, the end of that shift (inf when always on duty)."""
        if self.always:
            return float("inf")
        day = t // MIN_PER_DAY * MIN_PER_DAY
        if self.start < self.end or t - day < self.end:
            return day + self.end
        return day + MIN_PER_DAY + self.end

    def next_on_duty(self, t: float) -> float:
        """The first on-duty moment at or after t."""
        if self.always or self.on_duty(t):
            return t
        day = t // MIN_PER_DAY
        tod = t - day * MIN_PER_DAY
        if self.start < self.end and tod >= self.end:
            return (day + 1) * MIN_PER_DAY + self.start
        return day * MIN_PER_DAY + self.start


ALWAYS = ShiftHours(0.0, MIN_PER_DAY)


def split_headcount(shares, headcount: int) -> np.ndarray:
    """Whole people per share, adding up to `headcount` (largest remainder; ties to the first)."""
    shares = np.asarray(shares, dtype=float)
    exact = shares / shares.sum() * headcount if shares.sum() > 0 else np.zeros(shares.size)
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: headcount - counts.sum()]:
        counts[i] += 1
    return counts


def assign_shifts(shifts: list[Shift], headcount: int) -> list[ShiftHours]:
    """Split a headcount over shifts by share (largest remainder): one `ShiftHours` per server."""
    if not shifts:
        return [ALWAYS] * headcount
    counts = split_headcount([s.share for s in shifts], headcount)
    hours = []
    for shift, n in zip(shifts, counts):
        start, end = float(shift.start), float(shift.end)
        if start == end or (start == 0.0 and end == MIN_PER_DAY):
            one = ALWAYS
        else:
            one = ShiftHours(start, end % MIN_PER_DAY if end != MIN_PER_DAY else MIN_PER_DAY)
        hours += [one] * int(n)
    return hours


# --- shift arithmetic over many servers at once (arrays of shift starts and ends) -------------------


def shift_bounds(shifts: list[ShiftHours]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of servers' daily shifts as arrays, for the functions below."""
    return np.array([w.start for w in shifts], dtype=float), np.array([w.end for w in shifts], dtype=float)


def _always(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return (end - start >= MIN_PER_DAY) | (start == end) | ((start == 0.0) & (end >= MIN_PER_DAY))


def on_duty_minutes(start: np.ndarray, end: np.ndarray, a: float, b: float) -> float:
    """Server-minutes on duty within [a, b) for servers with daily shifts [start, end)."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    if start.size == 0 or b <= a:
        return 0.0
    always = _always(start, end)
    length = np.where(always, MIN_PER_DAY, (end - start) % MIN_PER_DAY)
    days = np.arange(int(a // MIN_PER_DAY) - 1, int(b // MIN_PER_DAY) + 2) * MIN_PER_DAY
    s = days[None, :] + np.where(always, 0.0, start)[:, None]
    overlap = np.clip(np.minimum(b, s + length[:, None]) - np.maximum(a, s), 0.0, None)
    total = np.where(always, b - a, overlap.sum(axis=1))
    return float(total.sum())


def on_duty_mask(start: np.ndarray, end: np.ndarray, at: np.ndarray) -> np.ndarray:
    """[server, time] -> on duty at that time."""
    start, end = np.asarray(start, float)[:, None], np.asarray(end, float)[:, None]
    tod = np.asarray(at, float)[None, :] % MIN_PER_DAY
    same_day = (start <= tod) & (tod < end)
    overnight = (tod >= start) | (tod < end)
    return _always(start, end) | np.where(start < end, same_day, overnight)


def shift_end_after(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For work started at `t` on duty, the end of that shift (inf for servers always on duty)."""
    start, end, t = (np.asarray(x, float) for x in (start, end, t))
    day = np.floor(t / MIN_PER_DAY) * MIN_PER_DAY
    tod = t - day
    same_day_end = day + end
    # past midnight: started before midnight -> ends tomorrow; started after midnight -> ends today
    overnight_end = np.where(tod >= start, day + MIN_PER_DAY + end, day + end)
    out = np.where(start < end, same_day_end, overnight_end)
    return np.where(_always(start, end), np.inf, out)
