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


def setup_vendor_scores(frame: pd.DataFrame, roles: dict[str, str]):
    """The app (AppTest) on Setup with ``frame`` uploaded as one file with a split column, scored by a holdout
    column; ``roles`` maps a selectbox label's start ('Target', 'Split column', ...) to the column chosen."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120).run()
    at.switch_page("pages/setup.py").run()
    at.radio(key="setup_layout").set_value("One file with a split column").run()
    up = next(u for u in at.get("file_uploader") if u.label.startswith("Data (training and holdout rows)"))
    up.set_value(("all.csv", frame.to_csv(index=False).encode(), "text/csv"))
    at.run()
    at.radio(key="setup_model_mode").set_value("Scores in a holdout column (vendor, R or remote model)").run()
    for label, value in roles.items():
        next(s for s in at.selectbox if s.label.startswith(label)).set_value(value)
        at.run()
    return at
