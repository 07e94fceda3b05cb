"""The run-time part of a service: the hooks a stage may call (every one optional)."""

from __future__ import annotations


class Service:
    """A service's run-time part, built per run; every hook is optional."""

    def adjust_cutoff(self, idx, cutoff):
        return cutoff

    def adjust_promise(self, idx, tier, promised) -> None:
        pass

    def promised(self, idx) -> None:
        pass

    def picked(self, idx) -> None:
        pass

    def hold_until(self, idx):
        return None

    def due(self, idx):
        return None

    def stops(self, load):
        return None
