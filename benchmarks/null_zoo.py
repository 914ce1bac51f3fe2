"""The null zoo: how often each check cries wolf on honest data, next to how often it finds a
planted defect (issue 18).

    python benchmarks/null_zoo.py                    # 30 honest sets (500-100,000 rows), 5 seeds per planted case
    python benchmarks/null_zoo.py --sets 60 --out docs/false-alarms.md
    python benchmarks/null_zoo.py --shard 0/3 & python benchmarks/null_zoo.py --shard 1/3 & ...  # in parallel
    python benchmarks/null_zoo.py --merge-shards 3 --minutes 25  # then tally the shards' rows

Every honest set (tests/zoo.py) is reviewed twice — with a model file and with a prediction
column holding the true probability — by the whole review. Planted cases put one known
defect into an honest set and run the check that must find it. The table is written to
docs/false-alarms.md; the raw rows to benchmarks/null_zoo_results.csv.
Targets: a check that judges the data or the model fails on < 1% and warns on < 5% of honest
reviews; checks that ask the reviewer a question are listed apart.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import zoo  # noqa: E402
from helpers import make_ctx  # noqa: E402


def _split(frame, seed, share=0.3):
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(frame), dtype=bool)
    mask[rng.permutation(len(frame))[: int(share * len(frame))]] = True
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


def _honest(seed, rows=3000, mix="gaussian", features=4, share=0.2):
    spec = zoo.Spec(seed=seed, rows=rows, features=features, mix=mix, positive_share=share, signal=2.0)
    return zoo.make_set(spec)


def planted_smote(seed):
    from imblearn.over_sampling import SMOTE

    train, test, feats = _honest(seed)
    full = pd.concat([train, test.drop(columns="p_true")], ignore_index=True)
    X, y = SMOTE(random_state=seed).fit_resample(full[feats], full["y"])
    tr, te = _split(pd.DataFrame(X, columns=feats).assign(y=y), seed)
    return make_ctx(tr, te.assign(p=0.5 + 0.0 * te["y"]), target="y", prediction_column="p")


def planted_duplicates(seed):
    train, test, feats = _honest(seed)
    full = pd.concat([train, test.drop(columns="p_true")], ignore_index=True)
    minority = full[full["y"] == 1]
    full = pd.concat([full, minority.sample(len(minority), replace=True, random_state=seed)], ignore_index=True)
    tr, te = _split(full, seed)
    return make_ctx(tr, te.assign(p=0.5), target="y", prediction_column="p")


def planted_copies(seed):
    train, test, feats = _honest(seed)
    copies = train.sample(int(0.05 * len(test)), random_state=seed).assign(p_true=0.5)
    return make_ctx(train, pd.concat([test, copies], ignore_index=True), target="y", prediction_column="p_true")


def planted_post_outcome(seed):
    train, test, feats = _honest(seed)
    rng = np.random.default_rng(seed)
    for f in (train, test):
        f["recovery_calls"] = np.where((f["y"] == 1) & (rng.random(len(f)) < 0.7), rng.poisson(2, len(f)) + 1, 0)
    return make_ctx(train, test, target="y", prediction_column="p_true")


def planted_compas(seed):
    df = pd.read_csv(ROOT / "tests" / "fixtures" / "compas.csv").drop(columns=["id"])
    tr, te = _split(df.drop(columns="split"), seed)
    return make_ctx(tr, te.assign(score=te["decile_score"] / 10), target="two_year_recid", prediction_column="score")


def planted_noise_vendor(seed):
    train, test, feats = _honest(seed, share=0.35)
    return make_ctx(train, test.assign(vendor=np.random.default_rng(seed).random(len(test))), target="y",
                    prediction_column="vendor")


def planted_coin_flip(seed):
    import where_data

    train, test = where_data.coin_flip(9000, seed)
    return make_ctx(train, test, target="y", prediction_column="score")


def planted_correlation_flip(seed):
    import where_data

    train, test = where_data.correlation_flip(6000, seed, flip=True)
    return make_ctx(train, test.assign(score=0.5), target="y", prediction_column="score")


def planted_sex_model(seed):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(seed)
    n = 4500
    sex = rng.choice(["female", "male"], n)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x + 0.8 * (sex == "male"))))).astype(int)
    frame = pd.DataFrame({"x": x, "sex": sex, "y": y})
    tr, te = _split(frame, seed)
    model = make_pipeline(ColumnTransformer([("n", StandardScaler(), ["x"]), ("c", OneHotEncoder(), ["sex"])]),
                          LogisticRegression()).fit(tr[["x", "sex"]], tr["y"])
    return make_ctx(tr, te, target="y", model=model, sensitive=["sex"])


def planted_slow_model(seed):
    from readiness.inputs import Settings

    train, test, feats = _honest(seed)
    model = zoo.fit_model(train, feats, seed)
    return make_ctx(train, test.drop(columns="p_true"), target="y", model=model,
                    settings=Settings(latency_budget_ms=0.01))  # no model scores a row in 10 µs


def planted_cubed(seed):
    train, test, feats = _honest(seed)
    return make_ctx(train, test.assign(p_true=test["p_true"] ** 3), target="y", prediction_column="p_true")


def planted_ingested_twice(seed):
    train, test, feats = _honest(seed)
    twice = pd.concat([train, train.sample(int(0.05 * len(train)), random_state=seed)], ignore_index=True)
    return make_ctx(twice, test, target="y", prediction_column="p_true")


def planted_shift(seed):
    train, test, feats = _honest(seed)
    return make_ctx(train, test.assign(**{feats[0]: test[feats[0]] + 1.0}), target="y", prediction_column="p_true")


PLANTED = [
    ("leakage.oversampling", "SMOTE (imbalanced-learn) on the whole table, then split", planted_smote),
    ("leakage.oversampling", "minority rows duplicated before the split", planted_duplicates),
    ("leakage.train_test_overlap", "5% of the holdout copied from training", planted_copies),
    ("leakage.feature_target", "a column filled in only for positives (post-outcome)", planted_post_outcome),
    ("leakage.feature_target", "COMPAS is_recid (real data, random 70/30 splits)", planted_compas),
    ("baselines.comparison", "vendor scores that are noise (a baseline is far better)", planted_noise_vendor),
    ("business.threshold", "vendor scores that are noise (of no use at any threshold)", planted_noise_vendor),
    # issue 19: found means warn or fail (drift and robustness warn, never fail on their own)
    ("segments.weak", "scores guess at random for region east and age < 35 (6% of rows), named by both columns",
     planted_coin_flip, ("warn", "fail")),
    ("drift.multivariate", "correlation of two features flips +0.8 → −0.8, marginals unchanged", planted_correlation_flip,
     ("warn", "fail")),
    ("robustness.perturbation", "a logistic regression using sex directly", planted_sex_model, ("warn", "fail")),
    ("model.serving", "a latency budget of 0.01 ms", planted_slow_model, ("warn", "fail")),
    # issue 18: the checks whose statistics were re-based on chance still find what they are for
    ("evaluation.holdout", "vendor scores that are noise (no better than the most common class)", planted_noise_vendor),
    ("calibration", "the true probabilities cubed (too low)", planted_cubed),
    ("data_quality.integrity", "5% of the training rows ingested twice", planted_ingested_twice, ("warn", "fail")),
    ("drift.features", "one feature shifted by one standard deviation in the holdout", planted_shift,
     ("warn", "fail")),
]
FOUND_WHEN = {"segments.weak": lambda r: set(r.metrics["segments"][0]["columns"]) == {"region", "age"}
              if r.metrics.get("segments") else False}


def run_planted(seeds: int) -> pd.DataFrame:
    from readiness.registry import get_check
    from readiness.review import run_check

    rows = []
    for check, what, make, *when in PLANTED:
        statuses = when[0] if when else ("fail",)
        found = 0
        for s in range(seeds):
            res = run_check(get_check(check), make(100 + s))
            found += res.status.value in statuses and FOUND_WHEN.get(check, lambda r: True)(res)
        word = "/".join(statuses)
        rows.append({"check": check, "planted defect": f"{what} ({word})" if word != "fail" else what,
                     "found (fail)": f"{found}/{seeds}"})
        print(f"  planted {check}: {what}: {found}/{seeds}", flush=True)
    return pd.DataFrame(rows)


#: what a rate in the table rests on, when the number alone would mislead (printed under the table); for the
#: checks in zoo.MODEL_DEFECTS the model-file counts of the run are put in front (model_defect_notes)
NOTES = {
    "segments.weak": "all of its model-file alarms are on sets with log-normal or heavy-tailed columns, which the zoo's logistic regression reads raw while the true logit uses their logarithm or clips them. The flagged slices are real shortfalls, not chance: in the 150-set run of issue 19 (13 alarms in 140 model-file reviews) the four largest slices (e.g. `ske0 57.1 or more`, 425 rows) have an accuracy expected from the true probabilities, with no sampling noise, 6–10 points below what the model's scores promise (84.7% against 92.4%; 86.6% against 92.2%; 68.5% against 78.6%; 55.7% against 64.3%). The check finds a misspecified model where its tails are.",
    "calibration": "each flagged model is miscalibrated in truth: its expected calibration error against the true probabilities, with no label noise (`python benchmarks/null_zoo.py --truth-ece`), is 2.2–13.8 points, above the 2 points at which the check warns — the misspecified logistic regression on heavy-tailed or log-normal columns read raw (65,810 rows: 6.3 points; 15,190 rows: 5.0; 18,880 rows: 3.0; 15,780 rows: 2.2), and overfitting with few rows per feature (660 rows, 18 categorical columns: 13.8; 960 rows, 17 integer columns: 3.4). On the large sets isotonic recalibration brings the error under 1 point.",
}


def model_defect_notes(rows: list[dict]) -> dict[str, str]:
    """Per check in zoo.MODEL_DEFECTS: its model-file alarms in this run, then the evidence that they are real."""
    out = {}
    for check in sorted(zoo.MODEL_DEFECTS):
        mine = [r for r in rows if r["check"] == check and r["mode"] == "model" and r["status"] != "skipped"]
        if not mine:
            continue
        f = sum(r["status"] == "fail" for r in mine)
        w = sum(r["status"] == "warn" for r in mine)
        out[check] = (f"`{check}`: the rates above are the true-probability reviews, the honest null. With the model "
                      f"file it raised {f} fail(s) and {w} warning(s) in {len(mine)} reviews; " + NOTES.get(check, ""))
    return out


def truth_ece(sets: int, seed: int, max_rows: int, names: set[str] | None = None) -> list[dict]:
    """The zoo model's expected calibration error against the true probabilities (no label noise): the
    independent evidence that a calibration alarm on a model-file review is a real defect."""
    from readiness.checks import calibration as C

    out = []
    for sp in zoo.specs(sets, seed=seed, max_rows=max_rows):
        if names and sp.name() not in names:
            continue
        train, test, feats = zoo.make_set(sp)
        s = zoo.fit_model(train, feats, sp.seed).predict_proba(test[feats])[:, 1]
        bins = C.equal_width_bins(s, C.N_BINS)
        gap = np.abs(np.bincount(bins, weights=s, minlength=C.N_BINS)
                     - np.bincount(bins, weights=test["p_true"].to_numpy(), minlength=C.N_BINS)).sum() / len(s)
        out.append({"set": sp.name(), "rows": sp.rows, "truth_ece": float(gap), "ece": C.ece(s, test["y"].to_numpy())})
        print(f"{sp.name()}: ECE against the true probabilities {100 * gap:.1f} points "
              f"(against the labels {100 * out[-1]['ece']:.1f})", flush=True)
    return out

SKIP_REASON = {"bias.groups": "the honest sets have no sensitive attribute yet",
               "leakage.temporal": "the honest sets have no time column yet"}


def _rate(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}% ({k}/{n})" if n else "–"


TASKS_MARKER = "## Regression models"


def write_table(tally: pd.DataFrame, planted: pd.DataFrame, *, sets: int, seconds: float, out: Path,
                specs: list, more: str = "", notes: dict | None = None) -> None:
    rows_axis = sorted(s.rows for s in specs)
    judged = tally[~tally["check"].isin(zoo.QUESTION_CHECKS)]
    asked = tally[tally["check"].isin(zoo.QUESTION_CHECKS)]

    def line(r):
        ran = int(r["reviews"] - r["skipped"])
        ok = (r["fail_rate"] < 0.01) and (r["warn_rate"] < 0.05)
        if ran == 0:
            return (f"| `{r['check']}` | 0 | – | – | not exercised (skipped: {SKIP_REASON.get(r['check'], 'n/a')}) | "
                    "known-answer tests in tests/ |")
        det = planted[planted["check"] == r["check"]]
        found = "; ".join(f"{d['planted defect']}: {d['found (fail)']}" for _, d in det.iterrows()) or \
            "known-answer tests in tests/"
        return (f"| `{r['check']}` | {ran} | {_rate(int(r['fail']), ran)} | {_rate(int(r['warn']), ran)} | "
                f"{'yes' if ok else '**no**'} | {found} |")

    text = [
        "# False alarms: the null zoo",
        "",
        "How often each check fails or warns on **honest** data sets with no defect of any kind, next to how "
        "often it finds a **planted** defect. Made by `python benchmarks/null_zoo.py` (generator: "
        "`tests/zoo.py`); a small zoo runs in the test suite (`tests/test_null_zoo.py`).",
        "",
        f"- {sets} honest sets, each reviewed twice (a logistic-regression model file fit on the training rows, "
        f"and a prediction column holding the true probability): {2 * sets} reviews; {rows_axis[0]:,} to "
        f"{rows_axis[-1]:,} rows (median {int(np.median(rows_axis)):,}); 1–20 features; Gaussian, skewed, "
        "heavy-tailed, integer and categorical columns and mixtures; positive share 50% to 5%; random 70/30 split.",
        f"- Targets: a check that judges the data or the model fails on < 1% and warns on < 5% of honest "
        f"reviews. Run time {seconds / 60:.0f} minutes (wall clock) on the 2-core review machine.",
        *([more] if more else []),
        "",
        "## Checks that judge the data or the model",
        "",
        "| check | honest reviews | fail | warn | within target | planted defect found |",
        "|---|---|---|---|---|---|",
        *[line(r) for _, r in judged.sort_values("check").iterrows()],
        "",
        *[f"- {text}" for check, text in (notes or {}).items() if check in set(judged["check"])],
        *([""] if any(check in set(judged["check"]) for check in (notes or {})) else []),
        "## Checks that ask the reviewer a question (not alarms)",
        "",
        "`model.hyperparameters` asks for the tuning record and `bias.categories` for the harm categories "
        "data cannot show; their warnings are questions to answer in the questionnaire.",
        "",
        "| check | honest reviews | fail | warn |",
        "|---|---|---|---|",
        *[f"| `{r['check']}` | {int(r['reviews'] - r['skipped'])} | {_rate(int(r['fail']), int(r['reviews'] - r['skipped']))} "
          f"| {_rate(int(r['warn']), int(r['reviews'] - r['skipped']))} |" for _, r in asked.iterrows()],
        "",
    ]
    keep = ""  # the section benchmarks/null_zoo_regression.py fills stays
    if out.exists() and TASKS_MARKER in out.read_text():
        old = out.read_text()
        keep = "\n" + old[old.index(TASKS_MARKER):]
    out.write_text("\n".join(text) + "\n" + keep)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=30)
    ap.add_argument("--max-rows", type=int, default=100_000)
    ap.add_argument("--planted-seeds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "false-alarms.md")
    ap.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "null_zoo_results.csv")
    ap.add_argument("--from-csv", action="store_true", help="re-tally the honest reviews saved in --csv (no re-run)")
    ap.add_argument("--minutes", type=float, help="with --from-csv: the run time to report")
    ap.add_argument("--checks", nargs="+", metavar="ID",
                    help="review the honest sets with these checks only and replace their rows in --csv (the other "
                         "checks' rows are kept); then re-tally")
    ap.add_argument("--checks-sets", type=int, help="with --checks: review this many honest sets (default --sets)")
    ap.add_argument("--shard", metavar="K/N", help="review only every N-th honest set starting at K and write "
                    "its rows to --csv with the suffix .shardK (no tally); run N shards in parallel")
    ap.add_argument("--merge-shards", type=int, metavar="N", help="join the rows of shards 0..N-1 into --csv and tally")
    ap.add_argument("--note", action="append", default=[], help="a bullet to print under the run's description "
                    "(how the rows in --csv were made, what changed since), repeatable")
    ap.add_argument("--truth-ece", action="store_true", help="print the zoo model's calibration error against the "
                    "true probabilities on every set whose model-file review has a calibration alarm in --csv")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    specs = zoo.specs(a.sets, seed=a.seed, max_rows=a.max_rows)
    more = ""
    if a.truth_ece:
        rows = pd.read_csv(a.csv)
        flagged = rows[(rows["check"] == "calibration") & (rows["mode"] == "model") & rows["status"].isin(["warn", "fail"])]
        truth_ece(a.sets, a.seed, a.max_rows, set(flagged["set"]))
        return
    if a.merge_shards:
        parts = [Path(f"{a.csv}.shard{k}") for k in range(a.merge_shards)]
        pd.concat([pd.read_csv(part) for part in parts], ignore_index=True).to_csv(a.csv, index=False)
        a.from_csv = True
    if a.shard:
        if a.checks or a.from_csv:
            ap.error("--shard runs the whole review on a share of the sets; not with --checks or --from-csv")
        k, n = (int(v) for v in a.shard.split("/"))
        specs = specs[k::n]
        a.csv = Path(f"{a.csv}.shard{k}")
    if a.checks:
        kept = [r for r in pd.read_csv(a.csv).to_dict("records") if r["check"] not in a.checks]
        fresh = []
        wide = zoo.specs(a.checks_sets or a.sets, seed=a.seed, max_rows=a.max_rows)
        for sp in wide:
            t = time.perf_counter()
            got = zoo.review_set(sp, checks=a.checks)
            fresh += got
            alarms = [f"{r['mode'][:5]}:{r['check']}={r['status']}" for r in got if r["status"] in ("fail", "warn")]
            print(f"{sp.name()}: {time.perf_counter() - t:.0f} s; {', '.join(alarms) or 'no alarm'}", flush=True)
        pd.DataFrame(kept + fresh).to_csv(a.csv, index=False)
        rows_wide = sorted(sp.rows for sp in wide)
        more = (f"- {', '.join(f'`{c}`' for c in a.checks)}: {len(wide)} honest sets drawn the same way "
                f"({2 * len(wide)} reviews, {rows_wide[0]:,} to {rows_wide[-1]:,} rows), reviewed by these checks alone "
                f"in {(time.perf_counter() - t0) / 60:.0f} minutes; the first {a.sets} are the sets above.")
        a.from_csv = True
    if a.from_csv:
        rows = pd.read_csv(a.csv).to_dict("records")
        planted = run_planted(a.planted_seeds)
        more = "\n".join([more] * bool(more) + [f"- {n}" for n in a.note])
        write_table(zoo.tally(zoo.null_reviews(rows)), planted, sets=a.sets, seconds=60 * (a.minutes or 0), out=a.out,
                    specs=specs, more=more, notes=model_defect_notes(rows))
        print(a.out.read_text())
        return
    rows = []
    for sp in specs:
        t = time.perf_counter()
        got = zoo.review_set(sp)
        rows += got
        alarms = [f"{r['mode'][:5]}:{r['check']}={r['status']}" for r in got if r["status"] in ("fail", "warn")]
        print(f"{sp.name()}: {time.perf_counter() - t:.0f} s; {', '.join(alarms) or 'no alarm'}", flush=True)
    pd.DataFrame(rows).to_csv(a.csv, index=False)
    if a.shard:
        print(f"shard {a.shard}: {len(specs)} sets in {(time.perf_counter() - t0) / 60:.1f} minutes -> {a.csv}")
        return
    planted = run_planted(a.planted_seeds)
    write_table(zoo.tally(zoo.null_reviews(rows)), planted, sets=a.sets, seconds=time.perf_counter() - t0, out=a.out,
                specs=specs, notes=model_defect_notes(rows))
    print(a.out.read_text())


if __name__ == "__main__":
    main()
