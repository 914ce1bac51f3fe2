"""Coverage of feasibility.bayes_error's 95% range, measured (issue 16).

Two Gaussians in 6 dimensions with an analytic Bayes error R* (0.10 and 0.02), 12,000 rows
(2/3 training, 1/3 holdout), a logistic regression or the Bayes-optimal posterior as the
model; each replicate runs the check as a review would. Prints, per setting, how often the
point range [ber_lower, ber_upper] and the 95% range [ber_lower_low, ber_upper_high] contain
R*, and how often the four ends are out of order.

    python benchmarks/ber_coverage.py [replicates]      (default 40; about 3 s per replicate)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_ber_coverage import replicate  # noqa: E402  (the suite's replicate: one data recipe)


def run(r_star: float, seed: int, model: str) -> dict:
    return replicate(r_star, seed, rows=12_000, model=model)


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    for r_star in (0.10, 0.02):
        for model in ("lr", "bayes"):
            t0 = time.time()
            rows = [run(r_star, s, model) for s in range(reps)]
            point = np.mean([m["ber_lower"] <= r_star <= m["ber_upper"] for m in rows])
            conf = np.mean([m["ber_lower_low"] <= r_star <= m["ber_upper_high"] for m in rows])
            low = np.mean([m["ber_lower_low"] > r_star for m in rows])
            high = np.mean([m["ber_upper_high"] < r_star for m in rows])
            order = np.mean([not (m["ber_lower_low"] <= m["ber_lower"] <= m["ber_upper"] <= m["ber_upper_high"])
                             for m in rows])
            print(f"R* = {r_star:.2f}, model = {model:5s}, {reps} replicates: point range covers {point:.0%}, "
                  f"95% range covers {conf:.0%} (bottom above R* {low:.0%}, top below R* {high:.0%}); "
                  f"ends out of order {order:.0%}  [{time.time() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
