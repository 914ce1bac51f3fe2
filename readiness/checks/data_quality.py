"""Data quality: completeness (incl. disguised missing values) and integrity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from readiness.fmt import counted
from readiness.fmt import pct as _pct
from readiness.inputs.context import ReviewContext
from readiness.inputs.tables import MISSING_TOKENS
from readiness.registry import Outcome, register
from readiness.results import Finding, Severity, Status

SENTINELS = (-1, -9, -99, -999, -9999, -99999, -999999, 99, 999, 9999, 99999, 999999, 9999999)
WARN_MISSING = 0.05
FAIL_MISSING = 0.50
SHIFT_MISSING = 0.05  # |train rate - holdout rate| that counts as a shift
DUPLICATE_SHARE = 0.01  # exact copies (in excess of chance) of at least 1% of a split's rows: warn
CONFLICT_SHARE = 0.001  # conflicting labels on at least 0.1% of rows, where repeats exceed chance: warn
FEW_CATEGORIES = 12  # a text column with at most this many distinct values is categorical
# a placeholder word that is the most common value of a categorical column is a category, not missing:
# German credit's other_debtors is "none" for 90.7% of applicants (no co-applicant or guarantor)
CATEGORY_WORDS = frozenset({"none", "nil", "na", "n/a", "n.a.", "missing"})


def disguised_tokens(series: pd.Series) -> dict[str, int]:
    """Counts of text values that stand for 'missing' ('?', 'N/A', 'null', '', ...)."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return {}
    values = series.dropna()
    if values.empty:
        return {}
    return tokens_in_counts(values.astype(str).value_counts())


def tokens_in_counts(counts: pd.Series) -> dict[str, int]:
    """The missing-value tokens among a text column's value counts."""
    return {str(v): int(c) for v, c in counts.items() if v.strip().lower() in MISSING_TOKENS}


def category_placeholders(series: pd.Series, tokens: dict[str, int]) -> dict[str, int]:
    """The placeholder words among ``tokens`` that read as a real category: the column has at most
    FEW_CATEGORIES distinct values and the word is its most common one ('none' for "no guarantor").
    Symbols ('?', '-', '') and 'null'/'nan' always mean missing."""
    if not tokens:
        return {}
    return placeholders_in_counts(series.dropna().astype(str).value_counts(), tokens)


def placeholders_in_counts(counts: pd.Series, tokens: dict[str, int]) -> dict[str, int]:
    """:func:`category_placeholders` from the column's value counts (most common first)."""
    if not tokens or counts.empty or len(counts) > FEW_CATEGORIES:
        return {}
    top = str(counts.index[0])
    if top in tokens and top.strip().lower() in CATEGORY_WORDS and (len(counts) == 1 or counts.iloc[0] > counts.iloc[1]):
        return {top: int(counts.iloc[0])}
    return {}


def sentinel_values(series: pd.Series) -> dict[str, int]:
    """Sentinel numbers (like -999) that stand apart from the rest of a numeric column.

    A candidate counts when it occurs at least max(3, 0.1% of rows) times and lies
    outside the range of the other values, either with the opposite sign of all of
    them or beyond a gap of a quarter of their range.
    """
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return {}
    values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(float)
    return sentinels_from(len(values), {f"{c:g}": int((values == c).sum()) for c in SENTINELS},
                          *distinct_ends(values, len(SENTINELS) + 2))


def distinct_ends(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest and ``k`` largest distinct values of a float array without NaN, as
    ``np.unique(values)[:k]`` and ``np.unique(values)[-k:]`` — without sorting every row: when the 4k + 1
    smallest rows (a partition) hold k distinct values, those are the k smallest (every other row is at least
    their largest); likewise at the top. Otherwise (a value repeated through the tail) the distinct values
    are sorted."""
    m, n = 4 * k, len(values)
    if n > 2 * m + 2:
        part = np.partition(values, [m, n - m - 1])
        lo, hi = np.unique(part[:m + 1]), np.unique(part[n - m - 1:])
        if len(lo) >= k and len(hi) >= k:
            return lo[:k], hi[-k:]
    distinct = np.sort(pd.unique(values))
    return distinct[:k], distinct[-k:]


def sentinels_from(n: int, counts: dict[str, int], lowest, highest) -> dict[str, int]:
    """:func:`sentinel_values` from the column's known values: their number, each sentinel's count,
    and the smallest and largest few distinct values (enough to find the range without any one)."""
    if n < 10:
        return {}
    found: dict[str, int] = {}
    min_count = max(3, int(0.001 * n))
    for c in SENTINELS:
        count = counts.get(f"{c:g}", 0)
        if count < min_count:
            continue
        if count == n:
            continue
        lo = min(v for v in lowest if v != c)
        hi = max(v for v in highest if v != c)
        if lo <= c <= hi:
            continue
        gap = (lo - c) if c < lo else (c - hi)
        opposite_sign = (c < 0 <= lo) or (c > 0 >= hi)
        if opposite_sign or gap > 0.25 * (hi - lo):
            found[f"{c:g}"] = count
    return found


@dataclass(frozen=True)
class ColumnMissing:
    """What the completeness check counts in one column of training + holdout."""

    missing_train: int
    missing_test: int
    tokens: dict  # disguised missing-value tokens (not the placeholder categories)
    as_category: dict  # placeholder words read as a real category
    sentinels: dict
    distinct: int  # distinct values of the column (named in the placeholder finding)
    # the placeholders (tokens and sentinels) in each split; None: not counted per split (the rates then
    # leave them out of the per-split figures)
    disguised_train: int | None = None
    disguised_test: int | None = None


def column_missing(tr: pd.Series, te: pd.Series, top_coded: frozenset = frozenset()) -> ColumnMissing:
    both = pd.concat([tr, te], ignore_index=True)
    tokens = disguised_tokens(both)
    as_category = category_placeholders(both, tokens)
    hidden = {t: k for t, k in tokens.items() if t not in as_category}
    sentinels = {v: k for v, k in sentinel_values(both).items() if v not in top_coded}
    return ColumnMissing(int(tr.isna().sum()), int(te.isna().sum()), hidden, as_category, sentinels,
                         int(both.nunique()) if as_category else 0,
                         _placeholders_in(tr, hidden, sentinels), _placeholders_in(te, hidden, sentinels))


def _placeholders_in(series: pd.Series, tokens: dict[str, int], sentinels: dict[str, int]) -> int:
    """How many of one split's cells hold the column's placeholders (found over both splits)."""
    if not tokens and not sentinels:
        return 0
    n = 0
    if tokens:
        n += int(series.dropna().astype(str).isin(list(tokens)).sum())
    if sentinels:
        n += int(pd.to_numeric(series, errors="coerce").isin([float(v) for v in sentinels]).sum())
    return n


@register("data_quality.completeness", title="Completeness and missing values", area="data_quality",
          antipatterns=("data_crisis_as_a_service",), order=10)
def completeness(ctx: ReviewContext) -> Outcome:
    """Missing values per column in training and holdout, including disguised ones:
    text tokens such as '?', 'N/A', 'null' and sentinel numbers such as -999."""
    all_cols = [c for c in ctx.train.columns if c in ctx.test.columns]
    caps = top_codes(ctx)
    counts = {col: column_missing(ctx.train[col], ctx.test[col], frozenset(caps.get(col, {})))
              for col in all_cols}
    return completeness_outcome(ctx, len(ctx.train), len(ctx.test), counts)


TOP_TAIL = 0.05  # the upper tail a top-code's rows are compared with: the top 5% of the column's other values


def top_codes(ctx: ReviewContext) -> dict[str, dict[str, dict]]:
    """Sentinel-like numbers above a column's range that are *top-codes* (values capped there, like UCI
    Adult's capital-gain 99999: every one of its 244 rows earns >50K), not missing values: their rows'
    outcome continues the column's upper tail. Column -> value -> evidence. Judged on the training rows
    with a binary or numeric target (none for multiclass or a data set without a usable target): the
    top 5% of the other values must differ from the rest in outcome by more than twice its standard
    error, and the capped rows must lie on the tail's side, at least halfway from the rest to the tail.
    A missing-value code (its rows' outcome like everyone's, or unrelated to the column) stays one."""
    key = ("data_quality.top_codes",)
    if key in ctx.memo:
        return ctx.memo[key]
    out: dict[str, dict[str, dict]] = {}
    t = None
    if ctx.task == "binary" and ctx.positive_label is not None:
        t = (ctx.y_train.astype(str) == str(ctx.positive_label)).astype(float).to_numpy()
    elif ctx.task == "regression":
        t = pd.to_numeric(ctx.y_train, errors="coerce").to_numpy(float)
    if t is not None:
        for col in [c for c in ctx.features if c in ctx.train.columns and c in ctx.test.columns]:
            s = ctx.train[col]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or s.max() not in SENTINELS:
                continue  # a top-code is the column's largest value (one pass; most columns stop here)
            v = pd.to_numeric(s, errors="coerce").to_numpy(float)
            for c in (c for c in sentinel_values(s) if float(c) > 0):
                ev = _top_code_evidence(v, t, float(c))
                if ev is not None:
                    out.setdefault(col, {})[c] = ev
    ctx.memo[key] = out
    return out


def _top_code_evidence(v: np.ndarray, t: np.ndarray, c: float) -> dict | None:
    ok = ~np.isnan(v) & ~np.isnan(t)
    v, t = v[ok], t[ok]
    at = v == c
    rest = ~at
    if at.sum() < 3 or rest.sum() < 40 or c <= np.max(v[rest]):
        return None
    cut = np.quantile(v[rest], 1 - TOP_TAIL)
    tail = rest & (v >= cut) & (v > np.median(v[rest]))
    if tail.sum() < 10:
        return None
    base, top, capped = float(t[rest].mean()), float(t[tail].mean()), float(t[at].mean())
    d = top - base
    se = float(np.std(t[tail], ddof=1) / np.sqrt(tail.sum())) if tail.sum() > 1 else math.inf
    if abs(d) <= 2 * se or (capped - base) * np.sign(d) < abs(d) / 2:
        return None
    return {"rows": int(at.sum()), "largest_other": float(np.max(v[rest])), "outcome_capped": capped,
            "outcome_top_tail": top, "outcome_rest": base, "tail_rows": int(tail.sum())}


def completeness_outcome(ctx: ReviewContext, n_train: int, n_test: int, counts: dict[str, ColumnMissing]) -> Outcome:
    """The completeness findings from per-column counts (of the frames, or merged partition summaries)."""
    columns: dict[str, dict] = {}
    findings: list[Finding] = []
    repaired: dict[str, dict[str, int]] = {}
    for table in ctx.tables.values():
        for col, tokens in table.na_tokens.items():
            merged = repaired.setdefault(col, {})
            for tok, k in tokens.items():
                merged[tok] = merged.get(tok, 0) + k
    for col, cm in counts.items():
        miss_tr, miss_te = cm.missing_train, cm.missing_test
        tokens, as_category, sentinels = cm.tokens, cm.as_category, cm.sentinels
        # tokens the loader turned into NaN are already in the NaN counts; report them as disguised too
        loader_tokens = repaired.get(col, {})
        disguised = sum(tokens.values()) + sum(sentinels.values())
        loader_n = sum(loader_tokens.values())
        total = miss_tr + miss_te + disguised
        rate_tr, rate_te = miss_tr / n_train, miss_te / n_test
        # per split, the placeholders count as missing too (issue 12: "'workclass' is 5.7% missing (training
        # 0.0%, holdout 0.0%)" on UCI Adult, whose '?' the per-split rates left out)
        per_split = cm.disguised_train is not None and cm.disguised_test is not None
        all_tr = (miss_tr + cm.disguised_train) / n_train if per_split else rate_tr
        all_te = (miss_te + cm.disguised_test) / n_test if per_split else rate_te
        columns[col] = {
            "missing_train": miss_tr,
            "missing_test": miss_te,
            "missing_rate_train": rate_tr,
            "missing_rate_test": rate_te,
            "disguised": {**tokens, **loader_tokens},
            "sentinels": sentinels,
            "total_missing_rate": total / (n_train + n_test),
            "total_missing_rate_train": all_tr,
            "total_missing_rate_test": all_te,
            "disguised_count": disguised,
            "placeholder_categories": as_category,
        }
        rate = columns[col]["total_missing_rate"]
        for tok, k in as_category.items():
            findings.append(Finding(
                severity=Severity.INFO, columns=[col],
                message=(f"'{col}' has '{tok}' in {k:,} rows ({_pct(k / (n_train + n_test))}), its most common value "
                         f"of {cm.distinct}: read as a real category (e.g. 'no guarantor'), not as missing. If "
                         f"'{tok}' means 'unknown' here, recode it as missing and review again."),
                evidence={"value": tok, "rows": k, "distinct_values": cm.distinct}))
        if tokens or loader_n or sentinels:
            hidden = [(f"'{t}'", k) for t, k in {**tokens, **loader_tokens}.items()] + \
                [(f"{v}", k) for v, k in sentinels.items()]
            what = ", ".join(f"{t} in {k:,} row{'s' if k != 1 else ''}" for t, k in hidden)
            total = sum(k for _, k in hidden)
            findings.append(Finding(
                severity=Severity.WARN, columns=[col],
                message=(f"'{col}' hides missing values as {what} ({_pct(total / (n_train + n_test))} of training "
                         "and holdout rows). Models treat these as real values; convert them to missing and decide "
                         "how to impute."),
                evidence={"tokens": {**tokens, **loader_tokens}, "sentinels": sentinels}))
        if rate >= FAIL_MISSING:
            findings.append(Finding(severity=Severity.FAIL, columns=[col], message=(
                f"'{col}' is {_pct(rate)} missing: too empty to rely on. Drop it or find its source."),
                evidence={"missing_rate": rate}))
        elif rate >= WARN_MISSING:
            findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                f"'{col}' is {_pct(rate)} missing{', placeholders included' if disguised else ''} (training "
                f"{_pct(all_tr)}, holdout {_pct(all_te)})."), evidence={"missing_rate": rate}))
        elif miss_tr + miss_te > 0:
            findings.append(Finding(severity=Severity.INFO, columns=[col], message=(
                f"'{col}' has {miss_tr + miss_te} missing values ({_pct(rate)})."), evidence={"missing_rate": rate}))
        if abs(all_tr - all_te) >= SHIFT_MISSING:
            findings.append(Finding(severity=Severity.WARN, columns=[col], message=(
                f"Missingness of '{col}' differs between training ({_pct(all_tr)}) and holdout ({_pct(all_te)}): "
                "the holdout does not look like the training data."),
                evidence={"missing_rate_train": all_tr, "missing_rate_test": all_te}))
    caps = top_codes(ctx)
    for col, found in caps.items():
        for c, ev in found.items():
            if ctx.task == "binary":
                said = (f"{_pct(ev['outcome_capped'])} of them are '{ctx.positive_label}', against "
                        f"{_pct(ev['outcome_top_tail'])} among the column's top 5% and {_pct(ev['outcome_rest'])} "
                        "among the rest")
            else:
                said = (f"their mean outcome is {ev['outcome_capped']:.4g}, against {ev['outcome_top_tail']:.4g} among "
                        f"the column's top 5% and {ev['outcome_rest']:.4g} among the rest")
            findings.append(Finding(severity=Severity.INFO, columns=[col], message=(
                f"'{col}' has {ev['rows']:,} training rows at {c}, far above its other values (largest "
                f"{ev['largest_other']:,.4g}), but it reads as a top-code (values capped at {c}), not as a missing "
                f"value: {said}. Keep it; values above the cap cannot be told apart."), evidence={"value": c, **ev}))
    unl = ctx.unlabelled
    if sum(unl.values()):
        findings.append(Finding(severity=Severity.WARN, columns=[ctx.target], message=(
            f"{unl.get('train', 0)} training and {unl.get('test', 0)} holdout rows have no target value; "
            "they were left out of the review."), evidence=unl))
    cells = (n_train + n_test) * max(1, len(counts))
    # the headline counts what the per-column findings count: empty cells plus disguised ones
    missing_cells = sum(c["missing_train"] + c["missing_test"] + c["disguised_count"] for c in columns.values())
    disguised_cols = sorted(c for c, v in columns.items() if v["disguised"] or v["sentinels"])
    cells_disguised = sum(c["disguised_count"] for c in columns.values())
    with_missing = sorted(c for c, v in columns.items() if v["total_missing_rate"] > 0)
    metrics = {
        "rows_train": n_train, "rows_test": n_test,
        "unlabelled_train": unl.get("train", 0), "unlabelled_test": unl.get("test", 0),
        "missing_cell_rate": missing_cells / cells,
        "disguised_cell_rate": cells_disguised / cells,
        "columns_with_missing": with_missing,
        "disguised_missing_columns": disguised_cols,
        "placeholder_category_columns": sorted(c for c, v in columns.items() if v["placeholder_categories"]),
        "columns": columns,
    }
    if not findings or all(f.severity == Severity.INFO for f in findings):
        summary = ("No missing values." if not with_missing else
                   f"{_columns(len(with_missing))} {'has' if len(with_missing) == 1 else 'have'} a few missing values; none above {_pct(WARN_MISSING)}.")
    else:
        parts = []
        if disguised_cols:
            parts.append(f"{_columns(len(disguised_cols))} hide{'s' if len(disguised_cols) == 1 else ''} missing values behind placeholders ({', '.join(disguised_cols[:4])})")
        heavy = [c for c, v in columns.items() if v["total_missing_rate"] >= WARN_MISSING]
        if heavy:
            parts.append(f"{_columns(len(heavy))} {'is' if len(heavy) == 1 else 'are'} at least {_pct(WARN_MISSING)} missing")
        if sum(unl.values()):
            parts.append("some rows have no target")
        summary = "; ".join(parts) + "." if parts else "Missingness differs between training and holdout."
        summary = summary[0].upper() + summary[1:]
    return Outcome(summary=summary, findings=findings, metrics=metrics)


def _columns(n: int, *, bare: bool = False) -> str:
    """'1 column', '2 columns' (or just the noun with ``bare``): never 'column(s)'."""
    noun = "column" if n == 1 else "columns"
    return noun if bare else f"{n:,} {noun}"


def _numeric_text(values: pd.Series) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """A column's values as text, read once per distinct value: the distinct texts (in order of first
    appearance), how many rows hold each, and which of them ``pd.to_numeric`` reads as a number. Parsing
    is per value, so this is the row-by-row parse weighted by the counts; a pyarrow string column is not
    iterated row by row in Python (seconds at a million rows)."""
    codes, uniques = pd.factorize(values.astype(str))
    counts = np.bincount(codes, minlength=len(uniques))
    numeric = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").notna().to_numpy()
    return uniques, counts, numeric


def mixed_type_columns(frame: pd.DataFrame) -> dict[str, dict]:
    """Text columns that mix numbers with words, or object columns holding several Python types."""
    out: dict[str, dict] = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        values = s.dropna()
        values = values[~values.astype(str).str.strip().str.lower().isin(MISSING_TOKENS)]
        if values.empty:
            continue
        types = {type(v).__name__ for v in values.head(5000)}
        uniques, counts, numeric = _numeric_text(values)
        share = float(counts[numeric].sum() / len(values))  # the share of rows whose text reads as a number
        if len(types) > 1 or 0.0 < share < 1.0:
            numeric_examples, text_examples = uniques[numeric][:3], uniques[~numeric][:3]
            if len(types) > 1 or (len(numeric_examples) and len(text_examples)):
                out[str(col)] = {"numeric_share": share, "python_types": sorted(types),
                                 "numeric_examples": list(numeric_examples), "text_examples": list(text_examples)}
    return out


def _minor_summary(counts: dict[str, tuple[int, str]], explained: dict[str, str] | None = None) -> str:
    """A pass summary built from the counts: what is absent, then what is present but too small to matter
    (never "no duplicates" above a non-zero duplicate count). ``explained`` gives, for a kind that is not
    small but is no defect (repeats at the level chance gives), the reason that replaces "too few to matter"."""
    explained = explained or {}
    absent = [k for k, (n, _) in counts.items() if n == 0]
    present = [text for k, (n, text) in counts.items() if n > 0 and k not in explained]
    reasoned = [counts[k][1] + explained[k] for k in explained if counts[k][0] > 0]
    parts = []
    if absent:
        parts.append("No " + (", ".join(absent[:-1]) + " or " + absent[-1] if len(absent) > 1 else absent[0]))
    parts.extend(reasoned)
    if present:
        parts.append("; ".join(present) + ", too few to matter")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def _row_hash(frame: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(frame, index=False)


CHANCE_SHUFFLES = 5  # block-shuffled copies behind the chance level of repeated feature values
DEPENDENCE_CODES = 20  # a column's values, for judging dependence: at most 20 codes (quantile bins, top categories)
DEPENDENCE_LIFT = 1.03  # two columns whose values coincide together 3% more often than apart are kept together
DEPENDENCE_ROWS = 20_000  # rows (a seeded sample) behind the dependence judgement: 2 x 10^8 pairs of rows
# the pairs judged grow with the square of the columns: only the coarsest columns are judged (those whose values
# coincide most often; they make chance repeats), the rest stay alone. 120 columns: about a second on 20,000 rows
DEPENDENCE_MAX_COLUMNS = 120


def _dependence_codes(s: pd.Series) -> np.ndarray:
    """A column as at most ``DEPENDENCE_CODES`` integer codes: numbers with more values in quantile bins,
    text with more values as its most common ones and 'other'; missing is a code of its own."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    if len(uniques) <= DEPENDENCE_CODES:
        return codes
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(x)
        edges = np.unique(np.quantile(x[ok], np.linspace(0, 1, DEPENDENCE_CODES)[1:-1])) if ok.any() else np.array([])
        out = np.searchsorted(edges, np.where(ok, x, 0.0), side="right")
        return np.where(ok, out, len(edges) + 1)
    top = np.argsort(-np.bincount(codes))[:DEPENDENCE_CODES - 1]
    remap = np.full(len(uniques), DEPENDENCE_CODES - 1)
    remap[top] = np.arange(len(top))
    return remap[codes]


def _collisions(codes: np.ndarray) -> float:
    """Pairs of rows with the same code: sum over codes of c (c - 1)."""
    c = np.bincount(codes).astype(float)
    return float((c * (c - 1)).sum())


def chance_blocks(frame: pd.DataFrame, feats: list[str], *, seed: int = 0) -> list[list[str]]:
    """Feature columns grouped into blocks of dependent columns, to be shuffled together.

    Two columns are dependent when pairs of rows agree on both more often than independence gives:
    ``lift = P(agree on a and b) / (P(agree on a) P(agree on b)) >= DEPENDENCE_LIFT`` on the columns'
    codes (unbiased pair counts; a column as at most 20 codes). The lift is exactly what independent
    shuffling gets wrong: the chance of a repeat over independent blocks is the product of the blocks'
    agreement probabilities. A column that is a function of another (``age_cat`` of ``age``) has lift
    1 / P(agree on it), counts that are zero together lift above 1. Blocks are the connected groups
    (union-find). Columns whose values are mostly distinct (more distinct values than half the rows) stay
    alone: exact repeats need them to repeat, which is rare however they are shuffled, and pairs of sparse
    columns would read copied rows as dependence. Of more than ``DEPENDENCE_MAX_COLUMNS`` coarse columns, the
    coarsest are judged and the others stay alone (a wide table's whole rows rarely repeat by chance)."""
    n = len(frame)
    if n > DEPENDENCE_ROWS:
        frame = frame.iloc[np.sort(np.random.default_rng(seed).choice(n, DEPENDENCE_ROWS, replace=False))]
    m = len(frame)
    parent = list(range(len(feats)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    coarse = [j for j, c in enumerate(feats) if frame[c].nunique(dropna=False) <= m / 2]
    codes = {j: _dependence_codes(frame[feats[j]]) for j in coarse}
    pairs = m * (m - 1.0)
    agree = {j: _collisions(codes[j]) / pairs for j in coarse}
    if len(coarse) > DEPENDENCE_MAX_COLUMNS:
        coarse = sorted(sorted(coarse, key=lambda j: -agree[j])[:DEPENDENCE_MAX_COLUMNS])
    for i, a in enumerate(coarse):
        for b in coarse[i + 1:]:
            expected = agree[a] * agree[b]
            if expected <= 0 or find(a) == find(b):
                continue
            joint = _collisions(codes[a] * (int(codes[b].max()) + 1) + codes[b]) / pairs
            if joint >= DEPENDENCE_LIFT * expected:
                parent[find(a)] = find(b)
    blocks: dict[int, list[str]] = {}
    for j, c in enumerate(feats):
        blocks.setdefault(find(j), []).append(c)
    return list(blocks.values())


def _feature_repeats(frame: pd.DataFrame, feats: list[str], *, seed: int) -> dict:
    """Rows whose feature values repeat an earlier row's, against what chance gives in data this coarse.

    Chance: the same count after shuffling the rows of every block of dependent feature columns
    (:func:`chance_blocks`) independently — one permutation per block, applied to all its columns — so rows
    become independent draws from the product of the blocks' joint distributions, averaged over
    ``CHANCE_SHUFFLES`` shuffles. Few distinct values per column (integer counts, a handful of categories)
    make repeats — and different labels on repeated feature values — a matter of course; copied records
    are an excess over that level. Shuffling each column on its own understated that level wherever columns
    depend on each other (COMPAS: ``age_cat`` is a function of ``age``, the juvenile counts are zero
    together). When every column falls into one block, shuffling returns the data itself: chance cannot be
    estimated that way, and ``estimable`` is false (the repeats are then never called significant). The
    target is left out: it depends on the features, so shuffling it would understate how often whole rows
    repeat by chance (by 9% of the repeats on an honest set of four integer columns)."""
    n = len(frame)
    hashes = {c: pd.util.hash_pandas_object(frame[c], index=False).to_numpy() for c in feats}

    def repeats(order: dict[str, np.ndarray] | None) -> int:
        key = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in feats:
                h = hashes[c]
                key = key * np.uint64(1099511628211) + (h if order is None else h[order[c]])
        return int(n - len(np.unique(key)))

    observed = repeats(None)
    out = {"rows": observed, "expected": 0.0, "excess": 0, "significant": False, "material": False,
           "blocks": [], "estimable": True}
    if observed == 0 or n < 2:
        return out
    blocks = chance_blocks(frame, feats, seed=seed)
    out["blocks"] = [b for b in blocks if len(b) > 1]
    if len(blocks) < 2:
        out.update(expected=float(observed), estimable=False)
        return out
    rng = np.random.default_rng(seed)

    def shuffled() -> dict[str, np.ndarray]:
        order = {}
        for b in blocks:
            perm = rng.permutation(n)
            order.update({c: perm for c in b})
        return order

    null = np.array([repeats(shuffled()) for _ in range(CHANCE_SHUFFLES)], dtype=float)
    expected = float(null.mean())
    # significant: above the shuffles' mean by more than 3 standard deviations (the larger of the shuffles'
    # spread and a Poisson count's, so a spread of 0 over five shuffles is not taken at its word)
    spread = max(float(null.std(ddof=1)), math.sqrt(max(expected, 1.0)))
    excess = observed - expected
    out.update(expected=expected, excess=int(round(max(0.0, excess))), significant=bool(excess > 3 * spread),
               material=bool(excess >= DUPLICATE_SHARE * n))
    return out


def _shuffled(rep: dict) -> str:
    """How the chance level was drawn, in words: which columns were shuffled together."""
    blocks = rep.get("blocks") or []
    if not blocks:
        return "each column shuffled on its own"
    together = "; ".join(", ".join(b) for b in blocks[:3]) + ("; …" if len(blocks) > 3 else "")
    return f"columns shuffled on their own, dependent ones together: {together}"


@dataclass
class IntegrityCounts:
    """What the integrity check counts, from the frames or from an engine's counts over every row.

    ``repeats(split)`` gives :func:`_feature_repeats` of "train", "test" or "both" (the two splits
    together); it is called only where a verdict needs it (rows repeat, or labels conflict)."""

    feats: list
    constant: dict  # column -> its one value
    rows: dict  # split -> rows
    duplicates: dict  # split -> rows identical to an earlier row of the split (all columns)
    examples: dict  # split -> a few duplicated rows (row numbers)
    repeats: object  # callable: split -> the chance judgement of repeated feature values
    conflict_groups: int
    conflict_rows: int
    mixed: dict
    unseen: dict  # column -> {"rows", "values"} (the ten most common)
    unseen_distinct: dict  # column -> distinct unseen values
    new_labels: list


@register("data_quality.integrity", title="Integrity: constants, duplicates, conflicts, types, categories",
          area="data_quality", antipatterns=("data_crisis_as_a_service",), order=11)
def integrity(ctx: ReviewContext) -> Outcome:
    """Constant columns, duplicate rows within each split, conflicting labels (identical
    features, different target), columns of mixed types, and holdout categories never
    seen in training."""
    train, test, target = ctx.train, ctx.test, ctx.target
    feats = [c for c in ctx.features if c in train.columns and c in test.columns]
    both = pd.concat([train[feats], test[feats]], ignore_index=True)
    constant = {c: both[c].iloc[0] for c in feats if both[c].nunique(dropna=False) <= 1}
    dup, examples = {}, {}
    for split, frame in (("train", train), ("test", test)):
        h = _row_hash(frame)
        dup[split] = int(h.duplicated().sum())
        examples[split] = frame[h.duplicated(keep=False)].head(6).index.tolist() if dup[split] else []
    conflicts_rows, conflict_groups = 0, 0
    if feats:
        frame = pd.concat([train[feats + [target]], test[feats + [target]]], ignore_index=True)
        key = _row_hash(frame[feats])
        labels_per_key = frame.groupby(key.to_numpy())[target].nunique()
        bad_keys = labels_per_key[labels_per_key > 1].index
        if len(bad_keys):
            conflicts_rows, conflict_groups = int(key.isin(bad_keys).sum()), int(len(bad_keys))
    seed = ctx.settings.random_state

    def repeats(split: str) -> dict:
        frame = {"train": train, "test": test}.get(split)
        if frame is None:
            frame = pd.concat([train[feats], test[feats]], ignore_index=True)
        return _feature_repeats(frame, feats, seed=seed)

    unseen, distinct = {}, {}
    for c in feats:
        found = unseen_in(train[c], test[c])
        if found is not None:
            unseen[c], distinct[c] = found
    new_labels = []
    if ctx.task != "regression":
        new_labels = sorted(set(test[target].astype(str).unique()) - set(train[target].astype(str).unique()))
    return integrity_outcome(ctx, IntegrityCounts(
        feats=feats, constant=constant, rows={"train": len(train), "test": len(test)}, duplicates=dup,
        examples=examples, repeats=repeats, conflict_groups=conflict_groups, conflict_rows=conflicts_rows,
        mixed=mixed_type_columns(both), unseen=unseen, unseen_distinct=distinct, new_labels=new_labels))


def unseen_in(s_tr: pd.Series, s_te: pd.Series) -> tuple[dict, int] | None:
    """The holdout values of a categorical column that training never has: ({"rows", "values": the ten
    most common}, how many distinct), or None (numbers, identifier-like text, or none unseen)."""
    if pd.api.types.is_numeric_dtype(s_tr) and pd.api.types.is_numeric_dtype(s_te):
        return None
    if s_tr.nunique() > 0.5 * len(s_tr):  # identifier-like text, not a category
        return None
    seen = set(s_tr.dropna().astype(str).unique())  # not a Python loop over every row
    te = s_te.dropna().astype(str)
    new = te[~te.isin(seen)]
    if not len(new):
        return None
    counts = new.value_counts().head(10)
    return {"rows": int(len(new)), "values": {str(k): int(v) for k, v in counts.items()}}, int(new.nunique())


def _sampled(rep: dict) -> str:
    """' (in a sample of n of the N rows)' where the chance judgement ran on an engine's sample, else ''."""
    if not rep.get("sample_rows"):
        return ""
    return f" (in a sample of {rep['sample_rows']:,} of the {rep['of_rows']:,} rows)"


def integrity_outcome(ctx: ReviewContext, k: IntegrityCounts) -> Outcome:
    """The integrity findings from its counts (:class:`IntegrityCounts`)."""
    findings: list[Finding] = []
    target, feats = ctx.target, k.feats
    constant = list(k.constant)
    for c in constant:
        findings.append(Finding(severity=Severity.WARN, columns=[c], message=(
            f"'{c}' has the same value in every row: it carries no information. Drop it."),
            evidence={"value": k.constant[c]}))
    # duplicates within each split (all columns), judged against what chance gives in data this coarse
    # (issue 18: with a few integer or categorical columns, honest rows repeat by the thousand)
    dup, chance = k.duplicates, {}
    # kinds too many to be "too few to matter" that are no warning because chance gives them: chance estimable?
    chance_explains: dict[str, list[bool]] = {}
    for split in ("train", "test"):
        n_dup = dup[split]
        if n_dup:
            share = n_dup / k.rows[split]
            rep = k.repeats(split) if feats else {"significant": True, "expected": 0.0}
            chance[split] = rep
            sev = Severity.WARN if share >= DUPLICATE_SHARE and rep["significant"] and (
                not feats or rep["material"]) else Severity.INFO
            if sev == Severity.INFO and share >= DUPLICATE_SHARE and feats:
                chance_explains.setdefault("duplicate rows", []).append(rep["estimable"])
            name = "training" if split == "train" else "holdout"
            by_chance = ((f" Rows with the same feature values{_sampled(rep)}: {rep['rows']:,}; every feature column "
                          "depends on the others here, so how many chance alone gives cannot be estimated by shuffling "
                          "columns: compare record ids or sources to tell copies from different records that coincide.")
                         if not rep.get("estimable", True) else
                         (f" Rows with the same feature values{_sampled(rep)}: {rep['rows']:,}; chance alone gives about "
                          f"{rep['expected']:,.0f} in data this coarse ({_shuffled(rep)})"
                          + ("." if sev == Severity.WARN else
                             # information because chance explains them, or because they are too few to matter
                             # (issue 12, UCI Adult: 24 copies where chance gives about 0 were "no sign" of copying)
                             ", more than chance gives, but too few to matter (under "
                             f"{_pct(DUPLICATE_SHARE)} of the rows beyond chance): check them if every record should "
                             "be unique." if rep["significant"] else
                             ", so these copies are no sign of double-counted records."))
                         ) if feats and rep["rows"] else ""
            findings.append(Finding(severity=sev, message=(
                f"{n_dup} {name} rows ({_pct(share)}) are exact copies of another {name} row."
                + by_chance
                + (" Duplicates over-weight some cases; check how the data was collected." if sev == Severity.WARN else "")),
                evidence={"split": split, "duplicate_rows": n_dup, "example_rows": k.examples[split],
                          "feature_repeats": rep.get("rows"), "chance_expected": rep["expected"],
                          "chance_blocks": rep.get("blocks", []), "chance_estimable": rep.get("estimable", True)}))
    # conflicting labels: same features, different target (over both splits)
    conflicts_rows, conflict_groups = k.conflict_rows, k.conflict_groups
    if conflict_groups:
        share = conflicts_rows / (k.rows["train"] + k.rows["test"])
        # where feature values repeat only as often as chance gives (few distinct values per column),
        # different labels on them are the problem's own noise (its Bayes error), not a defect
        rep = k.repeats("both")
        sev = Severity.WARN if share >= CONFLICT_SHARE and rep["significant"] else Severity.INFO
        if sev == Severity.INFO and share >= CONFLICT_SHARE:
            chance_explains.setdefault("label conflicts", []).append(rep["estimable"])
        findings.append(Finding(severity=sev, columns=[target], message=(
            f"{conflict_groups} groups of identical rows ({conflicts_rows} rows, {_pct(share)}) carry different "
            + ("target values: either labels are noisy or a feature that separates them is missing."
               if sev == Severity.WARN else
               f"target values: too few to matter (under {_pct(CONFLICT_SHARE)} of the rows), though feature "
               f"values repeat more often than chance gives ({rep['rows']:,} rows repeat another's{_sampled(rep)}; "
               f"chance alone gives about {rep['expected']:,.0f}): check them if the same features should give one "
               "outcome."
               if rep["significant"] and rep["estimable"] else
               f"target values. The features take so few distinct values that {rep['rows']:,} rows{_sampled(rep)} "
               "repeat "
               + (f"another's (chance alone gives about {rep['expected']:,.0f}): outcomes that differ for the same "
                  "feature values are the problem's own uncertainty here, not a sign of noisy labels."
                  if rep["estimable"] else
                  "another's, and every feature column depends on the others, so chance cannot be estimated by "
                  "shuffling columns: outcomes that differ for the same feature values are not by themselves a "
                  "sign of noisy labels."))),
            evidence={"groups": conflict_groups, "rows": conflicts_rows, "feature_repeats": rep["rows"],
                      "chance_expected": rep["expected"], "chance_blocks": rep["blocks"],
                      "chance_estimable": rep["estimable"]}))
    # mixed types
    mixed = k.mixed
    for c, info in mixed.items():
        findings.append(Finding(severity=Severity.WARN, columns=[c], message=(
            f"'{c}' mixes numbers ({', '.join(info['numeric_examples'])}) with text ({', '.join(info['text_examples'])}): "
            "fix the type at the source."), evidence=info))
    # unseen categories in the holdout
    unseen = k.unseen
    for c, info in unseen.items():
        share = info["rows"] / k.rows["test"]
        sev = Severity.WARN if share >= 0.01 else Severity.INFO
        findings.append(Finding(severity=sev, columns=[c], message=(
            f"'{c}' has {counted(k.unseen_distinct[c], 'value')} in {counted(info['rows'], 'holdout row')} ({_pct(share)}) "
            f"that training never saw (e.g. {', '.join(list(info['values'])[:3])}): the model has to guess for them."),
            evidence=info))
    if k.new_labels:
        findings.append(Finding(severity=Severity.FAIL, columns=[target], message=(
            f"The holdout has target values training never saw: {k.new_labels}."), evidence={"labels": k.new_labels}))
    metrics = {
        "constant_columns": constant,
        "duplicate_rows_train": dup["train"],
        "duplicate_rows_test": dup["test"],
        "conflicting_label_groups": conflict_groups,
        "conflicting_label_rows": conflicts_rows,
        "mixed_type_columns": sorted(mixed),
        "unseen_categories": unseen,
    }
    serious = [f for f in findings if f.severity != Severity.INFO]
    explained = {kind: (", no more than chance gives in data this coarse" if all(reps) else
                        " (every feature column depends on the others: chance cannot be estimated)")
                 for kind, reps in chance_explains.items()}
    if not serious:
        summary = _minor_summary({
            "constant columns": (len(constant), ""),
            "duplicate rows": (dup["train"] + dup["test"],
                               f"{dup['train']:,} training and {dup['test']:,} holdout rows repeat another row"),
            "label conflicts": (conflicts_rows, f"{conflicts_rows:,} rows carry conflicting labels"),
            "mixed types": (len(mixed), ""),
            "unseen categories": (len(unseen), f"{sum(v['rows'] for v in unseen.values()):,} holdout rows have "
                                               "categories training never saw"),
        }, explained=explained)
        status = Status.PASS
    else:
        kinds = []
        if constant:
            kinds.append(f"{len(constant)} constant {_columns(len(constant), bare=True)}")
        if any(f.evidence.get("duplicate_rows") and f.severity != Severity.INFO for f in findings):
            kinds.append("duplicate rows")
        if conflicts_rows and any(f.columns == [target] and "groups" in f.evidence and f.severity != Severity.INFO for f in findings):
            kinds.append(f"{conflicts_rows} rows with conflicting labels")
        if mixed:
            kinds.append(f"{_columns(len(mixed))} of mixed type")
        if any(c in unseen for f in serious for c in f.columns):
            kinds.append("unseen categories in the holdout")
        summary = "Found " + ", ".join(kinds) + "." if kinds else serious[0].message
        status = None
    return Outcome(summary=summary, findings=findings, metrics=metrics, status=status)
