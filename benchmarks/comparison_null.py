"""False alarms of comparison.champion when the two models are equally good.

Two prediction columns that are different but equally informative (the same signal plus
independent noise of the same size), three groups treated alike, 2,000 holdout rows; the
check runs on many seeded data sets and we count how often it says anything but
``no_difference`` / ``better``: the share that warns (a false ``worse`` within the margin or
a false group loss) must stay under 5%, the share that fails under 1% (CONTRIBUTING rule of
"no false alarms"). Also the power: a challenger with half the noise is found ``better``.

    python benchmarks/comparison_null.py [--runs 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def data(seed: int, n: int = 2000, noise_new: float = 1.0, noise_old: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    new = 1 / (1 + np.exp(-2 * (x + rng.normal(scale=noise_new, size=n))))
    old = 1 / (1 + np.exp(-2 * (x + rng.normal(scale=noise_old, size=n))))
    return pd.DataFrame({"x": x, "g": g, "y": y, "new": new, "old": old})


def run(seed: int, *, costs=(1.0, 1.0), **kw) -> tuple[str, str]:
    from helpers import make_ctx

    from readiness.inputs import Settings
    from readiness.registry import get_check
    from readiness.review import run_check

    df = data(seed, **kw)
    ctx = make_ctx(df.iloc[:200], df, target="y", prediction_column="new", champion_prediction_column="old",
                   sensitive=["g"], settings=Settings(cost_fp=costs[0], cost_fn=costs[1]))
    r = run_check(get_check("comparison.champion"), ctx)
    return r.status.value, r.metrics["verdict"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    start = time.perf_counter()
    for costs in ((1.0, 1.0), (1.0, 5.0)):
        res = [run(s, costs=costs) for s in range(a.runs)]
        status = Counter(s for s, _ in res)
        verdict = Counter(v for _, v in res)
        print(f"equal models, costs {costs}: {a.runs} runs · warn {status['warn'] / a.runs:.1%} · fail "
              f"{status['fail'] / a.runs:.1%} · verdicts {dict(verdict)}")
    power = Counter(run(10_000 + s, noise_new=0.5)[1] for s in range(a.runs // 4))
    print(f"better challenger (half the noise): verdicts {dict(power)}")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
