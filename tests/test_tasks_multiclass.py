"""Multiclass reviews (issue 23): per-class precision, recall and F1 on scikit-learn's digits and wine,
compared with scikit-learn's own metrics and statsmodels' exact intervals."""

import numpy as np
import pytest
from helpers import make_ctx
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.proportion import proportion_confint

from readiness.checks.evaluation import largest_confusions
from readiness.registry import get_check
from readiness.review import run_check


def _review(loader, seed=0):
    frame = loader(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.3, random_state=seed, stratify=frame["target"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
        train.drop(columns="target"), train["target"])
    ctx = make_ctx(train.reset_index(drop=True), test.reset_index(drop=True), target="target", model=model)
    return ctx, model.predict(test.drop(columns="target")), test["target"].to_numpy()


@pytest.fixture(scope="module")
def digits():
    return _review(datasets.load_digits)


def test_per_class_figures_equal_scikit_learns(digits):
    ctx, pred, y = digits
    res = run_check(get_check("evaluation.holdout"), ctx)
    assert ctx.task == "multiclass" and res.status.value != "error", res.summary
    pc = res.metrics["per_class"]
    labels = sorted(np.unique(y))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=np.nan)
    assert list(pc) == [str(v) for v in labels]
    for j, lab in enumerate(labels):
        c = pc[str(lab)]
        assert c["precision"] == pytest.approx(p[j], abs=1e-12) and c["recall"] == pytest.approx(r[j], abs=1e-12)
        assert c["f1"] == pytest.approx(f[j], abs=1e-12) and c["support"] == s[j]
        tp = int(((y == lab) & (pred == lab)).sum())
        assert np.allclose(c["recall_ci"], proportion_confint(tp, int(s[j]), method="beta"), atol=1e-9)
        assert np.allclose(c["precision_ci"], proportion_confint(tp, int((pred == lab).sum()), method="beta"),
                           atol=1e-9)
        assert c["f1_ci"][0] <= c["f1"] <= c["f1_ci"][1] and c["f1_ci"][1] - c["f1_ci"][0] < 0.2
    assert "Lowest recall: class" in res.summary


def test_largest_confusions_are_the_largest_off_diagonal_cells(digits):
    ctx, pred, y = digits
    m = run_check(get_check("evaluation.holdout"), ctx).metrics
    labels = sorted(np.unique(y))
    cm = confusion_matrix(y, pred, labels=labels)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    top = m["largest_confusions"][0]
    i, j = np.unravel_index(np.argmax(off), off.shape)
    assert top["rows"] == off.max() and top["share_of_actual"] == pytest.approx(off[i, j] / cm[i].sum())
    assert sum(c["rows"] for c in m["largest_confusions"]) == np.sort(off.ravel())[::-1][:5].sum()


def test_largest_confusions_known_answer():
    cm = np.array([[8, 2, 0], [5, 5, 0], [0, 1, 9]])
    out = largest_confusions(cm, ["a", "b", "c"], top=2)
    assert out == [{"actual": "b", "predicted": "a", "rows": 5, "share_of_actual": 0.5},
                   {"actual": "a", "predicted": "b", "rows": 2, "share_of_actual": 0.2}]


def test_wine_three_classes_match_scikit_learn():
    ctx, pred, y = _review(datasets.load_wine, seed=1)
    pc = run_check(get_check("evaluation.holdout"), ctx).metrics["per_class"]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=[0, 1, 2])
    assert [pc[c]["f1"] for c in ("0", "1", "2")] == pytest.approx(list(f), abs=1e-12)
    assert [pc[c]["support"] for c in ("0", "1", "2")] == list(s)
