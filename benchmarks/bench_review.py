"""Time a full review: the bundled sample, and a generated 50,000-row data set.

    python benchmarks/bench_review.py [--rows 50000]

Prints per-check seconds so slow checks are easy to spot. A script, not a timed test:
numbers depend on the machine (ours: 2 cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generated(rows: int):
    spec = importlib.util.spec_from_file_location("gen", ROOT / "sample_data" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    frame = gen.make_frame(seed=7, n=rows)
    train, test = gen.split(frame, seed=7)
    model = gen.make_model(train)
    return train, test, model


def timed_review(ctx, label: str) -> None:
    from readiness import run_review

    t0 = time.perf_counter()
    report = run_review(ctx)
    total = time.perf_counter() - t0
    print(f"\n{label}: {len(ctx.train):,} training + {len(ctx.test):,} holdout rows -> {total:.1f} s")
    for c in sorted(report.checks, key=lambda c: -(c.duration_s or 0)):
        print(f"  {c.duration_s:7.2f} s  {c.status.value:<7} {c.id}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    from readiness.inputs import Roles, Settings, load_table, prepare_review
    from readiness.sample import load_sample, sample_config

    t0 = time.perf_counter()
    ctx = load_sample()
    print(f"sample: loading and scoring {time.perf_counter() - t0:.1f} s")
    timed_review(ctx, "sample")

    import skops.io as sio

    train, test, model = generated(args.rows)
    cfg = sample_config()
    t0 = time.perf_counter()
    ctx = prepare_review(train=load_table(train.to_csv(index=False).encode(), name="train.csv"),
                         test=load_table(test.to_csv(index=False).encode(), role="test", name="test.csv"),
                         model=sio.dumps(model), model_name="model.skops", roles=Roles(**cfg["roles"]),
                         settings=Settings(**cfg["settings"]))
    print(f"\n{args.rows:,} rows: loading and scoring {time.perf_counter() - t0:.1f} s")
    timed_review(ctx, f"{args.rows:,}-row generated")



if __name__ == "__main__":
    main()
