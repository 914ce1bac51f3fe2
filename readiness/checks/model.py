"""The model itself: hyper-parameters recorded, untuned defaults flagged."""

from __future__ import annotations

from typing import Any

from readiness.fmt import counted
from readiness.inputs.context import ReviewContext
from readiness.inputs.models import final_estimator
from readiness.registry import NEEDS_MODEL, NeedsModel, Outcome, SkipCheck, register
from readiness.results import Finding, Severity

# parameters that say nothing about tuning (bookkeeping, parallelism, verbosity)
_NEUTRAL = {"random_state", "n_jobs", "verbose", "warm_start", "copy", "copy_X", "memory", "seed", "class_weight",
            "categorical_features", "feature_names_out", "monotonic_cst", "interaction_cst", "scoring"}


def _plain(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)


def _steps(estimator) -> list[tuple[str, Any]]:
    """(name, estimator) for every step of (nested) pipelines, the model itself otherwise."""
    if hasattr(estimator, "steps"):
        out = []
        for name, step in estimator.steps:
            out += [(f"{name}.{n}" if n else name, s) for n, s in _steps(step)]
        return out
    return [("", estimator)]


def changed_from_default(estimator) -> dict[str, tuple[Any, Any]]:
    """Hyper-parameters whose value differs from the class default: name -> (value, default)."""
    try:
        defaults = type(estimator)().get_params(deep=False)
    except Exception:
        return {}
    params = estimator.get_params(deep=False)
    out = {}
    for k, v in params.items():
        if k in _NEUTRAL or hasattr(v, "get_params"):
            continue
        d = defaults.get(k, object())
        if repr(v) != repr(d):
            out[k] = (_plain(v), _plain(d))
    return out


@register("model.hyperparameters", title="Hyper-parameters: recorded, and were they tuned?", area="evaluation",
          antipatterns=("tuning_under_the_carpet",), order=21)
def hyperparameters(ctx: ReviewContext) -> Outcome:
    """Records every hyper-parameter of the model (each pipeline step) and flags a final
    estimator left entirely at its library defaults: either it was never tuned, or the
    tuning that found the defaults best is not documented."""
    if ctx.data_only:
        raise NeedsModel(NEEDS_MODEL)
    if ctx.model is None:
        raise SkipCheck("No model file: the scores come from a prediction column, so the model's hyper-parameters "
                        "are unknown. Ask its owner for them and record them in the notes.")
    est = ctx.model.estimator
    final = final_estimator(est)
    steps = {}
    for name, step in _steps(est):
        try:
            params = step.get_params(deep=False)
        except Exception:
            params = {}
        steps[name or type(step).__name__] = {
            "class": f"{type(step).__module__}.{type(step).__name__}",
            "params": {k: _plain(v) for k, v in params.items() if not hasattr(v, "get_params")},
        }
    changed = changed_from_default(final)
    findings = []
    name = type(final).__name__
    stored_name = getattr(final, "readiness_name", None)  # an XGBoost / LightGBM / CatBoost / ONNX file
    if stored_name:
        name = stored_name
        findings.append(Finding(severity=Severity.INFO, message=(
            f"The {name} file stores its parameters, recorded here; it does not say which were chosen by hand, so "
            "tuning is not judged from it. Ask for the search space and the validation used (never the holdout)."),
            evidence={"estimator": name}))
        summary = f"The {name}'s stored parameters are recorded; whether they were tuned is not in the file."
    elif not changed:
        findings.append(Finding(severity=Severity.WARN, message=(
            f"{name} runs with its library defaults for every hyper-parameter. Either it was never tuned, or the "
            "tuning that chose the defaults is not documented: ask for the search space and the validation used "
            "(never the holdout)."), evidence={"estimator": name}))
        summary = f"The {name} uses library defaults throughout: no evidence of tuning."
    else:
        listed = ", ".join(f"{k}={v[0]!r}" for k, v in list(changed.items())[:6])
        findings.append(Finding(severity=Severity.INFO, message=(
            f"{name} departs from its defaults in {counted(len(changed), 'hyper-parameter')}: {listed}. Ask how they were "
            "chosen: on a validation split or cross-validation, not on the holdout."),
            evidence={k: {"value": v[0], "default": v[1]} for k, v in changed.items()}))
        summary = f"All hyper-parameters are recorded; {len(changed)} of the {name}'s differ from the library defaults."
    return Outcome(summary=summary, findings=findings, metrics={
        "estimator": f"{type(final).__module__}.{name}",
        "changed_from_default": {k: {"value": v[0], "default": v[1]} for k, v in changed.items()},
        "all_defaults": not changed and not stored_name,
        "steps": steps,
    })
