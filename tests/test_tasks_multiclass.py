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


@pytest.fixture(scope="module")
def wine_hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame = datasets.load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame["target"])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(train[feats], train["target"])
    return make_ctx(train, test, target="target", model=model), model, test, feats


def test_permutation_importance_is_on_the_log_loss_as_scikit_learns_neg_log_loss(wine_hgb):
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import log_loss

    from readiness import explain

    ctx, model, test, feats = wine_hgb
    got = explain.permutation_importance(ctx, groups={})
    assert got["metric"] == "negative log loss"
    assert got["baseline_score"] == pytest.approx(-log_loss(test["target"], model.predict_proba(test[feats])),
                                                  rel=1e-9)
    ref = permutation_importance(model, test[feats], test["target"], scoring="neg_log_loss",
                                 n_repeats=got["n_repeats"], random_state=ctx.settings.random_state, n_jobs=1)
    for j, f in enumerate(feats):
        assert got["importances"][f]["mean"] == pytest.approx(ref.importances_mean[j], rel=1e-6, abs=1e-12), f
    top = max(got["importances"].values(), key=lambda v: v["mean"])
    assert top["mean"] > 0.05  # the log loss still moves where the one-vs-rest AUC saturated


def test_shap_gives_every_classs_contributions_and_they_add_up_to_its_raw_score(wine_hgb):
    from readiness import explain

    ctx, model, test, feats = wine_hgb
    rows = np.arange(len(test))
    sv = explain.shap_values(ctx, rows)
    raw = model.decision_function(test[feats])  # per-class raw scores (log-odds space)
    # the base value of each class is the same for every row: recover it from the additivity of class 0
    for c in range(3):
        total = sv.by_class[:, :, c].sum(axis=1)
        base_c = raw[:, c] - total
        assert np.ptp(base_c) < 1e-6, c  # contributions + one constant = that class's own score, every row
    g = explain.global_shap(ctx)
    assert set(g["by_class"]) == {"0", "1", "2"}
    for c, label in enumerate(["0", "1", "2"]):
        want = np.abs(sv.by_class[:, :, c]).mean(axis=0)
        got = g["by_class"][label]["global_importance"]
        assert [got[f] for f in feats] == pytest.approx(want.tolist(), rel=1e-9)


def _digits_with_groups(planted: bool):
    frame = datasets.load_digits(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.4, random_state=1, stratify=frame["target"])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[feats], train["target"])
    rng = np.random.default_rng(3)
    train["grp"] = rng.choice(["a", "b"], len(train))
    test["grp"] = rng.choice(["a", "b"], len(test))
    if planted:  # group b's images are noisy in the holdout: the model recognises them less often
        b = test["grp"] == "b"
        test.loc[b, feats] = test.loc[b, feats] + rng.normal(0, 6, size=(int(b.sum()), len(feats)))
    ctx = make_ctx(train, test, target="target", model=model, sensitive=["grp"])
    return run_check(get_check("bias.groups"), ctx), test, model.predict(test[feats])


@pytest.mark.parametrize("planted", [True, False])
def test_all_class_view_equals_scikit_learn_per_group_and_newcombe_gaps(planted):
    from sklearn.metrics import accuracy_score, recall_score
    from statsmodels.stats.proportion import confint_proportions_2indep

    res, test, pred = _digits_with_groups(planted)
    m = res.metrics
    y = test["target"].to_numpy()
    for g in ("a", "b"):
        sel = (test["grp"] == g).to_numpy()
        v = m["groups"]["grp"][g]
        assert v["accuracy"] == pytest.approx(accuracy_score(y[sel], pred[sel]))
        rec = recall_score(y[sel], pred[sel], labels=list(range(10)), average=None, zero_division=np.nan)
        for c in range(10):
            got = v["recall_by_class"][str(c)]
            assert got["recall"] == pytest.approx(rec[c]) and got["recall_ci"][0] <= rec[c] <= got["recall_ci"][1]
    disp = m["disparities"]["grp"]
    ref = disp["reference"]
    other = "b" if ref == "a" else "a"
    gaps = disp["groups"][other]["all_classes"]
    a = test["grp"].to_numpy()
    x1, n1 = int((pred == y)[a == other].sum()), int((a == other).sum())
    x2, n2 = int((pred == y)[a == ref].sum()), int((a == ref).sum())
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=disp["alpha"])
    assert gaps["accuracy_difference"] == pytest.approx(x1 / n1 - x2 / n2)
    assert gaps["accuracy_difference_ci"] == pytest.approx([lo, hi], rel=1e-6)
    if planted:
        assert gaps["accuracy_beyond_chance"] and (gaps["accuracy_difference"] < 0) == (other == "b")
        assert gaps["worst_class_harms"] == "b"  # the noisy group bears the largest recall gap
        assert any(x["beyond_chance"] for x in gaps["recall_difference_by_class"].values())
    else:
        assert not gaps["accuracy_beyond_chance"]
        assert not any(x["beyond_chance"] for x in gaps["recall_difference_by_class"].values())


def test_bias_page_shows_every_class_first_and_one_class_on_demand():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    frame = datasets.load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.5, random_state=0, stratify=frame["target"])
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    feats = [c for c in frame.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[feats], train["target"])
    rng = np.random.default_rng(0)
    train["site"], test["site"] = rng.choice(["north", "south"], len(train)), rng.choice(["north", "south"], len(test))
    ctx = make_ctx(train, test, target="target", model=model, sensitive=["site"])
    report = run_review(ctx, checks=["bias.groups"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="wine", is_sample=False)
    at.switch_page("pages/bias.py").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["Largest accuracy gap", "Largest recall gap of one class"]
    table = at.dataframe[0].value
    assert list(table.columns) == ["group", "rows", "accuracy", "recall '0'", "recall '1'", "recall '2'"]
    assert any("Detail: class '0' against the rest" in m.value for m in at.markdown)
    at.selectbox(key="bias_class").set_value("2").run()
    assert not at.exception and any("Detail: class '2' against the rest" in m.value for m in at.markdown)


@pytest.mark.parametrize("planted", [True, False])
def test_the_summary_leads_with_the_all_class_view(planted):
    """Issue 23: a multiclass bias summary opened with one class against the rest ('selection rates'); it leads
    with the accuracy gap between groups (= scikit-learn's accuracy on each group) and the worst class's recall."""
    from sklearn.metrics import accuracy_score

    from readiness.fmt import points

    res, test, pred = _digits_with_groups(planted)
    y, g = test["target"].to_numpy(), test["grp"].to_numpy()
    ref = res.metrics["disparities"]["grp"]["reference"]
    other = "b" if ref == "a" else "a"
    gap = accuracy_score(y[g == other], pred[g == other]) - accuracy_score(y[g == ref], pred[g == ref])
    assert res.summary.startswith(f"All classes: the largest accuracy gap is {points(gap)} for grp = {other} "
                                  f"against {ref} (interval adjusted for the comparisons ")
    assert ("beyond chance); the largest gap in one class's recall is class" in res.summary) == planted
    assert "One class against the rest: " in res.summary


def test_holdout_page_per_class_intervals_are_plain_and_mistakes_read_as_sentences(digits):
    """Seen in the browser on digits: 'recall 95%  90.3% – > 99.9%' (a bound written as a range of its own) and
    '1 holdout row of class 1 were predicted as 8'. The bounds are statsmodels' Clopper–Pearson, in plain percent."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.review import run_review

    ctx, pred, y = digits
    report = run_review(ctx, checks=["evaluation.holdout"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="digits", is_sample=False)
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    for _, row in table.iterrows():
        lab = int(row["class"])
        tp, n = int(((y == lab) & (pred == lab)).sum()), int((y == lab).sum())
        lo, hi = proportion_confint(tp, n, method="beta")
        assert row["recall 95%"] == f"{100 * lo:.1f}%–{100 * hi:.1f}%" and ">" not in row["precision 95%"]
    text = " ".join(m.value for m in at.markdown)
    confusions = report.check("evaluation.holdout").metrics["largest_confusions"]
    assert {c["rows"] == 1 for c in confusions} == {True, False}  # both numbers are said
    for c in confusions:
        one = c["rows"] == 1
        assert (f"{c['rows']} holdout {'row' if one else 'rows'} of class **{c['actual']}** {'was' if one else 'were'} "
                f"predicted as **{c['predicted']}**") in text


def test_the_pdf_figures_carry_each_class_and_the_largest_mistakes(digits):
    """The digits PDF had no per-class figures (the page has them): recall, precision and F1 of every class (=
    scikit-learn's) and the largest confusions in words."""
    from readiness.fmt import percent
    from readiness.report.figures import key_figures

    ctx, pred, y = digits
    m = run_check(get_check("evaluation.holdout"), ctx).metrics
    rows = {label: value for label, value, _ in key_figures("evaluation.holdout", m)}
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=list(range(10)), zero_division=np.nan)
    for c in range(10):
        assert (f"{c}: recall {percent(r[c])}, precision {percent(p[c])}, F1 {percent(f[c])}"
                in rows["Each class: recall, precision, F1"])
    top = m["largest_confusions"][0]
    assert rows["Largest mistakes"].startswith(f"{top['actual']} taken for {top['predicted']}: {top['rows']} rows")


def test_a_long_list_in_a_pdf_cell_names_twelve_and_counts_the_rest():
    """Seen in the digits PDF: 'Features by drift, largest first' listed all 64 pixel columns."""
    from readiness.report.figures import format_figure

    names = [f"pixel_{i}" for i in range(64)]
    assert format_figure("text", names) == ", ".join(names[:12]) + ", and 52 more"
    assert format_figure("text", names[:12]) == ", ".join(names[:12])


def test_the_review_band_says_intervals_with_plain_bounds(digits):
    """Seen in the browser on digits: 'deferring the least confident 20% gives 99.5% (98.3%–> 99.9%)'. Each
    option's interval is its Clopper–Pearson bounds in plain percent."""
    from readiness.fmt import interval, pct

    ctx, *_ = digits
    res = run_check(get_check("uncertainty.abstention"), ctx)
    text = " ".join(f.message for f in res.findings)
    assert "–>" not in text and "–<" not in text
    for o in res.metrics["deferral_options"]:
        assert f"gives {pct(o['kept_accuracy'])} ({interval(o['kept_accuracy_ci'], pct)})" in text
    assert any(o["kept_accuracy_ci"][1] > 0.9995 for o in res.metrics["deferral_options"])  # the case that broke


def test_permutation_on_the_log_loss_is_said_as_the_log_loss_rising(wine_hgb):
    """Seen on digits: 'The holdout negative log loss (-0.102) drops most when … (−0.099 …)' and a group of 64
    pixels named by its first five. The log loss (= scikit-learn's) rises; long lists say how many more."""
    from sklearn.metrics import log_loss

    ctx, model, test, feats = wine_hgb
    res = run_check(get_check("explanations.permutation"), ctx)
    ll = log_loss(test["target"], model.predict_proba(test[feats]))
    top = next(iter(res.metrics["importances"]))
    assert res.summary.startswith(f"The holdout log loss ({ll:.3f}; lower is better) rises most when '{top}' is "
                                  f"scrambled (+{res.metrics['importances'][top]['mean']:.3f}, ")
    assert "negative" not in res.summary and "*" not in " ".join(f.message for f in res.findings)


def test_long_name_lists_say_how_many_more():
    from readiness.checks.explanations import _names_more

    assert _names_more(["a", "b", "c"], 5) == "'a', 'b' and 'c'"
    assert _names_more([f"p{i}" for i in range(64)], 5) == "'p0', 'p1', 'p2', 'p3', 'p4' and 59 more"


def test_the_pdf_figures_carry_the_all_class_gaps():
    """The digits PDF's bias section had only 'Holdout rows' and 'Sensitive attributes': it now gives the largest
    accuracy gap between groups (= scikit-learn's accuracy per group) and the worst class's recall gap."""
    from sklearn.metrics import accuracy_score

    from readiness.fmt import points
    from readiness.report.figures import key_figures

    res, test, pred = _digits_with_groups(True)
    m = res.metrics
    ref = m["disparities"]["grp"]["reference"]
    other = "b" if ref == "a" else "a"
    y, g = test["target"].to_numpy(), test["grp"].to_numpy()
    gap = accuracy_score(y[g == other], pred[g == other]) - accuracy_score(y[g == ref], pred[g == ref])
    assert m["all_classes_largest"]["accuracy"]["difference"] == pytest.approx(gap)
    rows = {label: value for label, value, _ in key_figures("bias.groups", m)}
    assert rows["Largest accuracy gap between groups"].startswith(points(gap))
    assert rows["Between"] == f"grp = {other} against {ref}"
    assert rows["Where"].startswith(f"class '{m['all_classes_largest']['recall']['class']}', grp = ")


@pytest.mark.parametrize("target_accuracy", [None, 0.9])
def test_feasibility_page_names_the_target_line_only_when_a_target_is_set(target_accuracy):
    """Issue 23: the error ladder's caption said 'The dashed red line is the target' with no target set (and
    no line drawn). Planted: a target set -> the caption names the line and the chart draws it; control: none."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from pages._ui import SESSION_KEY, AppState
    from readiness.inputs.context import Settings
    from readiness.review import run_review

    frame = datasets.load_wine(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.5, random_state=0, stratify=frame["target"])
    feats = [c for c in frame.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train[feats], train["target"])
    ctx = make_ctx(train.reset_index(drop=True), test.reset_index(drop=True), target="target", model=model,
                   settings=Settings(target_accuracy=target_accuracy, bootstrap=20))
    report = run_review(ctx, checks=["feasibility.bayes_error", "baselines.comparison"])
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.session_state[SESSION_KEY] = AppState(ctx=ctx, report=report, title="wine", is_sample=False)
    at.switch_page("pages/feasibility.py").run()
    assert not at.exception, at.exception
    ladder = next(m.value for m in at.markdown if m.value.startswith("**The error ladder.**"))
    if target_accuracy is None:
        assert "dashed red line" not in ladder and "No target accuracy was set" in ladder
    else:
        assert "The dashed red line is the target." in ladder
    from readiness.charts.feasibility import error_ladder

    fig = error_ladder(report.check("feasibility.bayes_error"), report.check("baselines.comparison"))
    lines = [s for s in fig.layout.shapes if s.line is not None and s.line.dash == "dash"]
    assert len(lines) == (0 if target_accuracy is None else 1)


@pytest.mark.parametrize(("classes", "where"), [(2, "form"), (4, "expander"), (None, "absent")])
def test_setup_asks_for_a_favourable_label_only_where_it_applies(classes, where):
    """Issue 23: Setup asked digits (10 classes) which outcome is good for the person. A yes/no target is asked
    directly (control); several classes are asked only in an optional expander that says when it applies; a
    regression (a measured quantity) is not asked."""
    import pandas as pd
    from helpers import setup_vendor_scores

    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    y = rng.integers(0, classes, n) if classes else 10 * x + 50
    df = pd.DataFrame({"x": x, "y": y, "score": rng.random(n), "split": ["train"] * 300 + ["test"] * 100})
    at = setup_vendor_scores(df, {"Target": "y", "Split column": "split"})
    assert not at.exception, at.exception
    asked = [s for s in at.selectbox if s.key == "role_favorable"]
    expanders = [e for e in at.expander if e.label.startswith("Optional: is one class the good outcome")]
    if where == "absent":
        assert not asked and not expanders
    elif where == "form":
        assert asked and not expanders
    else:
        assert len(expanders) == 1 and [s for s in expanders[0].selectbox if s.key == "role_favorable"]
        assert "digits, species" in " ".join(c.value for c in expanders[0].caption)
