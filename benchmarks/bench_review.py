"""Time the full review against its floor (issue 15), and a 1,000,000-row review.

    python benchmarks/bench_review.py                 # Adult-sized twin + 1M rows
    python benchmarks/bench_review.py --skip-1m       # Adult-sized twin only
    python benchmarks/bench_review.py --sample        # also the bundled sample, in-process, per check
    python benchmarks/bench_review.py --rows-1m 200000

What it measures, each in a fresh child process (so Python start-up and imports count):

* **floor**: start Python, import readiness, read both CSV files (``load_table``), load the
  model file and score the holdout once (``predict_proba``) -- the least any review must do;
* **full review**: ``readiness review --train … --test … --model … --json … --no-history``,
  all registered checks, whole process;
* their **ratio** (target ≤ 4×), measured in the same run so machine load affects both;
* **1M rows** (800k training / 200k holdout, 19 features, two sensitive attributes): wall
  time and peak resident memory of the whole CLI process tree (sampled every 0.1 s).

The Adult-sized data is a generated twin of UCI Adult (32,561 training / 16,281 holdout
rows, 6 numeric and 8 categorical features, target ``income``, sensitive ``sex`` and
``race``, about 24% positives) with a HistGradientBoosting pipeline, so the benchmark
needs no download. A script, not a timed test: numbers depend on the machine and its load
(printed at the start and end).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADULT_TRAIN, ADULT_TEST = 32_561, 16_281
ADULT_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
                     "native_country"]


def adult_twin(n: int, seed: int = 15) -> pd.DataFrame:
    """A data set shaped like UCI Adult: same columns, similar kinds of values and class balance."""
    rng = np.random.default_rng(seed)

    def pick(values, p):
        p = np.asarray(p, float)
        return rng.choice(values, size=n, p=p / p.sum())

    sex = pick(["Male", "Female"], [0.67, 0.33])
    race = pick(["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"], [85.4, 9.6, 3.1, 1.0, 0.9])
    age = np.clip(rng.gamma(6.0, 6.5, size=n) + 17, 17, 90).round().astype(int)
    edu_levels = ["Preschool", "1st-4th", "5th-6th", "7th-8th", "9th", "10th", "11th", "12th", "HS-grad",
                  "Some-college", "Assoc-voc", "Assoc-acdm", "Bachelors", "Masters", "Prof-school", "Doctorate"]
    edu_num = pick(np.arange(1, 17), [0.2, 0.5, 1, 2, 1.5, 2.8, 3.7, 1.3, 32, 22, 4.2, 3.3, 16.4, 5.4, 1.7, 1.2])
    education = np.asarray(edu_levels, dtype=object)[edu_num - 1]
    workclass = pick(["Private", "Self-emp-not-inc", "Local-gov", "?", "State-gov", "Self-emp-inc", "Federal-gov",
                      "Without-pay"], [69.7, 7.8, 6.4, 5.6, 4.0, 3.4, 2.9, 0.2])
    marital = pick(["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed",
                    "Married-spouse-absent", "Married-AF-spouse"], [46, 33, 13.6, 3.1, 3.0, 1.3, 0.1])
    occupation = pick(["Prof-specialty", "Craft-repair", "Exec-managerial", "Adm-clerical", "Sales", "Other-service",
                       "Machine-op-inspct", "?", "Transport-moving", "Handlers-cleaners", "Farming-fishing",
                       "Tech-support", "Protective-serv", "Priv-house-serv", "Armed-Forces"],
                      [12.7, 12.6, 12.5, 11.6, 11.2, 10.1, 6.1, 5.7, 4.9, 4.2, 3.1, 2.8, 2.0, 0.5, 0.1])
    married = marital == "Married-civ-spouse"
    relationship = np.where(married, np.where(sex == "Male", "Husband", "Wife"),
                            pick(["Not-in-family", "Own-child", "Unmarried", "Other-relative"], [48, 29, 20, 5]))
    country = pick(["United-States", "Mexico", "?", "Philippines", "Germany", "Canada", "Puerto-Rico", "India",
                    "El-Salvador", "Cuba", "England", "China", "Other"],
                   [89.6, 2.0, 1.8, 0.6, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 3.3])
    fnlwgt = np.exp(rng.normal(12.0, 0.55, size=n)).round().astype(int)
    hours = np.clip(rng.normal(40, 12, size=n), 1, 99).round().astype(int)
    gain = np.where(rng.random(n) < 0.083, np.exp(rng.normal(8.5, 1.1, size=n)), 0).round().astype(int)
    loss = np.where(rng.random(n) < 0.047, rng.normal(1870, 360, size=n), 0).clip(0).round().astype(int)
    logit = (-8.3 + 0.035 * np.minimum(age, 60) + 0.33 * edu_num + 2.0 * married + 0.03 * (hours - 40)
             + 0.0003 * np.minimum(gain, 15000) + 0.0006 * loss + 0.35 * (sex == "Male")
             + 0.7 * np.isin(occupation, ["Exec-managerial", "Prof-specialty"]) + 0.2 * (race == "White"))
    income = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), ">50K", "<=50K")
    return pd.DataFrame({
        "age": age, "workclass": workclass, "fnlwgt": fnlwgt, "education": education, "education_num": edu_num,
        "marital_status": marital, "occupation": occupation, "relationship": relationship, "race": race,
        "sex": sex, "capital_gain": gain, "capital_loss": loss, "hours_per_week": hours,
        "native_country": country, "income": income})


def adult_model(train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = ColumnTransformer([
        ("num", "passthrough", ADULT_NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ADULT_CATEGORICAL),
    ])
    model = Pipeline([("prepare", pre), ("classifier", HistGradientBoostingClassifier(random_state=0))])
    return model.fit(train[ADULT_NUMERIC + ADULT_CATEGORICAL], train["income"])


def generated(rows: int, seed: int = 7):
    """The sample's generator at any size (19 features with the ids/dates, sex and region sensitive)."""
    spec = importlib.util.spec_from_file_location("gen", ROOT / "sample_data" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    frame = gen.make_frame(seed=seed, n=rows)
    train, test = gen.split(frame, seed=seed)
    return train, test, gen.make_model(train), gen.SAMPLE_ROLES


def million(rows: int, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """``rows`` rows split 80/20: 17 features (12 numeric, 5 categorical incl. sex and region), a
    date and an id column -- 19 columns besides the target -- and a HistGradientBoosting pipeline."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=rows, p=[0.46, 0.54])
    region = rng.choice(["South", "East", "West", "North"], size=rows, p=[0.36, 0.3, 0.28, 0.06])
    cats = {"sex": sex, "region": region,
            "channel": rng.choice(["web", "branch", "phone"], size=rows, p=[0.6, 0.3, 0.1]),
            "product": rng.choice(list("ABCDEFGH"), size=rows),
            "segment": rng.choice(["retail", "sme", "corporate"], size=rows, p=[0.8, 0.15, 0.05])}
    num = {f"x{i}": rng.normal(size=rows).round(4) for i in range(12)}
    logit = -1.0 + 0.8 * num["x0"] - 0.6 * num["x1"] + 0.4 * num["x2"] * num["x3"] + 0.3 * (sex == "female")
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    days = np.sort(rng.integers(0, 730, size=rows))
    frame = pd.DataFrame({"row_id": np.arange(rows), "date": (pd.Timestamp("2023-01-01")
                                                              + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
                          **num, **cats, "y": y})
    cut = int(rows * 0.8)
    train, test = frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)

    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    feats_num, feats_cat = list(num), list(cats)
    pre = ColumnTransformer([("num", "passthrough", feats_num),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), feats_cat)])
    model = Pipeline([("prepare", pre), ("classifier", HistGradientBoostingClassifier(max_iter=100, random_state=0))])
    fit_rows = train.sample(200_000, random_state=0) if len(train) > 200_000 else train
    model.fit(fit_rows[feats_num + feats_cat], fit_rows["y"])
    return train, test, model


FLOOR = """
import sys, time
t0 = time.perf_counter()
import readiness
from readiness.inputs import load_model, load_table
train = load_table(sys.argv[1], role="train")
test = load_table(sys.argv[2], role="test")
model = load_model(sys.argv[3])
est = model.estimator
est.predict_proba(test.frame[list(est.feature_names_in_)])
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_child(args: list[str]) -> tuple[float, float]:
    """Run a command; return its wall time (s) and the peak of its whole process tree's resident
    memory (GiB: the CLI, its second process and the model's isolation child together; sampled
    every 0.1 s)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} … failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, peak / (1 << 30)


def write_inputs(folder: Path, train: pd.DataFrame, test: pd.DataFrame, model,
                 fmt: str = "csv") -> tuple[Path, Path, Path]:
    import skops.io as sio

    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"train.{fmt}", folder / f"test.{fmt}", folder / "model.skops"
    for frame, path in zip((train, test), paths[:2], strict=True):
        frame.to_parquet(path, index=False) if fmt == "parquet" else frame.to_csv(path, index=False)
    sio.dump(model, paths[2])
    return paths


def cli_review(paths, target: str, sensitive: list[str], out: Path, extra: list[str] = ()) -> tuple[float, float, dict]:
    args = [sys.executable, "-m", "readiness.cli", "review", "--train", str(paths[0]), "--test", str(paths[1]),
            "--model", str(paths[2]), "--target", target, "--json", str(out), "--no-history", "--quiet", *extra]
    for s in sensitive:
        args += ["--sensitive", s]
    wall, peak = run_child(args)
    return wall, peak, json.loads(out.read_text())


def slowest(report: dict, k: int = 6) -> str:
    checks = sorted(report["checks"], key=lambda c: -(c.get("duration_s") or 0))[:k]
    return ", ".join(f"{c['id']} {c['duration_s']:.1f}" for c in checks)


def load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_adult(tmp: Path, repeats: int) -> None:
    frame = adult_twin(ADULT_TRAIN + ADULT_TEST)
    train, test = frame.iloc[:ADULT_TRAIN].reset_index(drop=True), frame.iloc[ADULT_TRAIN:].reset_index(drop=True)
    paths = write_inputs(tmp / "adult", train, test, adult_model(train))
    print(f"\nAdult-sized twin: {len(train):,} training + {len(test):,} holdout rows, 14 features "
          f"({os.cpu_count()} cores, {load()})")
    for r in range(repeats):
        floor, _ = run_child([sys.executable, "-c", FLOOR, *map(str, paths)])
        wall, peak, report = cli_review(paths, "income", ["sex", "race"], tmp / "adult" / "report.json")
        floor2, _ = run_child([sys.executable, "-c", FLOOR, *map(str, paths)])
        f = (floor + floor2) / 2
        print(f"  run {r + 1}: floor {f:.1f} s ({floor:.1f} / {floor2:.1f}), full review {wall:.1f} s "
              f"(checks {report['duration_s']:.1f} s), ratio {wall / f:.2f}x, peak {peak:.2f} GiB")
    print(f"  slowest checks (s): {slowest(report)}")


def bench_million(tmp: Path, rows: int, keep: Path | None = None, fmt: str = "csv") -> None:
    t0 = time.perf_counter()
    folder = (keep or tmp) / (f"million-{rows}" + ("" if fmt == "csv" else f"-{fmt}"))
    if keep is not None and (folder / "model.skops").exists():
        paths = folder / f"train.{fmt}", folder / f"test.{fmt}", folder / "model.skops"
        train, test = ((pd.read_parquet(p, columns=["y"]) if fmt == "parquet" else pd.read_csv(p, usecols=["y"]))
                       for p in paths[:2])
    else:
        train, test, model = million(rows)
        paths = write_inputs(folder, train, test, model, fmt)
        del model
    n_train, n_test = len(train), len(test)
    del train, test
    print(f"\n{rows:,} rows ({n_train:,} training + {n_test:,} holdout, 19 columns besides the target, {fmt}), "
          f"ready in {time.perf_counter() - t0:.0f} s ({load()})")
    floor, _ = run_child([sys.executable, "-c", FLOOR, *map(str, paths)])
    wall, peak, report = cli_review(paths, "y", ["sex", "region"], tmp / "million" / "report.json",
                                    ["--time-column", "date", "--id-column", "row_id"])
    print(f"  floor {floor:.1f} s, full review {wall:.1f} s (checks {report['duration_s']:.1f} s), "
          f"ratio {wall / floor:.2f}x, peak resident memory {peak:.2f} GiB")
    print(f"  slowest checks (s): {slowest(report)}")


def bench_sample() -> None:
    from readiness import run_review
    from readiness.sample import load_sample

    t0 = time.perf_counter()
    ctx = load_sample()
    print(f"\nsample (in-process): loading and scoring {time.perf_counter() - t0:.1f} s")
    report = run_review(ctx)
    print(f"  checks {report.duration_s:.1f} s; slowest: "
          + ", ".join(f"{c.id} {c.duration_s:.2f}" for c in sorted(report.checks, key=lambda c: -c.duration_s)[:6]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows-1m", type=int, default=1_000_000, help="rows of the large review (default 1,000,000)")
    ap.add_argument("--skip-1m", action="store_true", help="only the Adult-sized review")
    ap.add_argument("--skip-adult", action="store_true", help="only the large review")
    ap.add_argument("--repeats", type=int, default=1, help="floor/review pairs for the Adult-sized data")
    ap.add_argument("--sample", action="store_true", help="also time the bundled sample in-process")
    ap.add_argument("--keep", type=Path, help="keep the generated large data set in this folder (and reuse it)")
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv",
                    help="file format of the large review's data (10M rows: parquet)")
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_adult:
            bench_adult(Path(tmp), args.repeats)
        if not args.skip_1m:
            bench_million(Path(tmp), args.rows_1m, args.keep, args.format)
    if args.sample:
        bench_sample()
    print(f"\n({load()} at the end)")


if __name__ == "__main__":
    main()
