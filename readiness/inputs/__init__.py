"""Inputs: tables, models, roles -> a validated :class:`ReviewContext`."""

from __future__ import annotations

from pathlib import Path

from readiness.inputs.context import ReviewContext, Roles, Settings, build_context
from readiness.inputs.models import LoadedModel, load_model, model_digest
from readiness.inputs.tables import Table, load_table

Source = str | Path | bytes


def prepare_review(
    *,
    train: Source | Table,
    test: Source | Table | None,
    roles: Roles,
    model: Source | LoadedModel | None = None,
    model_name: str | None = None,
    trusted_model_sha256: str | None = None,
    settings: Settings | None = None,
    train_name: str | None = None,
    test_name: str | None = None,
    sandbox: bool = True,
    champion: Source | LoadedModel | None = None,
    champion_name: str | None = None,
    trusted_champion_sha256: str | None = None,
) -> ReviewContext:
    """Load files (paths or bytes) and validate them into a review context.

    A model file is loaded and first scored in an isolated child process unless
    ``sandbox=False`` (only for files you made yourself; see :func:`load_model`).
    ``champion`` is the model in production today (any format ``load_model`` reads, loaded
    the same way); ``comparison.champion`` compares the two on the same holdout rows. A
    champion given as scores in a holdout column is ``Roles.champion_prediction_column``.
    """
    if sandbox and (model is not None and not isinstance(model, LoadedModel)
                    or champion is not None and not isinstance(champion, LoadedModel)):
        from readiness.inputs.sandbox import prestart

        prestart()  # the isolation server warms up while the tables load
    train_t = train if isinstance(train, Table) else load_table(train, role="train", name=train_name)
    test_t = None
    if test is not None:
        test_t = test if isinstance(test, Table) else load_table(test, role="test", name=test_name)
    loaded = None
    if model is not None:
        loaded = model if isinstance(model, LoadedModel) else load_model(
            model, name=model_name, trusted_sha256=trusted_model_sha256, sandbox=sandbox)
    loaded_champion = None
    if champion is not None:
        loaded_champion = champion if isinstance(champion, LoadedModel) else load_model(
            champion, name=champion_name, trusted_sha256=trusted_champion_sha256, sandbox=sandbox)
    return build_context(train=train_t, test=test_t, roles=roles, model=loaded, settings=settings,
                         champion=loaded_champion)


__all__ = ["LoadedModel", "ReviewContext", "Roles", "Settings", "Table", "build_context", "load_model",
           "load_table", "model_digest", "prepare_review"]
