"""THE REFERENCE: the validation's networks simulated by Ciw, an independent simulator.

Nothing here shares code with `sim`; Ciw draws its own random numbers. Statistics are taken
over customers arriving after the warm-up, as the model does.
"""

from __future__ import annotations

import ciw
import numpy as np


def ciw_series(
    arrival_per_min: float, servers: list[int], service_means_min: list[float], horizon_min: float, warmup_min: float, seed: int
) -> dict[str, float]:
    """Exponential multi-server stations in series; stats of the first station and of the whole system."""
    k = len(servers)
    routing = [[1.0 if j == i + 1 else 0.0 for j in range(k)] for i in range(k)]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_per_min)] + [None] * (k - 1),
        service_distributions=[ciw.dists.Exponential(rate=1.0 / m) for m in service_means_min],
        number_of_servers=list(servers),
        routing=routing,
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon_min)
    records = sim.get_all_records()
    first = [r for r in records if r.node == 1 and warmup_min <= r.arrival_date < horizon_min]
    waits = np.array([r.waiting_time for r in first])
    busy = sum(
        min(r.service_end_date, horizon_min) - max(r.service_start_date, warmup_min)
        for r in records
        if r.node == 1 and r.service_end_date > warmup_min
    )
    start = {r.id_number: r.arrival_date for r in first}
    done = {r.id_number: r.exit_date for r in records if r.node == k and r.id_number in start}
    sojourn = np.array([done[i] - start[i] for i in done])
    return {
        "wait_mean_min": float(waits.mean()),
        "wait_prob": float(np.mean(waits > 0)),
        "utilization": busy / (servers[0] * (horizon_min - warmup_min)),
        "system_sojourn_mean_min": float(sojourn.mean()),
    }
