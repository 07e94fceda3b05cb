"""FCFS multi-server queues computed by recursion over batches of orders, not one process per order.

A pool of c servers serving in arrival order is the recursion
    start_i = max(arrival_i, earliest time a server is free and on duty),
which gives exactly the waits a process-per-order SimPy `Resource` model would give, at a
fraction of the cost. Servers keep daily shifts: a server finishes the order
in hand after its shift ends, then waits for its next shift.
"""

from __future__ import annotations

import heapq

import numpy as np

from .clock import MIN_PER_DAY, ShiftHours, shift_bounds, shift_end_after


def lindley_starts(arrivals: np.ndarray, service: np.ndarray, free_at: float) -> np.ndarray:
    """Start times at one always-on FCFS server that is free from `free_at` (vectorised Lindley recursion)."""
    if arrivals.size == 0:
        return arrivals.copy()
    cum = np.concatenate([[0.0], np.cumsum(service)[:-1]])
    # start_i = cum_i + max(free_at, max_{j<=i} (a_j - cum_j))
    # the clamp removes rounding: cum + (a - cum) can land one ulp below a
    return np.maximum(cum + np.maximum(np.maximum.accumulate(arrivals - cum), free_at), arrivals)


class ServerPool:
    """c identical FCFS servers with daily shifts; `serve` continues from where the last batch left off.

    A server starts work only on shift; work in hand may run past the shift's end as overtime, but a
    server does not start work it cannot finish within `overtime_max_min` of the end: it goes home and
    the work waits for the next server (work longer than a whole shift and its overtime is started at
    a shift's start anyway, the only way it can ever be done)."""

    def __init__(self, shifts: list[ShiftHours], start_min: float = 0.0, overtime_max_min: float = float("inf")):
        self.shifts = list(shifts)
        self.overtime_max_min = overtime_max_min
        self.always_on = all(w.always for w in self.shifts)
        self._duty = [(w.start, w.end, w.always, w.start < w.end) for w in self.shifts]
        if self.always_on:
            self._free = [start_min] * len(self.shifts)
        else:
            self._free = [(w.next_on_duty(start_min), k) for k, w in enumerate(self.shifts)]
            heapq.heapify(self._free)

    @property
    def servers(self) -> int:
        return len(self.shifts)

    def overtime(self, starts: np.ndarray, finishes: np.ndarray, servers: np.ndarray, extension_min: float = 0.0) -> list[tuple]:
        """(server, shift end, until) for the work of a batch that ran past its server's shift end; a pool whose
        shifts were extended by `extension_min` (to let work start in overtime) counts from the shift's own end."""
        if servers is None or starts.size == 0:
            return []
        start, end = shift_bounds(self.shifts)
        shift_end = shift_end_after(start[servers], end[servers], starts) - extension_min
        late = finishes > shift_end
        return list(zip(servers[late].tolist(), shift_end[late].tolist(), finishes[late].tolist()))

    def serve(self, arrivals: np.ndarray, service: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(start times, server of each) for a batch in FCFS order (arrivals sorted ascending and not before
        earlier batches); the servers are None for a pool always on duty, where which one serves does not matter."""
        n = arrivals.size
        if n == 0:
            return np.empty(0), None
        if not self.shifts:
            return np.full(n, np.inf), None
        if self.always_on and self.servers == 1:
            starts = lindley_starts(arrivals, service, self._free[0])
            self._free[0] = float(starts[-1] + service[-1])
            return starts, None
        if self.always_on:
            return self._serve_always_on(arrivals.tolist(), service.tolist()), None
        if self.servers == 1:
            return self._serve_one_with_shift(arrivals, service), np.zeros(n, dtype=np.int16)
        return self._serve_with_shifts(arrivals.tolist(), service.tolist())

    def _serve_one_with_shift(self, arrivals: np.ndarray, service: np.ndarray) -> np.ndarray:
        """One server with a daily shift: the vectorised Lindley recursion within each shift, the work that would
        not fit (by the shift's end, and within the overtime cap) carried to the next shift; a loop per shift, not per order."""
        shift, cap = self.shifts[0], self.overtime_max_min
        free, _ = self._free[0]
        starts, i, n = np.empty(arrivals.size), 0, arrivals.size
        while i < n:
            begin = shift.next_on_duty(max(free, float(arrivals[i])))
            end = shift.end_after(begin)
            s = lindley_starts(arrivals[i:], service[i:], begin)
            fits = (s < end) & (s + service[i:] <= end + cap)
            k = int(np.argmin(fits)) if not fits.all() else s.size
            if k == 0 and s[0] == begin and begin % MIN_PER_DAY == shift.start:
                k = 1  # longer than a whole shift and its overtime: started at the shift's start anyway
            starts[i : i + k] = s[:k]
            free = float(s[k - 1] + service[i + k - 1]) if k else free
            i += k
            if i < n:  # the rest waits for the next shift
                free = max(free, shift.next_on_duty(end))
        self._free[0] = (free, 0)
        return starts

    def _serve_always_on(self, arrivals: list[float], service: list[float]) -> np.ndarray:
        heap, replace = self._free, heapq.heapreplace
        starts = [0.0] * len(arrivals)
        for i, (a, s) in enumerate(zip(arrivals, service)):
            f = heap[0]
            t = a if a > f else f
            replace(heap, t + s)
            starts[i] = t
        return np.array(starts)

    def _serve_with_shifts(self, arrivals: list[float], service: list[float]) -> tuple[np.ndarray, np.ndarray]:
        heap = self._free
        replace, pop, push = heapq.heapreplace, heapq.heappop, heapq.heappush
        duty = self._duty  # ShiftHours.next_on_duty, inlined: this loop runs once per order
        day, cap = MIN_PER_DAY, self.overtime_max_min
        capped = cap != float("inf")
        starts = [0.0] * len(arrivals)
        servers = [0] * len(arrivals)
        for i, (a, s) in enumerate(zip(arrivals, service)):
            while True:
                f, k = heap[0]
                t = a if a > f else f
                begin, end, always, same_day = duty[k]
                if always:
                    break
                tod = t % day
                if same_day:
                    if begin <= tod < end:
                        if not capped or t + s <= t - tod + end + cap or tod == begin:
                            break
                        on = t - tod + day + begin  # cannot finish within the overtime cap: home until tomorrow
                    else:
                        on = t - tod + (begin if tod < begin else day + begin)
                else:
                    if tod >= begin or tod < end:
                        shift_end = t - tod + end + (day if tod >= begin else 0.0)
                        if not capped or t + s <= shift_end + cap or tod == begin:
                            break
                        on = shift_end - end + begin
                    else:
                        on = t - tod + begin
                # this server is off duty at t (or done for its shift): re-queue it at its next shift and look again
                pop(heap)
                push(heap, (on, k))
            replace(heap, (t + s, k))
            starts[i] = t
            servers[i] = k
        return np.array(starts), np.array(servers, dtype=np.int16)
