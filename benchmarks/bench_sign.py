"""Time `sign_report` against the length of the signer's note (issue 9: it was quadratic).

    python benchmarks/bench_sign.py                 # notes of 100 ... 32,000 characters
    python benchmarks/bench_sign.py --lengths 1000 4000

Builds one small unsigned report (two checks on 300 synthetic rows), then signs it once per
note length with the same P-256 key and prints the wall time of each signature. A linear
cost shows as a time that grows no faster than the note; a quadratic one quadruples when the
note doubles. This is a script, not a timed test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def unsigned_report() -> bytes:
    import numpy as np
    import pandas as pd
    from helpers import make_ctx
    from sklearn.linear_model import LogisticRegression

    from readiness.inputs import Settings
    from readiness.report.canonical import new_record, record_bytes
    from readiness.report.pdf import build_pdf
    from readiness.review import run_review

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "target": y})
    train, test = frame.iloc[:200].reset_index(drop=True), frame.iloc[200:].reset_index(drop=True)
    model = LogisticRegression().fit(train[["a", "b"]], train["target"])
    ctx = make_ctx(train, test, target="target", model=model, settings=Settings(bootstrap=20))
    report = run_review(ctx, checks=["data_quality.completeness", "evaluation.holdout"])
    rec = new_record(report, project="Bench", model_version="1", signer_roles=["Data scientist"])
    data = record_bytes(rec)
    return build_pdf(rec, data).pdf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="*", default=[100, 1000, 2000, 4000, 8000, 16000, 32000])
    args = ap.parse_args()
    from readiness.report.sign import SigningError, generate_key, sign_report

    pdf = unsigned_report()
    key = generate_key("Bench Signer", "bench@example.org", algorithm="p256")
    words = ("review " * (max(args.lengths) // 7 + 1))
    sign_report(pdf, key=key.key_pem, cert=key.cert_pem, role="Data scientist", decision="approve", note="warm-up")
    print(f"{'note chars':>10}  {'sign (s)':>9}")
    for n in args.lengths:
        t = time.perf_counter()
        try:
            sign_report(pdf, key=key.key_pem, cert=key.cert_pem, role="Data scientist", decision="approve",
                        note=words[:n])
            took = f"{time.perf_counter() - t:9.3f}"
        except SigningError as exc:
            took = f"  refused: {exc}"
        print(f"{n:>10,}  {took}")


if __name__ == "__main__":
    main()
