"""CPU time of building and running the model at the defaults (or with `key=value` overrides), best of N.

    python scripts/time_model.py [N] [key=value ...]

Compare two versions by running it in turn from each checkout (`PYTHONPATH=<other checkout> python
scripts/time_model.py`): the machine's speed drifts, so alternate and compare pair by pair.
"""

from __future__ import annotations

import gc
import sys
import time

import yaml

from sim.config import load_config
from sim.model import Model


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and argv[0].isdigit() else 5
    overrides: dict = {"output": {"progress": False}}
    for item in argv[1 if argv and argv[0].isdigit() else 0 :]:
        key, _, value = item.partition("=")
        node = overrides
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)  # 20 -> int, 0.5 -> float, true -> bool, as on the command line
    cfg = load_config(overrides)
    build_s, run_s = [], []
    for _ in range(n):
        gc.collect()
        started = time.process_time()
        model = Model(cfg)
        built = time.process_time()
        model.run()
        build_s.append(built - started)
        run_s.append(time.process_time() - built)
    print(f"Model(cfg) {min(build_s):.3f} s, Model.run {min(run_s):.3f} s (CPU, best of {n})")


if __name__ == "__main__":
    main(sys.argv[1:])
