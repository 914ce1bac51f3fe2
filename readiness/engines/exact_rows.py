"""Integrity counts, exact duplicates and train-holdout overlap over every row, by row hashes.

``data_quality.integrity`` and ``leakage.train_test_overlap`` count rows that repeat: a global
group-by, which a merge of per-partition summaries cannot give. Each partition (on the engine's
workers) turns its labelled rows into 64-bit content hashes (:func:`hash_rows`): the whole row, the
features and the target, the features, the features with numbers rounded to 3 significant digits
(the overlap check's ``leakstats.row_keys``: numbers as float64, text as text, missing as missing), and
the ID column. The engine brings equal hashes together (:meth:`Engine.group_tally`: a shuffle on
Dask and Spark, bucket files on the local engine) and :func:`tally` counts each shuffled chunk; only
the counts (and a few example hashes) come back, and they add up over chunks. The checks' own verdict
code (``integrity_outcome``, ``overlap_outcome``, ``leakstats.match_stats``) turns them into findings.

Two different rows share a 64-bit hash with probability 2^-64 per pair: over 50 million rows the
expected number of colliding pairs is n^2 / 2^65, about 7e-5, so the counts are exact in practice.

What is not a count stays on the engine's sample: the chance level of repeated feature values
(block shuffles of the rows, ``_feature_repeats``) and the columns of mixed type. Constant columns
and target labels the holdout adds are merged from per-partition summaries; unseen holdout categories
from the completeness summaries' value counts (on the sample when a column has too many values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness import leakstats as ls
from readiness.engines.dataset import Dataset
from readiness.engines.summaries import merge_all
from readiness.inputs.context import ReviewContext
from readiness.inputs.tables import Table
from readiness.registry import Outcome

KEYS = ("k_all", "k_full", "k_feat", "k_near")
EXAMPLES = 20  # overlapping holdout rows shown (the in-memory check's MAX_EXAMPLE_ROWS)
ID_EXAMPLES = 20


@dataclass(frozen=True)
class RowSpec:
    """What the row hashes need; picklable, sent to every partition."""

    target: str
    feats: tuple
    numeric: frozenset  # columns compared as numbers (numeric in both splits)
    near_numeric: frozenset  # feature columns rounded for near-duplicates
    id_column: str | None = None


def row_spec(ctx: ReviewContext) -> RowSpec:
    from readiness.checks.leakage import NEAR_SIG_DIGITS, _numeric_columns  # noqa: F401 (the same notions)

    feats = [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]
    numeric = _numeric_columns(ctx, feats + [ctx.target])
    return RowSpec(target=ctx.target, feats=tuple(feats), numeric=frozenset(numeric),
                   near_numeric=frozenset(c for c in numeric if c in feats), id_column=ctx.roles.id_column)


def _labelled(frame: pd.DataFrame, spec: RowSpec) -> pd.DataFrame:
    return frame[frame[spec.target].notna()].reset_index(drop=True) if spec.target in frame else frame


def _frame_numeric(frame: pd.DataFrame) -> set:
    return {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not
            pd.api.types.is_bool_dtype(frame[c])}


def hash_rows(frame: pd.DataFrame, split: int, spec: RowSpec) -> pd.DataFrame:
    """One row of hashes per labelled row: ``split`` (0 training, 1 holdout), the whole row over all the
    split's columns (integrity's duplicates), features and target, features, rounded features (overlap;
    ``b``, the shuffle key, is the rounded one: rows equal in any of the others are equal in it)."""
    from readiness.checks.leakage import NEAR_SIG_DIGITS

    f = _labelled(frame, spec)
    feats = list(spec.feats)
    k_feat = ls.row_keys(f, feats, numeric=set(spec.numeric))
    k_full = ls.row_keys(f, [spec.target], numeric=set(spec.numeric), keys=k_feat, position=len(feats))
    k_near = ls.row_keys(f, feats, numeric=set(spec.near_numeric), round_digits=NEAR_SIG_DIGITS)
    k_all = ls.row_keys(f, list(f.columns), numeric=_frame_numeric(f))
    return pd.DataFrame({"split": np.full(len(f), split, dtype=np.uint64), "k_all": k_all, "k_full": k_full,
                         "k_feat": k_feat, "b": k_near})


def hash_ids(frame: pd.DataFrame, split: int, spec: RowSpec) -> pd.DataFrame:
    """The ID column's hash (as the overlap check's: its text) of each labelled row with an ID."""
    f = _labelled(frame, spec)
    ids = f[spec.id_column].dropna().astype(str)
    return pd.DataFrame({"split": np.full(len(ids), split, dtype=np.uint64),
                         "b": pd.util.hash_pandas_object(ids, index=False).to_numpy(np.uint64)})


def _u64(s: pd.Series) -> np.ndarray:
    a = s.to_numpy()
    return a.view(np.uint64) if a.dtype.kind == "i" else a.astype(np.uint64)


def _smallest(keys: np.ndarray, k: int) -> list:
    u = np.unique(keys)
    return [int(x) for x in u[:k]]


def tally(chunk: pd.DataFrame) -> dict:
    """Counts of one chunk of row hashes that holds every row of each of its ``b`` values (so every group of
    equal whole-row, feature or rounded-feature hashes): rows, duplicates, repeats within training, holdout
    rows found in training, label conflicts. The counts add up over chunks."""
    split = _u64(chunk["split"])
    tr, te = split == 0, split == 1
    k = {c: _u64(chunk[c]) for c in ("k_all", "k_full", "k_feat", "b")}
    out: dict = {"rows_train": int(tr.sum()), "rows_test": int(te.sum())}
    for name, m in (("train", tr), ("test", te)):
        u, c = np.unique(k["k_all"][m], return_counts=True)
        out[f"duplicates_{name}"] = int(len(k["k_all"][m]) - len(u))
        out[f"duplicate_keys_{name}"] = [int(x) for x in u[c > 1][:6]]
    hit_any = np.zeros(int(te.sum()), dtype=np.int8)  # 3 identical, 2 same features, 1 near-duplicate
    for name, col, level in (("full", "k_full", 3), ("feat", "k_feat", 2), ("near", "b", 1)):
        u, c = np.unique(k[col][tr], return_counts=True)
        out[f"repeated_{name}"] = int(c[c > 1].sum())
        hit = np.isin(k[col][te], u, assume_unique=False)
        out[f"hits_{name}"] = int(hit.sum())
        hit_any = np.where(hit & (hit_any == 0), level, hit_any)
    # label conflicts over both splits: feature groups with more than one (features, target) hash
    pairs = np.unique(np.column_stack([k["k_feat"], k["k_full"]]), axis=0) if len(split) else np.zeros((0, 2))
    feats_of_pairs, n_targets = np.unique(pairs[:, 0], return_counts=True)
    bad = feats_of_pairs[n_targets > 1]
    out["conflict_groups"] = int(len(bad))
    out["conflict_rows"] = int(np.isin(k["k_feat"], bad).sum())
    # example overlapping holdout rows: the smallest whole-row hashes, with how they match
    ex = k["k_all"][te][hit_any > 0]
    lv = hit_any[hit_any > 0]
    order = np.argsort(ex, kind="stable")[:4 * EXAMPLES]
    out["overlap_examples"] = [(int(a), int(b)) for a, b in zip(ex[order], lv[order], strict=True)]
    return out


def tally_ids(chunk: pd.DataFrame) -> dict:
    split, key = _u64(chunk["split"]), _u64(chunk["b"])
    tr, te = key[split == 0], key[split == 1]
    u_tr, c_tr = np.unique(tr, return_counts=True)
    u_te, c_te = np.unique(te, return_counts=True)
    hit = np.isin(te, u_tr)
    return {"id_rows": int(hit.sum()), "ids": int(np.isin(u_te, u_tr).sum()),
            "id_repeated": int((c_tr > 1).any() or (c_te > 1).any()),
            "id_example_keys": [int(x) for x in np.unique(te[hit])[:ID_EXAMPLES]]}


def _merged(parts: list[dict]) -> dict:
    """Tallies added up (lists concatenated, then each trimmed to its smallest items)."""
    out = merge_all(parts) or {}
    for key in ("duplicate_keys_train", "duplicate_keys_test"):
        out[key] = sorted(set(out.get(key, [])))[:6]
    if "overlap_examples" in out:
        out["overlap_examples"] = sorted(set(out["overlap_examples"]))[:EXAMPLES]
    if "id_example_keys" in out:
        out["id_example_keys"] = sorted(set(out["id_example_keys"]))[:ID_EXAMPLES]
    return out


def _source(src: Dataset | Table):
    return src.frame if isinstance(src, Table) else src


def _hasher(frame: pd.DataFrame, i: int, *, spec: RowSpec, ids: bool = False) -> pd.DataFrame:
    return hash_ids(frame, i, spec) if ids else hash_rows(frame, i, spec)


def row_counts(engine, srcs: dict, spec: RowSpec) -> dict:
    """Every labelled training and holdout row hashed and grouped on the engine; the merged counts."""
    sources = [_source(srcs["train"]), _source(srcs["test"])]
    out = _merged(engine.group_tally(sources, functools.partial(_hasher, spec=spec), tally))
    if spec.id_column:
        out.update(_merged(engine.group_tally(sources, functools.partial(_hasher, spec=spec, ids=True), tally_ids)))
    return out


# --- the few example rows, a second pass ------------------------------------------------------------------


def _rows_with(frame: pd.DataFrame, *, spec: RowSpec, keys: frozenset, id_keys: frozenset) -> dict:
    """The labelled rows of a holdout partition whose whole-row hash or ID hash is one of the examples'."""
    f = _labelled(frame, spec)
    out: dict = {}
    if keys:
        k = ls.row_keys(f, list(f.columns), numeric=_frame_numeric(f))
        hit = np.isin(k, np.fromiter(keys, dtype=np.uint64, count=len(keys)))
        rows = f[hit].copy()
        rows["__key__"] = k[hit]
        out["rows"] = rows
    if id_keys and spec.id_column:
        ids = f[spec.id_column].dropna().astype(str)
        h = pd.util.hash_pandas_object(ids, index=False).to_numpy(np.uint64)
        hit = np.isin(h, np.fromiter(id_keys, dtype=np.uint64, count=len(id_keys)))
        out["ids"] = dict(zip(h[hit].tolist(), ids[hit].tolist(), strict=True))
    return out


def example_rows(engine, src: Dataset | Table, spec: RowSpec, counts: dict) -> tuple[pd.DataFrame, dict]:
    keys = frozenset(a for a, _ in counts.get("overlap_examples", []))
    id_keys = frozenset(counts.get("id_example_keys", []))
    if not keys and not id_keys:
        return pd.DataFrame(), {}
    fn = functools.partial(_rows_with, spec=spec, keys=keys, id_keys=id_keys)
    parts = [fn(src.frame)] if isinstance(src, Table) else engine.map_partitions(src, fn)
    frames = [p["rows"] for p in parts if len(p.get("rows", ()))]
    rows = pd.concat(frames, ignore_index=True).drop_duplicates("__key__") if frames else pd.DataFrame()
    ids: dict = {}
    for p in parts:
        ids.update(p.get("ids", {}))
    return rows, ids


# --- the checks ---------------------------------------------------------------------------------------------


def _match(counts: dict, name: str) -> dict:
    return ls.match_stats(counts["rows_train"], counts["rows_test"], counts[f"repeated_{name}"],
                          counts[f"hits_{name}"])


def train_test_overlap(ctx: ReviewContext, er) -> Outcome:
    """``leakage.train_test_overlap`` over every row: the match statistics from the engine's counts; the
    evidence's row numbers are not known on an engine (empty lists); example rows by their hashes."""
    from readiness.checks.leakage import overlap_outcome
    from readiness.pipeline_fit import plain

    counts, spec = row_counts_of(er), row_spec(ctx)
    cols = list(spec.feats) + [spec.target]
    full, feat, near = (_match(counts, n) for n in ("full", "feat", "near"))
    n_te = counts["rows_test"]
    rows_ex, ids = _memo(er, "examples", lambda: example_rows(er.engine, er.srcs["test"], spec, counts))
    id_col = spec.id_column
    shared = None
    if id_col:
        shared = {"column": id_col, "rows": counts["id_rows"], "ids": counts["ids"],
                  "share": counts["id_rows"] / n_te if n_te else 0.0,
                  "kind": "group" if counts["id_repeated"] else "id",
                  "example_ids": sorted({ids[k] for k in counts["id_example_keys"] if k in ids})}
    rows = {"full_holdout": [], "full_training": [], "feature_only_holdout": [], "near_only_holdout": [],
            "label_conflicts": feat["rows"] - full["rows"]}
    kinds = {3: "identical", 2: "same features", 1: "near-duplicate"}
    by_key = {int(k): r for k, r in zip(rows_ex["__key__"].tolist(), rows_ex.to_dict("records"), strict=True)} \
        if len(rows_ex) else {}
    examples = []
    for key, level in counts.get("overlap_examples", []):
        r = by_key.get(key)
        if r is None:
            continue
        rec = {"holdout_row": None, "training_row": None, "match": kinds[level]}
        if id_col:
            rec[f"holdout {id_col}"] = plain(r[id_col])
            rec[f"training {id_col}"] = None
        for c in cols:
            rec[c] = plain(r[c])
        examples.append(rec)
    return overlap_outcome(ctx, n_te, cols, full, feat, near, shared, rows, examples)


# --- integrity ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Few:
    """Up to two distinct values of a column (numbers as float, text as text, missing as None) and its first
    value: enough to tell a constant column (merge: union, trimmed)."""

    values: tuple = ()
    first: object = None

    def __add__(self, other: Few) -> Few:
        if not self.values:
            return other
        both = sorted(set(self.values) | set(other.values), key=repr)
        return Few(tuple(both[:2]), self.first)


MAX_LABELS = 1_000


def integrity_summary(frame: pd.DataFrame, spec: RowSpec) -> dict:
    """Per partition: each feature's first two distinct values (constant columns) and the target's labels."""
    f = _labelled(frame, spec)
    out: dict = {"few": {}, "labels": set(f[spec.target].astype(str).unique()[:MAX_LABELS])}
    for c in spec.feats:
        s = f[c]
        if not len(s):
            continue
        num = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        v = pd.unique(pd.to_numeric(s, errors="coerce").astype(float) if num else s.astype(object))[:3]
        norm = tuple(sorted({None if pd.isna(x) else (float(x) if num else str(x)) for x in v}, key=repr))[:2]
        out["few"][c] = Few(norm, s.iloc[0])
    return out


def _merge_summaries(parts: list[dict]) -> dict:
    few: dict = {}
    labels: set = set()
    for p in parts:
        labels |= p["labels"]
        for c, v in p["few"].items():
            few[c] = few[c] + v if c in few else v
    return {"few": few, "labels": labels}


def _integrity_summary(engine, src, spec: RowSpec) -> dict:
    fn = functools.partial(integrity_summary, spec=spec)
    return _merge_summaries([fn(src.frame)] if isinstance(src, Table) else engine.map_partitions(src, fn))


def integrity(ctx: ReviewContext, er) -> Outcome:
    """``data_quality.integrity`` over every row: duplicates and label conflicts from the engine's row-hash
    counts, constant columns and new target labels from merged partition summaries, unseen holdout categories
    from the completeness summaries' value counts; the chance level of repeated feature values and the columns
    of mixed type on the sample (said in the finding when the sample is smaller than the data)."""
    from readiness.checks.data_quality import (
        IntegrityCounts,
        _feature_repeats,
        integrity_outcome,
        mixed_type_columns,
        unseen_in,
    )

    spec = row_spec(ctx)
    counts = row_counts_of(er)
    feats = list(spec.feats)
    sums = _memo(er, "integrity", lambda: {r: _integrity_summary(er.engine, er.srcs[r], spec) for r in ("train", "test")})
    constant = {}
    for c in feats:
        a, b = sums["train"]["few"].get(c), sums["test"]["few"].get(c)
        merged = a + b if a is not None and b is not None else (a or b)
        if merged is not None and len(merged.values) <= 1:
            constant[c] = merged.first
    n = {"train": counts["rows_train"], "test": counts["rows_test"]}
    seed = ctx.settings.random_state

    def repeats(split: str) -> dict:
        frame = {"train": ctx.train, "test": ctx.test}.get(split)
        if frame is None:
            frame = pd.concat([ctx.train[feats], ctx.test[feats]], ignore_index=True)
        rep = _feature_repeats(frame, feats, seed=seed)
        of = n["train"] + n["test"] if split == "both" else n[split]
        if len(frame) < of:
            rep = {**rep, "sample_rows": len(frame), "of_rows": of}
        return rep

    unseen, distinct = {}, {}
    for c in feats:
        a = (er.train_summary or {}).get("columns", {}).get(c, {}).get("values")
        b = (er.test_summary or {}).get("columns", {}).get(c, {}).get("values")
        numeric = all(pd.api.types.is_numeric_dtype(f[c]) for f in (ctx.train, ctx.test))
        if numeric:
            continue
        if a is None or b is None or a.overflow or b.overflow:
            found = unseen_in(ctx.train[c], ctx.test[c])  # too many values to count: the sample
        else:
            found = _unseen_from_counts(a.counts, b.counts, n["train"])
        if found is not None:
            unseen[c], distinct[c] = found
    new_labels = []
    if ctx.task != "regression":
        new_labels = sorted(sums["test"]["labels"] - sums["train"]["labels"])
    return integrity_outcome(ctx, IntegrityCounts(
        feats=feats, constant=constant, rows=n,
        duplicates={"train": counts["duplicates_train"], "test": counts["duplicates_test"]},
        examples={"train": [], "test": []}, repeats=repeats, conflict_groups=counts["conflict_groups"],
        conflict_rows=counts["conflict_rows"],
        mixed=mixed_type_columns(pd.concat([ctx.train[feats], ctx.test[feats]], ignore_index=True)),
        unseen=unseen, unseen_distinct=distinct, new_labels=new_labels))


def _unseen_from_counts(train: dict, test: dict, n_train: int) -> tuple[dict, int] | None:
    """:func:`readiness.checks.data_quality.unseen_in` from the two splits' value counts (text, no missing)."""
    if len(train) > 0.5 * n_train:
        return None
    new = pd.Series({k: v for k, v in test.items() if k not in train}, dtype="int64")
    if new.empty or not new.sum():
        return None
    top = new.sort_values(ascending=False, kind="stable").head(10)
    return {"rows": int(new.sum()), "values": {str(k): int(v) for k, v in top.items()}}, int(len(new))


# --- once per review ----------------------------------------------------------------------------------------


def _memo(er, name: str, compute):
    cache = er.__dict__.setdefault("_exact_rows", {})
    if name not in cache:
        cache[name] = compute()
    return cache[name]


def row_counts_of(er) -> dict:
    """The row-hash counts of an engine review (computed once, on the first check that reads them)."""
    return _memo(er, "counts", lambda: row_counts(er.engine, er.srcs, row_spec(er.ctx)))


def exact_checks(er) -> dict:
    """Check id -> function of the context, for :func:`readiness.engines.review.exact_checks`."""
    if getattr(er, "srcs", None) is None:
        return {}
    return {"data_quality.integrity": lambda ctx: integrity(ctx, er),
            "leakage.train_test_overlap": lambda ctx: train_test_overlap(ctx, er)}
