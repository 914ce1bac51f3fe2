"""Builders for known-answer tests: a ReviewContext straight from DataFrames."""

from __future__ import annotations

import io

import pandas as pd

from readiness.inputs import Roles, Settings, build_context
from readiness.inputs.models import LoadedModel
from readiness.inputs.tables import Table, sha256_bytes


def table(frame: pd.DataFrame, role: str = "train", name: str | None = None) -> Table:
    data = frame.to_csv(index=False).encode()
    return Table(name=name or f"{role}.csv", role=role, frame=frame.reset_index(drop=True), sha256=sha256_bytes(data),
                 size_bytes=len(data))


def fitted(estimator) -> LoadedModel:
    """Wrap an in-memory fitted estimator as if it had been loaded from a file."""
    import pickle

    data = pickle.dumps(estimator)
    return LoadedModel(estimator=estimator, name="model.skops", sha256=sha256_bytes(data), size_bytes=len(data),
                       format="skops")


def make_ctx(train: pd.DataFrame, test: pd.DataFrame, *, target: str, model=None, settings: Settings | None = None,
             **roles):
    """ReviewContext from frames; ``model`` is a fitted estimator or None (then give prediction_column)."""
    return build_context(train=table(train, "train"), test=table(test, "test"), roles=Roles(target=target, **roles),
                         model=fitted(model) if model is not None else None, settings=settings)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue().encode()
