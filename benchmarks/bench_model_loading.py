"""What the model safety costs: isolated first load and score, and refusing a zip bomb.

    python benchmarks/bench_model_loading.py [--rows 48842]

* the isolation server's start (once per process: a fresh interpreter importing
  scikit-learn), measured on its own;
* loading the sample model and an Adult-sized HistGradientBoosting pipeline with and
  without the isolated child, and building the review context (which first-scores the
  holdout in the child) with and without it; best of ``--repeat`` runs;
* the issue's bomb (about 1 MB, a 1 GiB zero array referenced five times): time to the
  refusal and peak memory, in a fresh process.

A script, not a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def adult_like(rows: int, seed: int = 0):
    """Adult's shape: 6 numeric and 8 categorical columns, a binary income target."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cats = {"workclass": 8, "education": 16, "marital_status": 7, "occupation": 14, "relationship": 6, "race": 5,
            "sex": 2, "native_country": 41}
    df = pd.DataFrame({
        "age": rng.integers(17, 90, rows), "fnlwgt": rng.integers(12_000, 1_500_000, rows),
        "education_num": rng.integers(1, 16, rows), "capital_gain": rng.exponential(1000, rows).round(),
        "capital_loss": rng.exponential(90, rows).round(), "hours_per_week": rng.integers(1, 99, rows),
        **{c: rng.choice([f"{c}_{i}" for i in range(k)], rows) for c, k in cats.items()}})
    logit = 0.04 * (df["age"] - 38) + 0.3 * (df["education_num"] - 10) + 0.0003 * df["capital_gain"] \
        + (df["sex"] == "sex_1") * 0.8 + rng.normal(size=rows)
    df["income"] = (logit > 1.2).astype(int)
    return df, list(cats)


def adult_pipeline(df, cats):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    nums = [c for c in df.columns if c not in cats and c != "income"]
    prep = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), nums),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cats)])
    return Pipeline([("prepare", prep), ("model", HistGradientBoostingClassifier(max_iter=200, random_state=0))]).fit(
        df.drop(columns="income"), df["income"])


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def clear_memo() -> None:
    from readiness.inputs import models

    models._VERIFIED.clear()


def compare(label: str, data: bytes, name: str, train, test, roles, repeat: int) -> None:
    from readiness.inputs import build_context, load_model

    def load(sandbox):
        clear_memo()
        return load_model(data, name=name, sandbox=sandbox)

    plain = best(lambda: load(False), repeat)
    isolated = best(lambda: load(True), repeat)
    m_plain, m_iso = load(False), load(True)

    def ctx(model):
        clear_memo()
        build_context(train=train, test=test, roles=roles, model=model)

    ctx_plain = best(lambda: ctx(m_plain), repeat)
    ctx_iso = best(lambda: ctx(m_iso), repeat)
    print(f"{label} ({len(data) / 2**20:.1f} MiB, {len(test.frame):,} holdout rows)")
    print(f"  load:            {plain:6.2f} s in-process only, {isolated:6.2f} s with the isolated child "
          f"(+{isolated - plain:.2f} s)")
    print(f"  context + score: {ctx_plain:6.2f} s in-process only, {ctx_iso:6.2f} s with the isolated first score "
          f"(+{ctx_iso - ctx_plain:.2f} s)")
    print(f"  total overhead:  +{isolated - plain + ctx_iso - ctx_plain:.2f} s")


BOMB_SCRIPT = """
import resource, sys, time
sys.path[:0] = [{root!r}, {tests!r}]
from crafted_models import zip_bomb
from readiness.inputs import load_model
from readiness.errors import ModelError
data = zip_bomb(references=5)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    load_model(data, name="bomb.skops")
except ModelError as exc:
    message = str(exc)
took = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"bomb: {{len(data) / 1e6:.2f}} MB file, refused in {{took * 1000:.1f}} ms; peak memory grew by "
      f"{{(after - before) / 1024:.1f}} MiB (process peak {{after / 1024:.0f}} MiB)")
print("  " + message)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=48_842)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    import skops.io as sio

    from readiness.inputs import Roles, load_table
    from readiness.inputs.sandbox import _SERVER, run_isolated

    t0 = time.perf_counter()
    run_isolated("os:getpid", {})
    print(f"isolation server start (once per process): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    for _ in range(10):
        run_isolated("os:getpid", {})
    print(f"one isolated call (fork, answer): {(time.perf_counter() - t0) / 10 * 1000:.0f} ms")

    sample = ROOT / "sample_data"
    train = load_table(sample / "credit_train.csv", role="train")
    test = load_table(sample / "credit_holdout.csv", role="test")
    compare("sample model", (sample / "credit_model.skops").read_bytes(), "credit_model.skops", train, test,
            Roles(target="default", positive_label=1), args.repeat)

    df, cats = adult_like(args.rows)
    cut = int(len(df) * 2 / 3)
    model = adult_pipeline(df.iloc[:cut], cats)
    a_train = load_table(df.iloc[:cut].to_csv(index=False).encode(), role="train", name="adult_train.csv")
    a_test = load_table(df.iloc[cut:].to_csv(index=False).encode(), role="test", name="adult_test.csv")
    compare("Adult-sized HistGradientBoosting pipeline", sio.dumps(model), "adult.skops", a_train, a_test,
            Roles(target="income", positive_label=1), args.repeat)
    _SERVER.stop()

    out = subprocess.run([sys.executable, "-c", BOMB_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests"))],
                         capture_output=True, text=True, timeout=600)
    print(out.stdout.strip() or out.stderr[-2000:])
    print(f"(this process peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
