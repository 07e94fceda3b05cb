"""CPU time of building and running the model, best of N, for the config `python -m sim` composes from the same
overrides (Hydra syntax: `cutoff.time=10:30`, `+experiment=double11`, ...).

    python scripts/time_model.py [N] [override ...]

Compare two versions by running it in turn from each checkout (`PYTHONPATH=<other checkout> python
scripts/time_model.py`): the machine's speed drifts, so alternate and compare pair by pair.
"""

from __future__ import annotations

import gc
import sys
import time

from sim import cli
from sim.config import load_config
from sim.model import Model


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and argv[0].isdigit() else 5
    overrides = argv[1:] if argv and argv[0].isdigit() else argv
    cli._register_base()
    data = cli._model_part(cli._compose(overrides))
    data["output"]["progress"] = False
    cfg = load_config(data)
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
