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

from .clock import MIN_PER_DAY, ShiftHours


def lindley_starts(arrivals: np.ndarray, service: np.ndarray, free_at: float) -> np.ndarray:
    """Start times at one always-on FCFS server that is free from `free_at` (vectorised Lindley recursion)."""
    if arrivals.size == 0:
        return arrivals.copy()
    cum = np.concatenate([[0.0], np.cumsum(service)[:-1]])
    # start_i = cum_i + max(free_at, max_{j<=i} (a_j - cum_j))
    return cum + np.maximum(np.maximum.accumulate(arrivals - cum), free_at)


class ServerPool:
    """c identical FCFS servers with daily shifts; `serve` continues from where the last batch left off."""

    def __init__(self, shifts: list[ShiftHours], start_min: float = 0.0):
        self.shifts = list(shifts)
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
        return self._serve_with_shifts(arrivals.tolist(), service.tolist())

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
        day = MIN_PER_DAY
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
                        break
                    on = t - tod + (begin if tod < begin else day + begin)
                else:
                    if tod >= begin or tod < end:
                        break
                    on = t - tod + begin
                # this server is off duty at t: re-queue it at its next shift and look again
                pop(heap)
                push(heap, (on, k))
            replace(heap, (t + s, k))
            starts[i] = t
            servers[i] = k
        return np.array(starts), np.array(servers, dtype=np.int16)
