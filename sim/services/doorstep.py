"""音尊达 doorstep delivery: the courier phones ahead and hands the parcel over at the door.

Each doorstep parcel is a stop of its own with a longer service time; attempts fail less
often (the call confirms someone is in). The unit also draws refusals for every parcel
(the standard rate is `lastmile.refusal_prob`), since a doorstep parcel has its own rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import spec
from .base import Service


@dataclass
class DoorstepConfig:
    """音尊达: phone ahead and hand over at the door, never dropped at a locker."""

    share: float = spec(0.0, ge=0.0, le=1.0, doc="share of orders requiring doorstep delivery")
    stop_service_min: float = spec(5.0, ge=0.0, le=600.0, doc="call, climb, hand over: each doorstep parcel is its own stop")
    failed_attempt_prob: float = spec(0.02, ge=0.0, lt=1.0, doc="lower than standard: the call confirms someone is in")
    refusal_prob: float = spec(0.0, ge=0.0, lt=1.0, doc="parcels refused at the door and returned")


def validate(cfg) -> None:
    pass


def active(cfg) -> bool:
    return cfg.services.doorstep.share > 0


def needs_draws(cfg) -> bool:
    door = cfg.services.doorstep
    return door.share > 0 or door.refusal_prob > 0 or cfg.lastmile.refusal_prob > 0


def failures_before_success(u: np.ndarray, p: float) -> np.ndarray:
    """Geometric number of failed attempts (each fails with probability p) by inverse transform of uniforms."""
    if p <= 0:
        return np.zeros(u.size, dtype=np.int8)
    return np.minimum(np.floor(np.log1p(-u) / np.log(p)), 100).astype(np.int8)


def draw(cfg, o, u: dict[str, np.ndarray]) -> None:
    """Doorstep flags, doorstep parcels' failed attempts, and every parcel's refusal."""
    door_cfg = cfg.services.doorstep
    o.doorstep[:] = u["doorstep"] < door_cfg.share
    door = o.doorstep
    if door.any():
        o.failed_attempts[door] = failures_before_success(u["doorstep_failures"][door], door_cfg.failed_attempt_prob)
    o.refused[:] = np.where(door, u["refusal"] < door_cfg.refusal_prob, u["refusal"] < cfg.lastmile.refusal_prob)


class Unit(Service):
    def __init__(self, cfg, orders, u, env, end_min, state=None) -> None:
        self.orders, self.stop_min = orders, cfg.services.doorstep.stop_service_min

    def stops(self, load: np.ndarray) -> tuple[np.ndarray, float] | None:
        door = self.orders.doorstep[load]
        return (door, self.stop_min) if door.any() else None


def order_columns(cfg, out) -> dict[str, tuple[str, np.ndarray]]:
    return {"doorstep": ("bool", out.orders.doorstep)}


def kpis(cfg, ctx) -> dict[str, float]:
    """Courier time per parcel by mode, failed attempts, refusals."""
    o, nan = ctx.out.orders, float("nan")
    tours = ctx.out.tours.by_station().between("start", ctx.t0, ctx.out.horizon_min)
    minutes, parcels = sum(tours.duration_min.tolist()), int(tours.parcels.sum())
    door_min, door_parcels = sum(tours.doorstep_min.tolist()), int(tours.doorstep_parcels.sum())

    def per100(minutes_: float, parcels_: int) -> float:
        return minutes_ / 60.0 / parcels_ * 100.0 if parcels_ else nan

    k = {
        "courier_hours_per_100_parcels": per100(minutes, parcels),
        "courier_hours_per_100_parcels_standard": per100(minutes - door_min, parcels - door_parcels),
        "courier_hours_per_100_parcels_doorstep": per100(door_min, door_parcels),
    }
    measured = ctx.measured
    for suffix, mode in (("", measured), ("_standard", measured & ~o.doorstep), ("_doorstep", measured & o.doorstep)):
        attempts = int(o.attempts[mode].sum())
        k[f"failed_attempt_rate{suffix}"] = o.failed_attempts_made(mode) / attempts if attempts else nan
    done = ~np.isnan(o.delivered) | ~np.isnan(o.returned)
    finished = measured & done
    k["refusal_rate"] = float(np.mean(~np.isnan(o.returned[finished]))) if finished.any() else nan
    k["tours_per_100_parcels"] = 100.0 * len(tours) / parcels if parcels else nan
    return k
