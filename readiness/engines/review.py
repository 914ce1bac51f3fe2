"""``readiness review --engine dask|spark`` (and ``local`` on a dataset too large to load).

1. The training and holdout data are opened where they live (a Parquet dataset, or a file
   loaded on the driver as today), and the engine draws a sample of each (the rows with the
   smallest content keys: the same rows on every engine).
2. The review context is built on the samples, as a review of those files would be; the
   model is loaded and first scored in the isolated child on the driver.
3. The engine scores every holdout partition on the workers (the model loaded there from
   the same bytes) and returns small summaries that merge exactly.
4. The checks in :data:`readiness.engines.exact.EXACT` are computed from the merged
   summaries over every row; the others run on the samples. Every check's ``metrics.basis``
   says which: ``{"kind": "exact", "rows": N}`` or ``{"kind": "sample", "rows": n, "of_rows": N}``.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.engines import exact as X
from readiness.engines import (
    exact_business,
    exact_calibration,
    exact_champion,
    exact_drift,
    exact_rows,
)
from readiness.engines import exact_regression as XR
from readiness.engines.base import Engine, LocalEngine, _smallest_keys, row_keys
from readiness.engines.dataset import Dataset, is_dataset, open_dataset
from readiness.engines.exact_bias import bias_spec, exact_ready
from readiness.engines.exact_bias import groups as exact_groups
from readiness.engines.summaries import (
    SCORE_BINS,
    HoldoutSpec,
    holdout_summary,
    locate_scores,
    merge_all,
    refine_summary,
    score_bin,
    table_summary,
)
from readiness.inputs.tables import PARQUET_SUFFIXES, Table, load_table

DEFAULT_SAMPLE_ROWS = 100_000
LOCAL_MAX_ROWS_ENV = "READINESS_LOCAL_MAX_ROWS"
LOCAL_MAX_ROWS = 5_000_000


def local_max_rows() -> int:
    try:
        return int(os.environ.get(LOCAL_MAX_ROWS_ENV, LOCAL_MAX_ROWS))
    except ValueError:
        return LOCAL_MAX_ROWS


def open_source(source, *, role: str) -> Dataset | Table:
    """A Parquet file or dataset stays where it is; any other file is loaded on the driver. An input
    already opened (a :class:`Dataset`, or a :class:`Table` such as an upload in the app) is used as it is."""
    if isinstance(source, (Dataset, Table)):
        return source
    if is_dataset(source) or str(source).lower().endswith(tuple(PARQUET_SUFFIXES)):
        return open_dataset(source, role=role)
    return load_table(source, role=role)


def total_rows(src: Dataset | Table) -> int:
    return src.num_rows if isinstance(src, Dataset) else len(src.frame)


def summarize(engine: Engine, src: Dataset | Table, fn) -> dict:
    if isinstance(src, Table):
        return merge_all([fn(src.frame)])
    return merge_all(engine.map_partitions(src, fn))


def draw_sample(engine: Engine, src: Dataset | Table, n: int) -> pd.DataFrame:
    if isinstance(src, Dataset):
        return engine.sample(src, n)
    frame = src.frame
    if len(frame) <= n:
        return frame
    keys = row_keys(frame)
    limit = _smallest_keys(frame, n, 0)[-1]
    order = np.argsort(keys, kind="stable")
    return frame.iloc[order[keys[order] <= limit][:n]].reset_index(drop=True)


def _table(src: Dataset | Table, frame: pd.DataFrame, role: str) -> Table:
    if isinstance(src, Table):
        return dataclasses.replace(src, frame=frame)
    return Table(name=src.name, role=role, frame=frame, sha256=src.sha256, size_bytes=src.size_bytes)


@dataclasses.dataclass
class EngineReview:
    """A review whose context holds the samples, and the exact summaries of all rows."""

    ctx: object
    engine: Engine
    rows: dict  # role -> all rows
    sampled: dict  # role -> sampled rows
    train_summary: dict | None = None
    test_summary: dict | None = None
    srcs: dict | None = None  # role -> the opened input (Dataset, or a Table loaded on the driver)

    def basis(self, check_id: str, exact: bool) -> dict:
        name = self.engine.name
        if exact:
            return {"kind": "exact", "engine": name, "rows": self.rows["test"], "train_rows": self.rows["train"]}
        n, of = self.sampled["test"], self.rows["test"]
        out = {"kind": "exact" if n == of else "sample", "engine": name, "rows": n, "of_rows": of,
               "train_rows": self.sampled["train"], "of_train_rows": self.rows["train"]}
        why = exact_business.sample_reason(self.test_summary) if check_id == "business.threshold" else None
        if why:  # business.threshold: too many distinct scores to count
            out["why"] = why
        return out


def prepare(engine: Engine, *, train, test, roles, settings, model: bytes | None, model_name: str | None,
            trusted: str | None, sample_rows: int = DEFAULT_SAMPLE_ROWS, progress=None,
            loaded_model=None, champion=None, champion_name: str | None = None,
            trusted_champion: str | None = None, champion_bytes: bytes | None = None) -> EngineReview:
    """Open the inputs, draw the samples, build the context on them and compute the exact summaries.
    ``model`` is the model file's bytes (the workers load them); ``loaded_model``, when the caller has
    already loaded and checked those bytes (the app's upload), saves loading them again on the driver.
    ``champion`` (bytes or a loaded model) is loaded and checked on the driver as ``prepare_review`` loads
    it, then scored on every holdout partition from its bytes (``champion_bytes`` with a loaded model; without
    them ``comparison.champion`` stays on the sample), see :mod:`readiness.engines.exact_champion`."""
    from readiness.inputs import prepare_review

    if test is None:
        raise E.ReadinessError("--engine needs --test (a holdout dataset); --split-column works with --engine local.")
    say = progress or (lambda text: None)
    srcs = {"train": open_source(train, role="train"), "test": open_source(test, role="test")}
    say(f"opened the training data ({total_rows(srcs['train']):,} rows) and the holdout "
        f"({total_rows(srcs['test']):,} rows)")
    samples = {role: draw_sample(engine, src, sample_rows) for role, src in srcs.items()}
    say(f"drew the sample the row-level checks read: {len(samples['train']):,} training and "
        f"{len(samples['test']):,} holdout rows")
    ctx = prepare_review(train=_table(srcs["train"], samples["train"], "train"),
                         test=_table(srcs["test"], samples["test"], "test"), roles=roles,
                         model=loaded_model if loaded_model is not None else model,
                         model_name=model_name, trusted_model_sha256=trusted, settings=settings,
                         champion=champion, champion_name=champion_name, trusted_champion_sha256=trusted_champion)
    rows = {role: total_rows(src) for role, src in srcs.items()}
    ctx.input_files = [f.model_copy(update={"rows": rows[f.role]}) if f.role in rows else f for f in ctx.input_files]
    er = EngineReview(ctx=ctx, engine=engine, rows=rows, sampled={r: len(s) for r, s in samples.items()}, srcs=srcs)
    columns = tuple(c for c in ctx.train.columns if c in ctx.test.columns)
    spec = holdout_spec(ctx, columns, model=(model, model_name, trusted) if model is not None else None)
    spec = dataclasses.replace(spec, calibration=exact_calibration.spec_for(ctx, rows["test"], len(samples["test"])))
    spec = dataclasses.replace(spec, champion=exact_champion.spec_of(
        ctx, champion_source(champion, champion_bytes, trusted_champion)))
    bound = exact_business.limit(rows["test"])  # bounded score counts; the bins the sample says matter
    if bound is not None:
        bound = dataclasses.replace(bound, refine=exact_business.plan(
            ctx, functools.partial(score_bin, spec=spec), SCORE_BINS + 2, rows["test"]))
    spec = dataclasses.replace(spec, business=bound)
    er.train_summary = summarize(engine, srcs["train"], functools.partial(table_summary, columns=columns,
                                                                          target=ctx.target, bias=spec.bias))
    say(f"counted every training row; now every holdout row{' (the model scores each)' if model else ''}")
    er.test_summary = summarize(engine, srcs["test"], functools.partial(holdout_summary, spec=spec))
    say("counted every holdout row for the exact figures")
    if spec.business is not None:  # business.threshold above the row limit (exact_business.complete)
        exact_business.complete(
            ctx, er.test_summary, spec.business.refine, functools.partial(score_bin, spec=spec),
            lambda refine: summarize(engine, srcs["test"], functools.partial(refine_summary, spec=spec,
                                                                           refine=refine)),
            progress=say, locate=functools.partial(locate_scores, spec=spec))
    ctx.unlabelled = {"train": er.train_summary["unlabelled"], "test": er.test_summary["unlabelled"]}
    return er


def holdout_spec(ctx, columns: tuple, *, model) -> HoldoutSpec:
    probabilities = ctx.task == "binary" and not ctx.data_only and ctx.scores_are_probabilities
    lo, hi = (0.0, 1.0)
    if ctx.task == "binary" and not ctx.data_only and not probabilities:
        s = np.asarray(ctx.test_scores, dtype=float)
        s = s[~np.isnan(s)]
        lo, hi = float(s.min()), float(s.max())
        pad = (hi - lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    return HoldoutSpec(target=ctx.target, task=ctx.task, classes=tuple(ctx.classes), positive=ctx.positive_label,
                       threshold=ctx.settings.threshold, features=tuple(ctx.features),
                       prediction_column=ctx.roles.prediction_column if model is None else None, model=model,
                       score_range=(lo, hi), probabilities=probabilities, columns=columns, bias=bias_spec(ctx),
                       regression=XR.shift_of(ctx))


def champion_source(champion, champion_bytes: bytes | None, trusted: str | None) -> tuple | None:
    """The current model's (bytes, trusted sha256) for the workers: its file's bytes, or ``champion_bytes``
    beside a loaded model (trusted when it was loaded as a trusted pickle); None without bytes."""
    from readiness.inputs.models import LoadedModel
    from readiness.inputs.tables import read_source

    if champion is None:
        return None
    if isinstance(champion, LoadedModel):
        return None if champion_bytes is None else (champion_bytes,
                                                    champion.sha256 if champion.trusted_pickle else None)
    return read_source(champion, role="model")[0], trusted


def exact_checks(er: EngineReview) -> dict:
    """Check id -> a function of the context computing the check from the merged summaries."""
    out = {"data_quality.completeness": lambda ctx: X.completeness(ctx, er.train_summary, er.test_summary)}
    if er.ctx.task in ("binary", "multiclass") and "confusion" in er.test_summary:
        out["evaluation.holdout"] = lambda ctx: X.holdout(ctx, er.test_summary)
        out["evaluation.holdout_reuse"] = lambda ctx: X.holdout_reuse(ctx, er.test_summary)
    if er.ctx.task == "regression" and XR.ready(er.test_summary):
        out["evaluation.holdout"] = lambda ctx: XR.holdout(ctx, er.test_summary)
        out["evaluation.holdout_reuse"] = lambda ctx: XR.holdout_reuse(ctx, er.test_summary)
    bias = bias_spec(er.ctx)
    if exact_ready(bias, er.train_summary, er.test_summary):
        out["bias.groups"] = lambda ctx: exact_groups(ctx, bias, er.train_summary, er.test_summary)
    if exact_business.ready(er.ctx, er.test_summary):
        out["business.threshold"] = lambda ctx: exact_business.threshold(ctx, er.test_summary)
    if exact_calibration.ready(er.ctx, er.test_summary):
        out["calibration"] = lambda ctx: exact_calibration.calibration(ctx, er)
    out.update(exact_rows.exact_checks(er))
    out["drift.features"] = lambda ctx: exact_drift.features(ctx, er)
    out.update(exact_champion.checks(er))
    return out


def run(er: EngineReview, *, checks=None, progress=None):
    from readiness.review import run_review

    overrides = exact_checks(er)

    def annotate(result):
        basis = er.basis(result.id, result.id in overrides)
        return result.model_copy(update={"metrics": {**result.metrics, "basis": basis}})

    return run_review(er.ctx, checks=checks, progress=progress, overrides=overrides, annotate=annotate)


def wants_engine(a) -> bool:
    """The CLI's choice (:func:`needs_engine` of ``--engine`` and ``--train``/``--test``)."""
    return needs_engine(a.engine, (a.train, a.test))


def needs_engine(engine: str, sources) -> bool:
    """The engine path: engine dask|spark, or local with a Parquet dataset above READINESS_LOCAL_MAX_ROWS
    rows (streamed); otherwise every input is loaded whole, as a file is. ``sources``: paths, URLs or
    opened inputs (:func:`open_source`)."""
    if engine != "local":
        return True
    for source in sources:
        if isinstance(source, Dataset):
            if source.num_rows > local_max_rows():
                return True
        elif source is not None and not isinstance(source, Table) and (
                is_dataset(source) or str(source).lower().endswith(tuple(PARQUET_SUFFIXES))):
            try:
                if open_dataset(source, role="test", digest=False).num_rows > local_max_rows():
                    return True
            except E.ReadinessError:
                return False  # the ordinary path reports it
    return False


def make_engine(name: str, *, dask_scheduler: str | None = None, spark_master: str | None = None) -> Engine:
    """The engine by name; Dask's scheduler defaults to $DASK_SCHEDULER_ADDRESS (else a local cluster)."""
    from readiness.engines.base import get_engine

    if name == "local":
        return LocalEngine()
    scheduler = dask_scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    return get_engine(name, dask_scheduler=scheduler, spark_master=spark_master)


def engine_from_args(a) -> Engine:
    return make_engine(a.engine, dask_scheduler=a.dask_scheduler, spark_master=a.spark_master)


def open_review(engine: Engine, **prepare_args) -> EngineReview:
    """:func:`prepare`, then the checks of the settings against the data (reference groups, cost matrix);
    the engine is closed when any of it fails. Shared by ``readiness review --engine`` and the app."""
    from readiness.checks.bias import validate_reference_groups
    from readiness.checks.business_tasks import validate_cost_matrix

    try:
        er = prepare(engine, **prepare_args)
        validate_reference_groups(er.ctx)
        validate_cost_matrix(er.ctx)
    except BaseException:
        engine.close()
        raise
    return er
