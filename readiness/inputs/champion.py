"""The model in production today (the *champion*), scored on the review's holdout rows.

A review may bring the current model beside the new one (the *challenger*), so that
``comparison.champion`` compares them on the same rows. The champion comes as a model
file — loaded by :func:`readiness.inputs.models.load_model`, the one safe loader, with
its validation and isolated first scoring — or as a holdout column of its scores
(``Roles.champion_prediction_column``), for a model that cannot be loaded here.

The champion may use other features than the new model (a retrained model often adds
or drops some): the holdout must hold the champion's columns too. It must predict the
same target the same way (same task, same classes). Its decision threshold is
``Settings.champion_threshold`` (default: the new model's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from readiness import errors as E
from readiness.inputs.models import (
    LoadedModel,
    ModelAdapter,
    check_first_score,
    describe_estimator,
    expected_columns,
    is_classifier,
)
from readiness.results import InputFile, ModelInfo

CHAMPION_ROLE = "champion"


@dataclass
class Champion:
    """The current model's scores and decisions on the holdout rows of a review context.

    ``scores`` follows :class:`ModelAdapter.scores` (binary: higher = more positive;
    multiclass: an (n, C) matrix in the review's class order; regression: predictions).
    ``pred`` holds predicted labels (binary: positive when score >= ``threshold``).
    """

    info: ModelInfo
    sha256: str | None  # the model file's SHA-256; None for a prediction column
    threshold: float | None  # binary tasks
    scores: np.ndarray
    pred: np.ndarray
    scores_are_probabilities: bool
    features: list[str]

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def scored(self) -> np.ndarray:
        s = np.asarray(self.scores, dtype=float)
        return ~np.isnan(s) if s.ndim == 1 else ~np.isnan(s).any(axis=1)


def _kind(task: str) -> str:
    return {"binary": "binary classification", "multiclass": "multiclass classification"}.get(task, task)


def _binary_pred(scores: np.ndarray, threshold: float, positive, classes: list) -> np.ndarray:
    negative = next(c for c in classes if c != positive)
    return np.where(scores >= threshold, positive, negative).astype(object)


def _from_model(ctx, loaded: LoadedModel) -> Champion:
    est, name = loaded.estimator, loaded.name
    task = ctx.task
    declared = getattr(est, "readiness_task", None)  # XGBoost / LightGBM / CatBoost / ONNX files say it
    if declared == "regression" and task == "binary" and getattr(est, "single_output", None):
        est, declared = est.as_binary(), "binary"  # an ONNX model's one output: the probability of the second value
    theirs = declared or (("binary" if len(getattr(est, "classes_", [])) <= 2 else "multiclass")
                          if is_classifier(est) else "regression")
    if theirs != task:
        raise E.ModelError(E.CHAMPION_TASK.format(name=name, theirs=_kind(theirs), ours=_kind(task)))
    if task != "regression" and declared is not None and not hasattr(est, "classes_"):
        # a booster file stores no labels: classes 0..K-1 are the target's sorted values, as for the new model
        from readiness.inputs.context import _bind_classes, _plain

        est = _bind_classes(est, list(ctx.classes), name, ctx.roles.target)
        ctx.notes.append(E.MODEL_CLASSES_ASSUMED.format(name=name, last=len(ctx.classes) - 1,
                                                        values=[_plain(c) for c in ctx.classes]))
    if task != "regression":
        ours = {str(c) for c in ctx.classes}
        their_classes = [c for c in getattr(est, "classes_", [])]
        if {str(c) for c in their_classes} != ours:
            raise E.ModelError(E.CHAMPION_CLASSES.format(name=name, theirs=[str(c) for c in their_classes],
                                                         ours=sorted(ours)))
    wanted = expected_columns(est)
    if wanted is not None:
        missing = [c for c in wanted if c not in ctx.test.columns]
        if missing:
            raise E.ModelError(E.CHAMPION_COLUMNS.format(name=name, missing=missing))
        features = wanted
    else:
        features = list(ctx.features)
        n_in = getattr(est, "n_features_in_", None)
        if n_in is not None and n_in != len(features):
            raise E.ModelError(E.CHAMPION_COLUMNS.format(
                name=name, missing=f"{n_in} unnamed columns (the review has {len(features)} features)"))
    positive = ctx.positive_label
    if task == "binary":  # the champion's own spelling of the positive class
        positive = next((c for c in est.classes_ if c == positive or str(c) == str(positive)), positive)
    adapter = ModelAdapter(est, task=task, positive_label=positive, features=features)
    check_first_score(loaded, adapter, ctx.test)  # in the isolated child first, for a model from a file
    try:
        scores = adapter.scores(ctx.test)
        if task == "multiclass":
            order = [next(i for i, c in enumerate(adapter.classes) if str(c) == str(k)) for k in ctx.classes]
            scores = np.asarray(scores, dtype=float)[:, order]
            raw = adapter.predict(ctx.test)
            by_text = {str(c): c for c in ctx.classes}
            pred = np.array([by_text.get(str(v), v) for v in raw], dtype=object)
        elif task == "binary":
            pred = None
        else:
            pred = np.asarray(scores, dtype=float)
    except E.ReadinessError:
        raise
    except Exception as exc:
        raise E.ModelError(E.CHAMPION_PREDICT_FAILED.format(name=name, detail=" ".join(str(exc).split())[:300])) \
            from None
    threshold = _threshold(ctx)
    if task == "binary":
        scores = np.asarray(scores, dtype=float)
        pred = _binary_pred(scores, threshold, ctx.positive_label, ctx.classes)
    est_name, params = describe_estimator(est)
    info = ModelInfo(kind="model", name=name, estimator=est_name, format=loaded.format,
                     trusted_pickle=loaded.trusted_pickle, classes=ctx.classes, hyperparameters=params)
    return Champion(info=info, sha256=loaded.sha256, threshold=threshold if task == "binary" else None,
                    scores=scores, pred=pred, scores_are_probabilities=adapter.scores_are_probabilities,
                    features=features)


def _threshold(ctx) -> float:
    t = ctx.settings.champion_threshold
    return float(ctx.settings.threshold if t is None else t)


def _from_column(ctx) -> Champion:
    col = ctx.roles.champion_prediction_column
    if col == ctx.roles.prediction_column:
        raise E.RoleError(E.CHAMPION_COLUMN_SAME.format(column=col))
    if col not in ctx.test.columns:
        from readiness.inputs.context import _columns_list

        raise E.RoleError(E.COLUMN_MISSING.format(role="Current model's prediction", column=col, split="holdout",
                                                  columns=_columns_list(ctx.test)))
    values = ctx.test[col]
    if not pd.api.types.is_numeric_dtype(values):
        example = values.dropna().iloc[0] if values.notna().any() else None
        raise E.RoleError(E.PREDICTION_NOT_NUMERIC.format(column=col, example=example))
    if ctx.task == "multiclass":
        raise E.RoleError(E.CHAMPION_COLUMN_MULTICLASS.format(n=len(ctx.classes)))
    scores = pd.to_numeric(values, errors="coerce").to_numpy(float)
    if np.all(np.isnan(scores)):
        raise E.RoleError(E.CHAMPION_NO_SCORES.format(column=col))
    threshold = _threshold(ctx)
    if ctx.task == "binary":
        pred = _binary_pred(scores, threshold, ctx.positive_label, ctx.classes)
        probs = bool(np.nanmin(scores) >= 0 and np.nanmax(scores) <= 1)
    else:
        pred, probs = scores, False
    info = ModelInfo(kind="predictions", name=f"prediction column '{col}'", classes=ctx.classes)
    return Champion(info=info, sha256=None, threshold=threshold if ctx.task == "binary" else None, scores=scores,
                    pred=pred, scores_are_probabilities=probs, features=[])


def attach_champion(ctx, loaded: LoadedModel | None) -> None:
    """Validate the champion against the review context, score the holdout, and record it
    (``ctx.champion``; a model file joins ``ctx.input_files`` as role ``champion``, so the
    review's digest covers it). Raises :class:`ModelError` / :class:`RoleError` (one line)."""
    if loaded is not None and ctx.roles.champion_prediction_column:
        raise E.RoleError(E.CHAMPION_BOTH)
    champion = _from_model(ctx, loaded) if loaded is not None else _from_column(ctx)
    ctx.champion = champion
    if loaded is not None:
        ctx.input_files.append(InputFile(role=CHAMPION_ROLE, name=loaded.name, sha256=loaded.sha256,
                                         size_bytes=loaded.size_bytes))
    ctx.__dict__.pop("digest", None)  # recomputed with the champion's file


def champion_input(ctx) -> Any:
    """The champion's InputFile, or None."""
    return next((f for f in ctx.input_files if f.role == CHAMPION_ROLE), None)
