"""Run the registered checks over a review context; one failure never stops the rest."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib import metadata

from readiness.inputs.context import ReviewContext
from readiness.registry import CheckSpec, SkipCheck, registered_checks
from readiness.results import CheckResult, ReviewReport, Status, status_from_findings

ProgressCallback = Callable[[int, int, CheckSpec], None]

_VERSIONED = ("model-readiness-review", "scikit-learn", "pandas", "numpy", "scipy", "skops", "shap", "lime", "pydantic")


#: the libraries that read and score a model of each format (ModelInfo.format) or estimator package
_MODEL_LIBRARIES = {"xgboost": ("xgboost",), "lightgbm": ("lightgbm",), "catboost": ("catboost",),
                    "onnx": ("onnxruntime", "onnx")}


def library_versions(ctx: ReviewContext | None = None) -> dict[str, str]:
    """Versions of Python and the libraries the review ran on; with ``ctx``, also of the
    library that read and scored its model and champion (XGBoost, LightGBM, CatBoost,
    onnxruntime and onnx — also inside a skops pipeline): a score can change with them."""
    import platform

    out = {"python": platform.python_version()}
    wanted = list(_VERSIONED)
    infos = [] if ctx is None else [ctx.model_info] + ([ctx.champion.info] if ctx.champion is not None else [])
    for info in infos:
        for key in (info.format, (info.estimator or "").split(".")[0].split(" ")[0].lower()):
            wanted += [d for d in _MODEL_LIBRARIES.get(key or "", ()) if d not in wanted]
    for dist in wanted:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def run_check(spec: CheckSpec, ctx: ReviewContext) -> CheckResult:
    start = time.perf_counter()
    base = {"id": spec.id, "title": spec.title_for(ctx.task), "antipatterns": list(spec.antipatterns)}
    try:
        out = spec.func(ctx)
        status = out.status or status_from_findings(out.findings)
        result = CheckResult(**base, status=status, summary=out.summary, findings=out.findings, metrics=out.metrics)
    except SkipCheck as skip:
        result = CheckResult(**base, status=Status.SKIPPED, summary=str(skip))
    except Exception as exc:  # isolate: one broken check must not stop the review
        detail = " ".join(str(exc).split())[:500] or type(exc).__name__
        result = CheckResult(**base, status=Status.ERROR,
                             summary=f"The check could not run: {type(exc).__name__}: {detail}",
                             metrics={"exception": type(exc).__name__})
    return result.model_copy(update={"duration_s": round(time.perf_counter() - start, 4)})


def run_review(
    ctx: ReviewContext,
    *,
    checks: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    overrides: dict[str, Callable] | None = None,
    annotate: Callable[[CheckResult], CheckResult] | None = None,
    workers: int | str = 1,
) -> ReviewReport:
    """Run the checks (all registered, or the given ids) and return the report.

    ``overrides`` (check id -> function of the context) computes a check another way (an
    engine's exact summaries, :mod:`readiness.engines.review`); ``annotate`` amends each result.

    ``workers=2`` runs the checks that fit their own models (:data:`readiness.parallel.WORKER_CHECKS`,
    unless overridden) in a second process at the same time; ``"auto"`` does so when the data has
    at least :data:`readiness.parallel.PARALLEL_MIN_ROWS` rows. The report is the same either way
    (only the durations differ), and ``progress`` is called in the checks' order either way."""
    specs = registered_checks()
    if checks is not None:
        wanted = list(checks)
        unknown = set(wanted) - {s.id for s in specs}
        if unknown:
            raise KeyError(f"unknown check ids: {sorted(unknown)}")
        specs = [s for s in specs if s.id in wanted]
    start = time.perf_counter()
    if overrides:
        specs = [dataclasses.replace(s, func=overrides[s.id]) if s.id in overrides else s for s in specs]
    local = set(overrides or ())  # an overridden check runs here: the second process knows the registered ones
    results = _run_specs(specs, ctx, progress, _use_worker(ctx, [s for s in specs if s.id not in local], workers),
                         local=local)
    if annotate is not None:
        results = [annotate(r) for r in results]
    if progress is not None and specs:
        progress(len(specs), len(specs), specs[-1])
    return ReviewReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        task=ctx.task,
        inputs=ctx.input_files,
        roles=ctx.roles_info(),
        model=ctx.model_info,
        settings=ctx.settings.model_dump(),
        versions=library_versions(ctx),
        duration_s=round(time.perf_counter() - start, 3),
        checks=results,
    )


def _use_worker(ctx: ReviewContext, specs: list[CheckSpec], workers: int | str) -> bool:
    from readiness import parallel

    if workers == "auto":
        use = len(ctx.train) + len(ctx.test) >= parallel.PARALLEL_MIN_ROWS \
            and parallel.table_bytes(ctx) <= parallel.PARALLEL_MAX_BYTES
    else:
        use = int(workers) > 1
    use = use and parallel.enabled() and any(s.id in parallel.WORKER_CHECKS for s in specs) \
        and any(s.id not in parallel.WORKER_CHECKS for s in specs)
    if not use:
        parallel.discard_prestarted()
    return use


# quantities several checks share through ``ctx.memo``: computed before the context goes to the
# second process, so neither process computes them again (check ids that use them -> function)
def _feature_powers(ctx: ReviewContext) -> None:
    from readiness.checks.leakage import feature_powers

    feature_powers(ctx)


_SHARED = ((frozenset({"data_quality.labels", "baselines.comparison", "feasibility.bayes_error",
                       "leakage.feature_target", "explanations.shap", "explanations.permutation"}), _feature_powers),)


def _run_specs(specs: list[CheckSpec], ctx: ReviewContext, progress: ProgressCallback | None,
               use_worker: bool, local: set[str] = frozenset()) -> list[CheckResult]:
    if not use_worker:
        results = []
        for i, spec in enumerate(specs):
            if progress is not None:
                progress(i, len(specs), spec)
            results.append(run_check(spec, ctx))
        return results
    from readiness import parallel

    ids = {s.id for s in specs}
    for users, warm in _SHARED:
        if users & ids:
            try:
                warm(ctx)
            except Exception:  # noqa: S110 - the checks that need it meet the same error and report it
                pass
    lane = parallel.Lane.start(ctx, [s.id for s in specs if s.id in parallel.WORKER_CHECKS and s.id not in local])
    remote = set(lane.ids) if lane is not None else set()
    done: dict[int, CheckResult] = {}
    told = 0  # progress(i) is called once checks 0..i-1 are done, in order

    def tell() -> None:
        nonlocal told
        while told < len(specs) and (told == 0 or told - 1 in done):
            if progress is not None:
                progress(told, len(specs), specs[told])
            told += 1

    try:
        for i, spec in enumerate(specs):
            if spec.id in remote:
                continue
            _collect(lane, specs, done)
            tell()
            done[i] = run_check(spec, ctx)
        for i, spec in enumerate(specs):
            if spec.id in remote and i not in done:
                result = lane.wait(spec.id)
                done[i] = result if result is not None else run_check(spec, ctx)  # the process failed
        _collect(lane, specs, done)
        tell()
    finally:
        if lane is not None:
            lane.close()
    return [done[i] for i in range(len(specs))]


def _collect(lane, specs: list[CheckSpec], done: dict[int, CheckResult]) -> None:
    if lane is None:
        return
    for i, spec in enumerate(specs):
        if i not in done and spec.id in lane.ids and lane.ready(spec.id):
            done[i] = lane.results[spec.id]


def update_report(report: ReviewReport, ctx: ReviewContext, check_ids: Iterable[str]) -> ReviewReport:
    """Re-run only the given checks (e.g. after reviewer answers changed) and splice them in."""
    ids = set(check_ids)
    fresh = {s.id: run_check(s, ctx) for s in registered_checks() if s.id in ids}
    checks = [fresh.get(c.id, c) for c in report.checks]
    return report.model_copy(update={"checks": checks, "settings": ctx.settings.model_dump()})
