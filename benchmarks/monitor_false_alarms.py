"""readiness monitor: false alarms on an unchanged population, detection of planted changes.

A logistic world (four numeric features, one categorical, a sensitive attribute; the model
is well specified, so its scores are calibrated). The review's holdout has ``--holdout``
rows. Production batches are fresh draws from the same world (the null: every alert is a
false alarm), or from a world with one planted change:

- ``x3 +0.25 sd`` / ``x3 +0.5 sd``: one feature shifted (the model barely uses x3);
- ``x1 +0.5 sd``: covariate shift of the strongest feature (P(y | x) unchanged);
- ``concept``: the relationship weakens (x1's coefficient 1.5 → 0.5): only labels show it;
- ``c: new category``: 20% of rows hold a category the review never saw.

For each batch size the table gives the share of batches with any alert and, per change,
the share where the expected test fired; the null rows also give the share that a fixed
rule of thumb (any feature PSI > 0.1, or > 0.25) would have flagged. Labels are given
(``--target``), so the realised-accuracy, cost and group tests run too.

    python benchmarks/monitor_false_alarms.py [--batches 200] [--holdout 1500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from monitor_world import FEATURES, model_pipeline, world  # noqa: E402

from readiness.inputs import Roles, Settings, build_context, load_model  # noqa: E402
from readiness.inputs.tables import Table, sha256_bytes  # noqa: E402
from readiness.monitor.run import load_review, monitor_batch  # noqa: E402
from readiness.review import run_review  # noqa: E402


def table(frame: pd.DataFrame, role: str) -> Table:
    data = frame.to_csv(index=False).encode()
    return Table(name=f"{role}.csv", role=role, frame=frame, sha256=sha256_bytes(data), size_bytes=len(data))


CHANGES = {  # name -> (world arguments, the test expected to fire)
    "x3 +0.25 sd": ({"shift": {"x3": 0.25}}, "feature_drift:x3"),
    "x3 +0.5 sd": ({"shift": {"x3": 0.5}}, "feature_drift:x3"),
    "x1 +0.5 sd": ({"shift": {"x1": 0.5}}, "feature_drift:x1"),
    "concept (b1 1.5 → 0.5)": ({"b1": 0.5}, "accuracy"),
    "c: 20% new category": ({"new_category": 0.2}, "feature_drift:c"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--holdout", type=int, default=1500)
    ap.add_argument("--sizes", default="200,1000,5000")
    a = ap.parse_args()
    rng = np.random.default_rng(2026)
    tr, te = world(4000, rng), world(a.holdout, rng)
    pipe = model_pipeline().fit(tr[FEATURES], tr.y)
    model = load_model(sio.dumps(pipe), name="model.skops", sandbox=False)
    ctx = build_context(train=table(tr, "train"), test=table(te, "test"),
                        roles=Roles(target="y", exclude=["g"], sensitive=["g"]), model=model,
                        settings=Settings(cost_fp=1, cost_fn=3))
    review = load_review(run_review(ctx, checks=["monitoring.reference"]).to_json().encode(), name="review.json")
    print(f"holdout {a.holdout:,} rows; {a.batches} batches per row of the table\n")
    print("| batch rows | population | any alert | expected test fired | PSI > 0.1 rule | PSI > 0.25 rule | "
          "CBPE − realised accuracy (mean, sd) | s / batch |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in [int(s) for s in a.sizes.split(",")]:
        for name, (kw, expected) in [("unchanged", ({}, None)), *CHANGES.items()]:
            alerts = fired = rule1 = rule25 = 0
            gaps = []
            t0 = time.perf_counter()
            for _ in range(a.batches):
                r = monitor_batch(review, table(world(size, rng, **kw), "batch"), model=model, target="y",
                                  seed=int(rng.integers(2**31)))
                alerts += bool(r.alerts)
                fired += expected is not None and any(t.id == expected for t in r.alerts)
                psis = [f["psi"] for f in r.features.values()]
                rule1 += max(psis) > 0.1
                rule25 += max(psis) > 0.25
                gaps.append(r.estimated["accuracy"] - r.realised["accuracy"])
            dt = (time.perf_counter() - t0) / a.batches
            g = np.asarray(gaps)
            print(f"| {size:,} | {name} | {alerts / a.batches:.1%} | "
                  f"{'–' if expected is None else f'{fired / a.batches:.1%}'} | {rule1 / a.batches:.1%} | "
                  f"{rule25 / a.batches:.1%} | {100 * g.mean():+.1f} ± {100 * g.std():.1f} points | {dt:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
