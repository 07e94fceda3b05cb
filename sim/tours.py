"""Tour lengths: the expected shortest closed tour through random stops in a square territory.

`tour_length_km(n_stops, area_km2)` replaces the bare Beardwood-Halton-Hammersley (BHH) estimate
`0.7124 * sqrt(n * A)`, which is only the large-n limit: for the tour sizes couriers drive (a few to a
few dozen stops) the boundary of the territory makes the shortest tour 9-33 % longer than that.

The expected length for a square of area A is `sqrt(A) * L(n)`, where L(n) is the expectation for the
unit square (a square of side s is the unit square scaled by s). L(n) is exact for n <= 3 and a fitted
closed form above, with a finite-size correction that vanishes as n grows so that L(n) / (0.7124 sqrt(n))
tends to 1. The constants were fitted to PyVRP's shortest tours on random instances; `measure_unit_square`
re-measures them (it needs the `pyvrp` dev dependency, imported only when called):

    python -m sim.tours            # table of measured E[L(n)] against the fit, and the refitted constants

The length is straight-line kilometres: roads add a detour factor, which the caller applies.
"""

from __future__ import annotations

import math
import time

import numpy as np

BHH_CONSTANT = 0.7124  # Beardwood-Halton-Hammersley: shortest tour through n uniform points ~ 0.7124 * sqrt(n * area)

# Mean distance between two independent uniform points in the unit square, (2 + sqrt 2 + 5 ln(1 + sqrt 2)) / 15.
# A closed tour through 2 points is twice their distance, through 3 points their triangle's perimeter.
MEAN_PAIR_DISTANCE = (2.0 + math.sqrt(2.0) + 5.0 * math.log1p(math.sqrt(2.0))) / 15.0  # 0.52140543...

# Finite-size correction for n >= 3 stops: L(n) = 0.7124 * sqrt(n) * (1 + A1 / sqrt(n) + A2 / n + A3 / n**2).
# A1/sqrt(n) is the boundary of the square (stops near an edge have fewer near neighbours), A2/n and A3/n**2 the
# finite-size terms. Fitted by `fit_constants` (weighted least squares) to MEASURED, the ratios
# E[L(n)] / (0.7124 sqrt(n)) that `measure_unit_square` found with PyVRP 0.14.1 (seed MEASURE_SEED, relative
# standard error <= 0.25 % at each n = 4 ... 100), under the constraint that L(3) is the exact 3 * MEAN_PAIR_DISTANCE;
# so A1 follows from A2 and A3. The fit is within 0.6 % of every measured mean (see docs/model.md).
FIT_A2 = 0.2522
FIT_A3 = -2.9943
FIT_A1 = math.sqrt(3.0) * (3.0 * MEAN_PAIR_DISTANCE / (BHH_CONSTANT * math.sqrt(3.0)) - 1.0 - FIT_A2 / 3.0 - FIT_A3 / 9.0)  # 0.8943

# What `measure_unit_square()` gave (mean: E[L(n)] on the unit square; ratio: mean / (0.7124 sqrt n), ± ratio_se).
MEASURED = (
    {"n": 3, "instances": 14900, "mean": 1.5612, "ratio": 1.2652, "ratio_se": 0.0032},
    {"n": 4, "instances": 8700, "mean": 1.8844, "ratio": 1.3226, "ratio_se": 0.0033},
    {"n": 5, "instances": 6000, "mean": 2.1190, "ratio": 1.3302, "ratio_se": 0.0033},
    {"n": 6, "instances": 4300, "mean": 2.3229, "ratio": 1.3312, "ratio_se": 0.0033},
    {"n": 7, "instances": 3400, "mean": 2.4852, "ratio": 1.3185, "ratio_se": 0.0033},
    {"n": 8, "instances": 3000, "mean": 2.6096, "ratio": 1.2951, "ratio_se": 0.0032},
    {"n": 10, "instances": 2300, "mean": 2.8697, "ratio": 1.2738, "ratio_se": 0.0031},
    {"n": 12, "instances": 1800, "mean": 3.0933, "ratio": 1.2535, "ratio_se": 0.0031},
    {"n": 15, "instances": 1300, "mean": 3.4204, "ratio": 1.2397, "ratio_se": 0.0031},
    {"n": 17, "instances": 1400, "mean": 3.5790, "ratio": 1.2185, "ratio_se": 0.0030},
    {"n": 20, "instances": 1100, "mean": 3.8300, "ratio": 1.2022, "ratio_se": 0.0029},
    {"n": 23, "instances": 900, "mean": 4.0793, "ratio": 1.1940, "ratio_se": 0.0029},
    {"n": 25, "instances": 800, "mean": 4.2141, "ratio": 1.1831, "ratio_se": 0.0029},
    {"n": 30, "instances": 700, "mean": 4.5640, "ratio": 1.1697, "ratio_se": 0.0028},
    {"n": 40, "instances": 500, "mean": 5.1562, "ratio": 1.1444, "ratio_se": 0.0026},
    {"n": 50, "instances": 400, "mean": 5.7044, "ratio": 1.1324, "ratio_se": 0.0026},
    {"n": 66, "instances": 300, "mean": 6.4454, "ratio": 1.1137, "ratio_se": 0.0025},
    {"n": 80, "instances": 200, "mean": 7.0303, "ratio": 1.1033, "ratio_se": 0.0027},
    {"n": 100, "instances": 200, "mean": 7.7882, "ratio": 1.0932, "ratio_se": 0.0022},
)

MEASURE_NS = (3, 4, 5, 6, 7, 8, 10, 12, 15, 17, 20, 23, 25, 30, 40, 50, 66, 80, 100)
MEASURE_SEED = 20260601
PYVRP_SCALE = 10_000  # PyVRP wants integer distances: coordinates (km) are multiplied by this and distances rounded


def unit_square_tour_length(n_stops) -> np.ndarray:
    """Expected length of the shortest closed tour through `n_stops` uniform points in the unit square.

    Exact for n <= 3 (0 for n <= 1, 2 x the mean pair distance for n = 2, 3 x it for n = 3), linear between
    those integers, and the fitted finite-size form `0.7124 sqrt(n) (1 + A1/sqrt(n) + A2/n + A3/n^2)` above.
    """
    n = np.asarray(n_stops, dtype=float)
    if np.any(np.isnan(n)) or np.any(n < 0):
        raise ValueError("n_stops must be >= 0")
    small = np.interp(n, [0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 2.0 * MEAN_PAIR_DISTANCE, 3.0 * MEAN_PAIR_DISTANCE])
    m = np.maximum(n, 3.0)
    r = np.sqrt(m)
    large = BHH_CONSTANT * r * (1.0 + FIT_A1 / r + FIT_A2 / m + FIT_A3 / (m * m))
    return np.where(n <= 3.0, small, large)


def _unit_square_scalar(n: float) -> float:
    """`unit_square_tour_length` for one number, without numpy's per-call overhead."""
    if n <= 3.0:
        return 0.0 if n <= 1.0 else MEAN_PAIR_DISTANCE * (2.0 * (n - 1.0) if n <= 2.0 else 2.0 + (n - 2.0))
    r = math.sqrt(n)
    return BHH_CONSTANT * r * (1.0 + FIT_A1 / r + FIT_A2 / n + FIT_A3 / (n * n))


def tour_length_km(n_stops, area_km2):
    """Expected length (km, straight line) of the shortest closed tour through `n_stops` stops placed uniformly
    at random in a square territory of `area_km2` km².

    `n_stops` counts the points of the closed tour only: the tour visits them and returns to where it
    started. A courier's station usually lies outside the territory, so the approach leg from the station
    and back is not included; the simulator adds it separately. `n_stops` may be fractional (an expected
    number of stops); values below 1 give 0.

    The length is `sqrt(area_km2) * L(n_stops)` with L the unit-square expectation of
    `unit_square_tour_length`: exact for up to 3 stops, and for more a Beardwood-Halton-Hammersley term
    `0.7124 sqrt(n A)` times a finite-size (boundary) correction fitted to PyVRP's tours (within 0.6 % of the
    measured mean for 3 to 100 stops; it tends to the BHH value as n grows). Roads are longer than
    straight lines: the caller multiplies by its detour factor.

    Scalars give a float; numpy arrays (of either argument, broadcast together) give an array.
    """
    if isinstance(n_stops, (int, float)) and isinstance(area_km2, (int, float)):  # the simulator's per-tour call
        if not (n_stops >= 0 and area_km2 >= 0):
            raise ValueError("n_stops and area_km2 must be >= 0")
        return math.sqrt(area_km2) * _unit_square_scalar(float(n_stops))
    area = np.asarray(area_km2, dtype=float)
    if np.any(np.isnan(area)) or np.any(area < 0):
        raise ValueError("area_km2 must be >= 0")
    out = np.sqrt(area) * unit_square_tour_length(n_stops)
    return float(out) if out.ndim == 0 else out


# --- Re-measuring the constants (needs pyvrp, imported only here) -----------------------------------------------


def pyvrp_tour_km(points_km: np.ndarray, seed: int = 0, no_improvement: int | None = None) -> float:
    """Length (km) of PyVRP's shortest closed tour through `points_km` (an (n, 2) array of coordinates in km).

    The tour is a VRP with one vehicle of unlimited capacity based at the first point, the others its clients;
    distances are Euclidean, in units of 1/PYVRP_SCALE km rounded to integers. The search stops after
    `no_improvement` iterations without a better tour (default max(250, 20 n)), which finds the optimum of
    every n <= 10 instance checked against brute force; at n = 100 it is on average within 0.15 % of the best of
    two runs with no_improvement = 8000.
    """
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
    from pyvrp.stop import NoImprovement

    pts = np.asarray(points_km, dtype=float)
    n = len(pts)
    if n <= 1:
        return 0.0
    xy = pts * PYVRP_SCALE
    dist = np.rint(np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])).astype(np.int64)
    data = ProblemData(
        locations=[Location(float(x), float(y)) for x, y in xy],
        clients=[Client(location=i) for i in range(1, n)],
        depots=[Depot(location=0)],
        vehicle_types=[VehicleType(num_available=1)],
        distance_matrices=[dist],
        duration_matrices=[np.zeros_like(dist)],
    )
    stop = NoImprovement(max(250, 20 * n) if no_improvement is None else no_improvement)
    result = solve(data, stop=stop, seed=seed, collect_stats=False, display=False)
    if not result.is_feasible():
        raise RuntimeError("PyVRP returned an infeasible tour")
    return result.best.distance() / PYVRP_SCALE


def measure_unit_square(
    ns=MEASURE_NS,
    seed: int = MEASURE_SEED,
    rel_se: float = 0.0025,
    min_instances: int = 200,
    max_instances: int = 20_000,
    batch: int = 100,
) -> list[dict]:
    """Mean PyVRP tour length on random unit-square instances, for each n in `ns`.

    Draws instances in batches of `batch` until the relative standard error of the mean is at most `rel_se`
    (and at least `min_instances`, at most `max_instances`). Each n has its own stream
    `default_rng([seed, n])`, so a row does not depend on which other n are measured.
    Returns rows {n, instances, mean, se, ratio (mean / (0.7124 sqrt n)), ratio_se, fit_ratio, seconds}.
    """
    rows = []
    for n in ns:
        rng = np.random.default_rng([seed, n])
        t0 = time.perf_counter()
        lengths: list[float] = []
        while True:
            lengths += [pyvrp_tour_km(rng.random((n, 2)), seed=len(lengths) + i) for i in range(batch)]
            v = np.asarray(lengths)
            se = v.std(ddof=1) / math.sqrt(len(v))
            if len(v) >= max_instances or (len(v) >= min_instances and se <= rel_se * v.mean()):
                break
        bhh = BHH_CONSTANT * math.sqrt(n)
        rows.append(
            {
                "n": n,
                "instances": len(v),
                "mean": float(v.mean()),
                "se": float(se),
                "ratio": float(v.mean() / bhh),
                "ratio_se": float(se / bhh),
                "fit_ratio": float(unit_square_tour_length(n) / bhh),
                "seconds": time.perf_counter() - t0,
            }
        )
    return rows


def fit_constants(rows: list[dict]) -> tuple[float, float, float]:
    """(A1, A2, A3) of `unit_square_tour_length` fitted to measured rows (n > 3, weighted by 1 / ratio_se),
    constrained to the exact value at n = 3."""
    n = np.array([r["n"] for r in rows if r["n"] > 3], dtype=float)
    y = np.array([r["ratio"] for r in rows if r["n"] > 3]) - 1.0
    w = 1.0 / np.array([r["ratio_se"] for r in rows if r["n"] > 3])
    basis = np.stack([n**-0.5, n**-1.0, n**-2.0], axis=1)
    # Constraint at n = 3: A1/sqrt3 + A2/3 + A3/9 = y3; eliminate A1.
    b3 = np.array([3**-0.5, 3**-1.0, 3**-2.0])
    y3 = 3.0 * MEAN_PAIR_DISTANCE / (BHH_CONSTANT * math.sqrt(3.0)) - 1.0
    reduced = basis[:, 1:] - np.outer(basis[:, 0], b3[1:] / b3[0])
    target = y - basis[:, 0] * y3 / b3[0]
    (a2, a3), *_ = np.linalg.lstsq(reduced * w[:, None], target * w, rcond=None)
    a1 = (y3 - b3[1] * a2 - b3[2] * a3) / b3[0]
    return float(a1), float(a2), float(a3)


def main() -> None:  # pragma: no cover - a measurement, not a test
    rows = measure_unit_square()
    print(f"{'n':>4} {'instances':>9} {'E[L(n)]':>8} {'se %':>6} {'measured':>9} {'fit':>7} {'fit err %':>9} {'s':>6}")
    for r in rows:
        err = (r["fit_ratio"] / r["ratio"] - 1.0) * 100.0
        print(
            f"{r['n']:>4} {r['instances']:>9} {r['mean']:>8.4f} {100 * r['se'] / r['mean']:>6.3f} "
            f"{r['ratio']:>9.4f} {r['fit_ratio']:>7.4f} {err:>9.2f} {r['seconds']:>6.0f}"
        )
    print("refitted (A1, A2, A3) =", fit_constants(rows))


if __name__ == "__main__":  # pragma: no cover
    main()
