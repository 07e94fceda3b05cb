"""Where each order of a finished run is, read from its timestamps alone (shared by the conservation tests).

An order ends a run in exactly one state: delivered, returned (refused at the door), or still
in the chain, waiting or in service after the last stage it reached. Its stage timestamps are
a prefix of `CHAIN`: a stage is never stamped when an earlier one is missing. An order whose
timestamps fit none of these is `INCONSISTENT`.
"""

from __future__ import annotations

import itertools

import numpy as np

# The stamps along the chain, in order; after the last one an order is delivered or returned.
CHAIN = (
    "created",
    "pick_start",
    "picked",
    "arrived_sort",
    "sort_start",
    "sorted",
    "departed",
    "arrived_station",
    "out_for_delivery",
    "last_out",
)
# Where an order is when a stamp of `CHAIN` is the last it has.
IN_CHAIN = {
    "created": "waiting for a picker or a pickup round",
    "pick_start": "being picked or collected",
    "picked": "on the way to the sorting centre",
    "arrived_sort": "waiting for the sorter",
    "sort_start": "on the sorter",
    "sorted": "waiting for a truck",
    "departed": "on a truck",
    "arrived_station": "waiting at the delivery station",
    "out_for_delivery": "out for delivery",
    "last_out": "out for delivery or waiting for a retry",
}
DELIVERED, RETURNED, INCONSISTENT = "delivered", "returned", "inconsistent"

# Every timestamp in the order it happens (an order may skip stamps, e.g. in a textbook reduction).
TIME_ORDER = (*CHAIN, "delivered")


def end_states(o) -> np.ndarray:
    """The state of each order of an `OrderTable` when the clock stopped."""
    reached = np.column_stack([~np.isnan(getattr(o, name)) for name in CHAIN])
    depth = reached.sum(axis=1)
    prefix = (reached == (np.arange(len(CHAIN))[None, :] < depth[:, None])).all(axis=1)
    delivered, returned = ~np.isnan(o.delivered), ~np.isnan(o.returned)
    names = np.array([INCONSISTENT] + [IN_CHAIN[name] for name in CHAIN], dtype=object)
    state = names[depth]
    state[delivered] = DELIVERED
    state[returned] = RETURNED
    whole_chain = depth == len(CHAIN)
    state[~prefix | (delivered & returned) | ((delivered | returned) & ~whole_chain)] = INCONSISTENT
    return state


def monotone_violations(o) -> dict[tuple[str, str], int]:
    """(earlier, later) -> how many orders have both stamps with `later` before `earlier`; empty when all is in order."""
    pairs = list(itertools.combinations(TIME_ORDER, 2)) + [(name, "returned") for name in CHAIN]
    bad = {}
    for earlier, later in pairs:
        a, b = getattr(o, earlier), getattr(o, later)
        n = int(np.count_nonzero(~np.isnan(a) & ~np.isnan(b) & (b < a)))
        if n:
            bad[(earlier, later)] = n
    return bad
