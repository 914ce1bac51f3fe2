"""Roles, settings, and the validated review context every check receives."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from readiness import errors as E
from readiness.inputs.models import (
    LoadedModel,
    ModelAdapter,
    check_first_score,
    describe_estimator,
    expected_columns,
    is_classifier,
)
from readiness.inputs.tables import Table
from readiness.registry import NEEDS_MODEL, NeedsModel
from readiness.results import NO_MODEL_KIND, InputFile, ModelInfo, RolesInfo

TRAIN_SPLIT_VALUES = {"train", "training", "fit", "dev", "0", "false"}
TEST_SPLIT_VALUES = {"test", "holdout", "valid", "validation", "eval", "1", "true"}
MAX_CLASSES = 50
NO_MODEL_NAME = "No model yet (data review)"


class Roles(BaseModel):
    """Which column plays which part in the review."""

    model_config = ConfigDict(extra="forbid")
    target: str
    positive_label: Any = None
    sensitive: list[str] = Field(default_factory=list)
    time_column: str | None = None
    id_column: str | None = None
    exclude: list[str] = Field(default_factory=list)
    prediction_column: str | None = None
    split_column: str | None = None
    # bias review: the target value that is good for the person (AIF360's favorable label);
    # None = not given, then bias findings name no disadvantaged group
    favorable_label: Any = None
    # the model in production today, as a holdout column of its scores (instead of a model file)
    champion_prediction_column: str | None = None
    task: Literal["binary", "multiclass", "regression"] | None = Field(
        None, description="what the target is; None: the model's kind, else guessed from the target's values")


class Settings(BaseModel):
    """Business context and knobs; recorded in the report."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(0.5, description="positive when score >= threshold")
    target_accuracy: float | None = None
    target_rmse: float | None = Field(None, ge=0, description="regression: the RMSE the model must reach")
    target_r2: float | None = Field(None, le=1, description="regression: the R² the model must reach")
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    cost_over: float | None = Field(None, ge=0, description="regression: cost per unit of over-prediction")
    cost_under: float | None = Field(None, ge=0, description="regression: cost per unit of under-prediction")
    cost_matrix: dict[str, dict[str, float]] | None = Field(
        None, description="multiclass: cost of each decision, {true class: {predicted class: cost}}")
    random_state: int = 0
    reviewer_answers: dict[str, str] = Field(default_factory=dict, description="questionnaire answers (bias.categories)")
    bootstrap: int = Field(200, ge=20, description="bootstrap resamples for intervals")
    reference_groups: dict[str, str] = Field(
        default_factory=dict, description="bias review: reference group per sensitive attribute (default: most advantaged)")
    champion_threshold: float | None = Field(
        None, description="the current model's decision threshold (default: the same as the new model's)")
    latency_budget_ms: float | None = Field(
        None, gt=0, description="model.serving: warn when one row's scoring takes longer than this (95th percentile)")


@dataclass
class ReviewContext:
    """Validated inputs of one review; computed predictions are cached on it.

    ``y_test`` / ``y_train`` hold labels as they are in the data. For classification
    ``classes`` lists the labels, with ``positive_label`` for binary tasks.
    ``test_scores`` follows :class:`ModelAdapter.scores`.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    roles: Roles
    settings: Settings
    task: str
    features: list[str]
    classes: list[Any]
    positive_label: Any
    model: ModelAdapter | None
    model_info: ModelInfo
    input_files: list[InputFile]
    tables: dict[str, Table] = field(default_factory=dict)
    unlabelled: dict[str, int] = field(default_factory=dict)  # rows dropped for a missing target
    # earlier evaluations of this same holdout (by SHA-256) found in the review history; None = unknown
    prior_holdout_evaluations: int | None = None
    # the model in production today (comparison.champion); None = no comparison
    champion: Any = None  # readiness.inputs.champion.Champion
    # the champion's signed review found in the history (readiness.checks.comparison_history); None = none found
    champion_review: dict | None = None
    # results one check computes and another reuses (e.g. the leakage study that baselines and the
    # Bayes-error study consult), keyed by name and the settings they depend on; never part of the digest
    memo: dict = field(default_factory=dict, repr=False, compare=False)
    # how the inputs were read where a guess was made (e.g. the task), for the user to confirm
    notes: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.roles.target

    @property
    def y_train(self) -> pd.Series:
        return self.train[self.target]

    @property
    def y_test(self) -> pd.Series:
        return self.test[self.target]

    @property
    def has_model(self) -> bool:
        return self.model is not None

    @property
    def data_only(self) -> bool:
        """No model and no prediction column: a review of the data before any model exists."""
        return self.model is None and not self.roles.prediction_column

    @property
    def scores_are_probabilities(self) -> bool:
        if self.model is not None:
            return self.model.scores_are_probabilities
        if self.task == "regression":
            return False
        s = self.test_scores
        return bool(np.nanmin(s) >= 0 and np.nanmax(s) <= 1)

    @cached_property
    def test_scores(self) -> np.ndarray:
        """The model's holdout scores; a data-only review has none, and a check asking for them is skipped."""
        if self.data_only:
            raise NeedsModel(NEEDS_MODEL)
        if self.model is None:
            return pd.to_numeric(self.test[self.roles.prediction_column], errors="coerce").to_numpy(float)
        return self.model.scores(self.test)

    @cached_property
    def scored(self) -> np.ndarray:
        """Mask of holdout rows that have a score (a prediction column may have gaps)."""
        scores = np.asarray(self.test_scores, dtype=float)
        return ~np.isnan(scores) if scores.ndim == 1 else ~np.isnan(scores).any(axis=1)

    @cached_property
    def test_pred(self) -> np.ndarray:
        """Predicted labels on the holdout (binary: positive when score >= threshold)."""
        if self.task == "regression":
            return self.test_scores
        if self.task == "binary":
            negative = next(c for c in self.classes if c != self.positive_label)
            pos = self.test_scores >= self.settings.threshold
            return np.where(pos, self.positive_label, negative).astype(object)
        if self.model is not None:
            return self.model.predict(self.test)
        raise E.RoleError("A prediction column can only stand in for a binary or regression model.")

    @cached_property
    def y_test_binary(self) -> np.ndarray:
        """1 where the holdout label is the positive label (binary tasks)."""
        return _label_equals(self.y_test, self.positive_label).astype(int)

    @cached_property
    def digest(self) -> str:
        """Content digest of everything that determines the review's results."""
        return self._digest_with(self.settings)

    def _digest_with(self, settings: Settings) -> str:
        h = hashlib.sha256()
        for f in sorted(self.input_files, key=lambda f: f.role):
            h.update(f"{f.role}:{f.sha256};".encode())
        h.update(self.roles.model_dump_json().encode())
        h.update(settings.model_dump_json().encode())
        return h.hexdigest()

    @cached_property
    def evaluation_digest(self) -> str:
        """The digest of this evaluation of the holdout: :attr:`digest` without the reviewers'
        questionnaire answers, which change how results are read, not what the model scored.
        Equal to :attr:`digest` when nothing was answered. The review history counts one
        holdout use per evaluation digest."""
        if not self.settings.reviewer_answers:
            return self.digest
        return self._digest_with(self.settings.model_copy(update={"reviewer_answers": {}}))

    def roles_info(self) -> RolesInfo:
        return RolesInfo(**self.roles.model_dump(exclude={"task"}), features=self.features)


def _same_label_type(train_df: pd.DataFrame, test_df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A target read as whole numbers in one split and as floats in the other — the CSV reader makes a column
    float when it has a missing value — is the same labels: the float split is made integer again, so that
    the label 0 is not '0.0' in one split and '0' in the other. Nothing else changes."""
    a, b = train_df[target], test_df[target]
    int_a, int_b = pd.api.types.is_integer_dtype(a), pd.api.types.is_integer_dtype(b)
    if int_a == int_b:
        return train_df, test_df

    def whole(s: pd.Series) -> bool:
        return pd.api.types.is_float_dtype(s) and bool(np.all(np.isfinite(s.to_numpy()))) \
            and bool(np.all(np.mod(s.to_numpy(), 1) == 0))

    if int_a and whole(b):
        test_df = test_df.assign(**{target: b.astype(a.dtype)})
    elif int_b and whole(a):
        train_df = train_df.assign(**{target: a.astype(b.dtype)})
    return train_df, test_df


def _label_equals(series: pd.Series, label) -> np.ndarray:
    values = series.to_numpy()
    eq = values == label
    if not np.any(eq):
        eq = series.astype(str).to_numpy() == str(label)
    return np.asarray(eq, dtype=bool)


def _columns_list(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    text = ", ".join(cols[:15])
    return text + (f", ... ({len(cols)} in all)" if len(cols) > 15 else "")


def split_by_column(table: Table, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file plus a split column -> (train, test)."""
    frame = table.frame
    if column not in frame.columns:
        raise E.RoleError(E.COLUMN_MISSING.format(role="Split", column=column, split="", columns=_columns_list(frame)).replace("the  data", "the data"))
    marks = frame[column].astype(str).str.strip().str.lower()
    is_train, is_test = marks.isin(TRAIN_SPLIT_VALUES), marks.isin(TEST_SPLIT_VALUES)
    if not (is_train | is_test).all() or not is_train.any() or not is_test.any():
        raise E.RoleError(E.SPLIT_COLUMN_VALUES.format(column=column, values=sorted(marks.unique().tolist())[:8]))
    return (frame[is_train].drop(columns=[column]).reset_index(drop=True),
            frame[is_test].drop(columns=[column]).reset_index(drop=True))


def detect_task(y: pd.Series, model=None) -> str:
    if model is not None:
        declared = getattr(model, "readiness_task", None)  # XGBoost / LightGBM / CatBoost / ONNX files
        if declared == "regression" and getattr(model, "single_output", None) and y.dropna().nunique() == 2:
            return "binary"  # an ONNX model's one output column, and a two-valued target: its probability
        if declared is not None:
            return declared
        if not is_classifier(model):
            return "regression"
        n = len(getattr(model, "classes_", []))
        return "binary" if n <= 2 else "multiclass"
    values = y.dropna()
    n_unique = values.nunique()
    if pd.api.types.is_float_dtype(values) and n_unique > 20 and not np.allclose(values, np.round(values)):
        return "regression"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and n_unique > MAX_CLASSES:
        return "regression"
    return "binary" if n_unique <= 2 else "multiclass"


def whole_number_classes(y: pd.Series) -> int:
    """Distinct values of a numeric target that holds only whole numbers (0 when it does not)."""
    values = y.dropna()
    if values.empty or not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return 0
    as_float = values.to_numpy(dtype=float)
    return int(values.nunique()) if np.all(as_float == np.round(as_float)) else 0


def ambiguous_task(y: pd.Series) -> str | None:
    """Without a model, a target of 3+ whole numbers may be classes or a quantity: the guess, else None."""
    return detect_task(y) if whole_number_classes(y) > 2 else None


def decide_task(y: pd.Series, model=None, requested: str | None = None, *, target: str) -> tuple[str, str | None]:
    """The task (the requested one, checked against the data and the model) and a note when it was guessed."""
    detected = detect_task(y, model)
    if requested is None:
        n = whole_number_classes(y)
        if model is None and detected == "regression" and n > 2:
            return detected, E.TASK_GUESSED_REGRESSION.format(target=target, n=n)
        return detected, None
    if requested not in E.TASKS:
        raise E.RoleError(E.TASK_UNKNOWN.format(task=requested))
    if model is not None and not (requested == "regression" and getattr(model, "single_output", None)):
        # (an ONNX model's one output column may be a predicted value, as asked: the target's checks below)
        if requested != detected:
            kind = {"binary": "a binary classification", "multiclass": "a multiclass classification",
                    "regression": "a regression"}[detected]
            raise E.RoleError(E.TASK_MODEL_MISMATCH.format(kind=kind, task=requested))
        return detected, None
    values = y.dropna()
    n = int(values.nunique())
    if requested == "regression" and (not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise E.RoleError(E.TASK_NOT_NUMERIC.format(target=target, example=_plain(values.iloc[0])))
    if requested == "binary" and n > 2:
        raise E.RoleError(E.TASK_NOT_BINARY.format(target=target, n=n))
    if requested == "multiclass" and n <= 2:
        raise E.RoleError(E.TASK_NOT_MULTICLASS.format(target=target, n=n))
    return requested, None


def _default_positive(classes: list) -> Any:
    for c in classes:
        if c is True or str(c).lower() in {"1", "true", "yes", "positive"}:
            return c
    return classes[-1]


def build_context(
    *,
    train: Table,
    test: Table | None,
    roles: Roles,
    model: LoadedModel | None = None,
    settings: Settings | None = None,
    champion: LoadedModel | None = None,
) -> ReviewContext:
    """Validate roles against the data and the model; return the review context.

    Raises :class:`RoleError` / :class:`ModelError` with one-line messages.
    """
    settings = settings or Settings()
    tables = {"train": train}
    if test is None:
        if not roles.split_column:
            raise E.RoleError("Give a holdout file, or a split column that marks the holdout rows in the one file.")
        train_df, test_df = split_by_column(train, roles.split_column)
    else:
        tables["test"] = test
        train_df, test_df = train.frame, test.frame
    target = roles.target
    for split, frame in (("training", train_df), ("holdout", test_df)):
        if target not in frame.columns:
            raise E.RoleError(E.TARGET_MISSING.format(target=target, split=split, columns=_columns_list(frame)))
        if frame[target].notna().sum() == 0:
            raise E.RoleError(E.TARGET_ALL_MISSING.format(target=target, split=split))
    # rows without a label cannot be evaluated: dropped here, reported by data quality
    unlabelled = {"train": int(train_df[target].isna().sum()), "test": int(test_df[target].isna().sum())}
    train_df = train_df[train_df[target].notna()].reset_index(drop=True)
    test_df = test_df[test_df[target].notna()].reset_index(drop=True)
    train_df, test_df = _same_label_type(train_df, test_df, target)
    for name, cols in (("Sensitive", roles.sensitive), ("Excluded", roles.exclude)):
        for col in cols:
            _require_column(col, name, train_df, test_df)
    for name, col in (("Time", roles.time_column), ("ID", roles.id_column)):
        if col:
            _require_column(col, name, train_df, test_df)
    if roles.prediction_column:
        col = roles.prediction_column
        if col not in test_df.columns:
            raise E.RoleError(E.COLUMN_MISSING.format(role="Prediction", column=col, split="holdout", columns=_columns_list(test_df)))
        if not pd.api.types.is_numeric_dtype(test_df[col]):
            example = test_df[col].dropna().iloc[0] if test_df[col].notna().any() else None
            raise E.RoleError(E.PREDICTION_NOT_NUMERIC.format(column=col, example=example))

    estimator = model.estimator if model is not None else None
    task, note = decide_task(train_df[target], estimator, roles.task, target=target)
    single_output = task == "binary" and getattr(estimator, "single_output", None) and \
        estimator.readiness_task == "regression"
    if single_output:  # read as the probability of the target's second value; said in the notes
        estimator = estimator.as_binary()
    if estimator is None and roles.prediction_column and task == "multiclass":
        raise E.RoleError(E.PREDICTION_MULTICLASS.format(target=target, n=train_df[target].nunique()))
    non_features = {target, roles.prediction_column, roles.split_column, roles.id_column, roles.time_column,
                    roles.champion_prediction_column, *roles.exclude}
    features = [c for c in train_df.columns if c not in non_features]
    if estimator is None:
        _require_holdout_columns(features, train_df, test_df, non_features)
    classes: list[Any] = []
    positive = None
    if task != "regression":
        for split, frame in (("training", train_df), ("holdout", test_df)):
            values = frame[target].unique()
            if len(values) < 2:
                raise E.RoleError(E.TARGET_ONE_CLASS.format(target=target, value=_plain(values[0]), split=split))
        classes = _classes(train_df, test_df, target, estimator)
        if estimator is not None and getattr(estimator, "readiness_task", None) and not hasattr(estimator, "classes_"):
            estimator = _bind_classes(estimator, classes, model.name, target)
            note = note or E.MODEL_CLASSES_ASSUMED.format(name=model.name, last=len(classes) - 1,
                                                          values=[_plain(c) for c in classes])
        if roles.positive_label is not None and task == "binary":
            positive = _match_label(roles.positive_label, classes, target)
        elif task == "binary":
            positive = _default_positive(classes)
    if estimator is not None:
        wanted = expected_columns(estimator)
        if wanted is not None:
            missing = [c for c in wanted if c not in train_df.columns]
            if missing:
                extra = [c for c in features if c not in wanted]
                raise E.ModelError(E.MODEL_COLUMNS.format(missing=missing, extra=extra or "none"))
            _require_holdout_columns(wanted, train_df, test_df, non_features)
            features = wanted
        else:
            n_in = getattr(estimator, "n_features_in_", None)
            if n_in is not None and n_in != len(features):
                raise E.ModelError(E.MODEL_COLUMNS.format(
                    missing=f"{n_in} unnamed columns expected", extra=f"{len(features)} feature columns given: {features}"))
            _require_holdout_columns(features, train_df, test_df, non_features)
    roles = roles.model_copy(update={"positive_label": _plain(positive),
                                     "favorable_label": _favorable(roles.favorable_label, task, classes, target)})
    adapter = None
    if estimator is not None:
        adapter = ModelAdapter(estimator, task=task, positive_label=positive, features=features)
        check_first_score(model, adapter, test_df)  # in the isolated child first, for a model from a file
        est_name, params = describe_estimator(estimator)
        info = ModelInfo(kind="model", name=model.name, estimator=est_name, format=model.format,
                         trusted_pickle=model.trusted_pickle, classes=classes, hyperparameters=params)
    elif roles.prediction_column:
        info = ModelInfo(kind="predictions", name=f"prediction column '{roles.prediction_column}'", classes=classes)
    else:  # a data-only review: quality, leakage, bias in the labels, feasibility
        info = ModelInfo(kind=NO_MODEL_KIND, name=NO_MODEL_NAME, classes=classes)
    files = [InputFile(role=t.role, name=t.name, sha256=t.sha256, size_bytes=t.size_bytes,
                       rows=len(t.frame), columns=t.frame.shape[1]) for t in tables.values()]
    if model is not None:
        files.append(InputFile(role="model", name=model.name, sha256=model.sha256, size_bytes=model.size_bytes))
    ctx = ReviewContext(train=train_df, test=test_df, roles=roles, settings=settings, task=task,
                        features=features, classes=classes, positive_label=positive, model=adapter,
                        model_info=info, input_files=files, tables=tables, unlabelled=unlabelled,
                        notes=[note] if note else [])
    _check_scores(ctx)
    if single_output:
        _check_single_output(ctx, estimator, model.name)
    if champion is not None or roles.champion_prediction_column:
        from readiness.inputs.champion import attach_champion

        attach_champion(ctx, champion)
    return ctx


def _check_scores(ctx: ReviewContext) -> None:
    """Score the holdout once up front so a model that does not fit the data is bad input."""
    if ctx.data_only:
        return
    try:
        scores = ctx.test_scores
    except E.ReadinessError:
        raise
    except Exception as exc:
        raise E.ModelError(E.MODEL_PREDICT_FAILED.format(detail=" ".join(str(exc).split())[:300])) from None
    if np.all(np.isnan(np.asarray(scores, dtype=float))):
        raise E.RoleError(f"Prediction column '{ctx.roles.prediction_column}' has no numeric values in the holdout.")


def _check_single_output(ctx: ReviewContext, estimator, name: str) -> None:
    """An ONNX model's one output column read as a probability must lie in [0, 1]; say what was read."""
    scores = np.asarray(ctx.test_scores, dtype=float)
    low, high = float(np.nanmin(scores)), float(np.nanmax(scores))
    if low < 0 or high > 1:
        raise E.ModelError(E.ONNX_SINGLE_OUTPUT_RANGE.format(name=name, output=estimator.single_output,
                                                             low=low, high=high, target=ctx.roles.target))
    ctx.notes.append(E.ONNX_SINGLE_OUTPUT_READ.format(name=name, output=estimator.single_output,
                                                      target=ctx.roles.target, positive=_plain(ctx.classes[1])))


def _require_holdout_columns(features: list[str], train_df: pd.DataFrame, test_df: pd.DataFrame,
                             roles: set) -> None:
    """The holdout has every feature column of the training data; else name its missing and extra columns."""
    missing = [c for c in features if c not in test_df.columns]
    if missing:
        extra = [c for c in test_df.columns if c not in train_df.columns and c not in roles]
        raise E.RoleError(E.HOLDOUT_COLUMNS.format(missing=missing, extra=extra or "none"))


def _require_column(col: str, role: str, train_df: pd.DataFrame, test_df: pd.DataFrame) -> None:
    for split, frame in (("training", train_df), ("holdout", test_df)):
        if col not in frame.columns:
            raise E.RoleError(E.COLUMN_MISSING.format(role=role, column=col, split=split, columns=_columns_list(frame)))


def _classes(train_df, test_df, target, estimator) -> list:
    if estimator is not None and hasattr(estimator, "classes_"):
        return list(estimator.classes_)
    # training labels define the classes; holdout-only labels are flagged by data_quality.integrity
    values = train_df[target].dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _bind_classes(estimator, classes: list, name: str, target: str):
    """A model file that stores no labels: its classes 0..K-1 are the target's sorted values."""
    if estimator.n_classes_ != len(classes):
        raise E.ModelError(E.MODEL_CLASS_COUNT.format(name=name, n=estimator.n_classes_, target=target, m=len(classes),
                                                      values=[_plain(c) for c in classes][:10]))
    return estimator.with_classes(classes)


def _match_label(label, classes: list, target: str):
    for c in classes:
        if c == label or str(c) == str(label):
            return c
    raise E.RoleError(E.POSITIVE_LABEL_UNKNOWN.format(label=label, target=target, values=[_plain(c) for c in classes]))


def _favorable(label, task: str, classes: list, target: str):
    """The favourable label (bias review) matched to a class of the target; None when not given."""
    if label is None:
        return None
    if task == "regression":
        raise E.RoleError(E.FAVORABLE_LABEL_REGRESSION.format(target=target))
    for c in classes:
        if c == label or str(c) == str(label):
            return _plain(c)
    raise E.RoleError(E.FAVORABLE_LABEL_UNKNOWN.format(label=label, target=target, values=[_plain(c) for c in classes]))


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v
