"""Setup: load data and a model, assign roles, run the review."""

from pathlib import Path

import pandas as pd
import streamlit as st

from pages._ui import SESSION_KEY, AppState, adopt_review, esc, start_review, state, wait_for_review
from readiness.engines.server_data import (
    ServerTable,
    list_server_datasets,
    server_data_config,
    server_table,
)
from readiness.errors import ReadinessError
from readiness.fmt import byte_size
from readiness.inputs import Roles, Settings, build_context, load_table
from readiness.inputs.context import ambiguous_task, detect_task, whole_number_classes
from readiness.inputs.formats import model_file_types
from readiness.inputs.models import load_uploaded_model, operator_trusted_pickles
from readiness.inputs.roles import guess_roles
from readiness.inputs.sandbox import prestart as prestart_model_checks
from readiness.inputs.tables import sha256_bytes

s = state()
ex = s.extras.setdefault("setup", {})

st.title("Setup")
st.caption("Load a training file, a holdout file and a model (or a column of scores, or no model yet for a data review), say which column is which, "
           "and run the review. Files stay in this session; nothing is uploaded elsewhere.")
if not s.is_sample:
    if st.button("Back to the sample review", icon=":material/undo:"):
        st.session_state[SESSION_KEY] = AppState()
        st.rerun()


# widgets whose values belong to one review: new training data starts them afresh
REVIEW_WIDGETS = ("setup_model_mode", "setup_champion_mode", "review_title", "biz_threshold", "biz_acc", "biz_fp",
                  "biz_fn", "biz_champion_threshold", "biz_latency")
REVIEW_WIDGET_PREFIXES = ("role_",)


def _start_new_review(table) -> None:
    """New training data is a new review (issue 12): the previous review's title, roles, model mode, model,
    holdout, per-page extras and results do not carry over. Files given since the last run are kept (a
    holdout or model chosen before the training file belongs to this review); the session shows the sample
    until the new review runs, so no page shows results of other data."""
    global ex
    used = set(ex.get("used", ()))
    kept = {k: ex[k] for k in ("test_table", "model", "champion")
            if ex.get(k) is not None and ex[k].sha256 not in used}
    for key in list(st.session_state):
        if key in REVIEW_WIDGETS or str(key).startswith(REVIEW_WIDGET_PREFIXES):
            del st.session_state[key]
    fresh = {"train_table": table, "gen": ex.get("gen", 0) + (1 if used else 0), **kept}
    st.session_state[SESSION_KEY] = AppState(extras={"setup": fresh})
    ex = fresh
    st.rerun()  # from the top: the sidebar and every widget show the new review (the sample until it runs)


def _parse_table(upload, role: str):
    if upload is None:
        return None
    data = upload.getvalue()
    digest = sha256_bytes(data)
    cached = ex.get(f"{role}_table")
    if cached is not None and cached.sha256 == digest:
        return cached
    return _new_table(role, lambda: load_table(data, role=role, name=upload.name))


def _new_table(role: str, load):
    """A newly chosen input read by ``load()`` (its error shown instead); new training data is a new review."""
    try:
        table = load()
    except ReadinessError as err:
        st.error(esc(err), icon=":material/error:")
        ex.pop(f"{role}_table", None)
        return None
    if role == "train":
        _start_new_review(table)
    ex[f"{role}_table"] = table
    return table


def _show_table(table, label):
    if isinstance(table, ServerTable):
        d = table.entry
        rows = f"{d.rows:,} rows × {d.columns} columns" if d.rows is not None else ""
        files = f" in {d.files:,} files" if d.files > 1 else ""
        st.success(f"{label}: **{esc(d.name)}**, a dataset on the server · {rows}{files} · {byte_size(d.size_bytes)}",
                   icon=":material/check_circle:")
        if not table.complete and d.rows is not None and len(table.frame) < d.rows:
            st.caption(f"The column choices below are read from its first {len(table.frame):,} rows; the review "
                       f"reads every row and fingerprints every file.")
    elif table is not None:
        st.success(f"{label}: **{esc(table.name)}** · {len(table.frame):,} rows × {table.frame.shape[1]} columns · "
                   f"SHA-256 `{table.sha256[:16]}…`", icon=":material/check_circle:")


UPLOAD, ON_SERVER = "Upload a file", "A dataset on the server"


def _server_setting():
    """The operator's server datasets (docs/engines.md) and what they offer, or None when off."""
    try:
        config = server_data_config()
    except ReadinessError as err:
        st.warning(esc(err), icon=":material/warning:")
        return None
    if config is None:
        return None
    return config, _server_listing(repr(config), config)


@st.cache_data(ttl=60, show_spinner="Listing the datasets on the server…")
def _server_listing(setting: str, _config):
    return list_server_datasets(_config)


def _server_table(role: str, label: str):
    """The visitor's choice among the datasets the operator offers (never a path they type)."""
    config, (offered, _) = server
    names = {d.key: d for d in offered}
    if not offered:
        st.info("The server offers no dataset that can be read.", icon=":material/info:")
    key = st.selectbox(f"{label}: the dataset on the server", list(names), index=None,
                       format_func=lambda k: names[k].describe(), placeholder="Choose a dataset",
                       key=f"setup_{role}_server")
    cached = ex.get(f"{role}_table")
    if key is None:
        return None
    if isinstance(cached, ServerTable) and cached.key == key and cached.entry == names[key]:
        return cached
    with st.spinner("Reading its first rows…"):
        return _new_table(role, lambda: server_table(config, key, role=role))


def _data_input(role: str, label: str, uploader_key: str):
    """An upload, or (when the operator offers them) a dataset on the server."""
    kept = ex.get(f"{role}_table")
    if server is not None and two_files:
        where = st.radio(label, [UPLOAD, ON_SERVER], horizontal=True, key=f"setup_{role}_from")
        if where == ON_SERVER:
            return _server_table(role, label)
    up = st.file_uploader(label, type=["csv", "tsv", "parquet"], key=uploader_key,
                          label_visibility="collapsed" if server is not None and two_files else "visible")
    if up is not None:
        return _parse_table(up, role)
    return None if isinstance(kept, ServerTable) else kept


# --- 1. data ---------------------------------------------------------------------------
st.header("1 · Data")
server = _server_setting()
layout = st.radio("How is the holdout given?", ["Two files: training and holdout", "One file with a split column"],
                  horizontal=True, key="setup_layout")
two_files = layout.startswith("Two")
if server is not None:
    st.caption(f"This server also offers datasets it holds (read with the {esc(server[0].describe_engine())} "
               "engine), for data too large to upload: choose *A dataset on the server*"
               + (" with two inputs (training and holdout)." if not two_files else "."))
    if server[1][1]:
        with st.expander(f"{len(server[1][1])} more on the server cannot be used"):
            st.markdown("\n".join(f"- {esc(why)}" for _, why in server[1][1]))
c1, c2 = st.columns(2)
with c1:
    train_t = _data_input("train", "Training data" if two_files else "Data (training and holdout rows)", "up_train")
    _show_table(train_t, "Training" if two_files else "Data")
test_t = None
if two_files:
    with c2:
        test_t = _data_input("test", "Holdout data", f"up_test{ex.get('gen') or ''}")
        _show_table(test_t, "Holdout")

def _uploaded_model(up, key: str, label: str):
    """The uploaded model, loaded once per file (same bytes: the parsed model kept in the session)."""
    if up is None:
        return ex.get(key)
    data = up.getvalue()
    cached = ex.get(key)
    if cached is not None and cached.sha256 == sha256_bytes(data):
        loaded = cached
    else:
        ex.pop(key, None)
        try:
            with st.spinner(f"Checking the {label.lower()} in an isolated process…"):
                loaded = load_uploaded_model(data, name=up.name)
            ex[key], ex[f"{key}_bytes"] = loaded, data  # the bytes: an engine's workers load the model from them
        except ReadinessError as err:
            st.error(esc(err), icon=":material/error:")
            return None
    st.success(f"{label}: **{esc(loaded.name)}** ({getattr(loaded.estimator, 'readiness_name', None) or type(loaded.estimator).__name__}, {loaded.format}) · checked before use · "
               f"SHA-256 `{loaded.sha256[:16]}…`", icon=":material/check_circle:")
    return loaded


# --- 2. model ---------------------------------------------------------------------------
st.header("2 · Model")
NO_MODEL_YET = "No model yet (review the data)"
mode = st.radio("What is reviewed?", ["A model file", "Scores in a holdout column (vendor, R or remote model)",
                                      NO_MODEL_YET],
                horizontal=True, key="setup_model_mode")
model = None
if mode == NO_MODEL_YET:
    st.info("A data review before training: data quality and wrong labels, leakage, drift, the bias in the labels, "
            "simple baselines (the bar a model must clear) and whether the required accuracy is reachable at all "
            "(Bayes error). The checks that judge a model are skipped and say so.", icon=":material/dataset:")
if mode == "A model file":
    prestart_model_checks()  # the isolated checker warms up while files are chosen
    up = st.file_uploader("Model (.skops, XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm, ONNX .onnx)",
                          type=model_file_types(), key=f"up_model{ex.get('gen') or ''}",
                          help="These formats load without running code from the file (docs/models.md says why, "
                               "per format). A pickle (.pkl, .joblib) runs "
                               "whatever code it contains: " + ("this server loads one only if its operator has "
                               "allowed that exact file." if operator_trusted_pickles() else
                               "this server does not load pickles."))
    model = _uploaded_model(up, "model", "Model")

# --- 2b. the model in production today (optional) ---------------------------------------------
champion, champion_mode = None, "None"
with st.expander("Optional: the model in production today, to compare with", expanded=bool(ex.get("champion")),
                 icon=":material/compare_arrows:"):
    st.caption("Bring the model that decides today (the champion): the page *Compared with the current model* then "
               "shows, on the same holdout rows, whether the new model is better, for whom, and which decisions "
               "change. Loaded and checked exactly like the model above.")
    champion_mode = st.radio("Current model", ["None", "A model file", "Scores in a holdout column"],
                             horizontal=True, key="setup_champion_mode")
    if champion_mode == "A model file":
        up = st.file_uploader("Current model (.skops, .json/.ubj, .txt, .cbm, .onnx)", type=model_file_types(),
                              key=f"up_champion{ex.get('gen') or ''}")
        champion = _uploaded_model(up, "champion", "Current model")

# --- 3. roles ---------------------------------------------------------------------------
st.header("3 · Column roles")
if train_t is None:
    st.info("Load the data first.")
    st.stop()
frame = train_t.frame
cols = list(frame.columns)
guess = ex.get("guess_for") == train_t.sha256 and ex.get("guess") or guess_roles(frame)
ex["guess_for"], ex["guess"] = train_t.sha256, guess
NONE = "—"


def _pick(label, options, default, key, help_=None):
    opts = [NONE, *options]
    idx = opts.index(default) if default in opts else 0
    v = st.selectbox(label, opts, index=idx, key=key, help=help_)
    return None if v == NONE else v


NOT_SAID = "— choose —"


def _favorable_label(target, labels):
    """Bias review: which value of the target is good for the person (no default: it must be said)."""
    if not target or not 0 < len(labels) <= 20:
        return None
    v = st.selectbox(f"Which outcome is good for the person: {', '.join(f'{target} = {x}' for x in labels[:4])}?",
                     [NOT_SAID, *labels], key="role_favorable",
                     help="The favourable label, e.g. 0 when the target is a default, 1 when it is a loan approval. "
                          "The Bias page uses it to say which group bears the harm; without it, gaps are shown with no "
                          "direction and the four-fifths rule is not applied.")
    if v == NOT_SAID:
        st.caption(":orange[:material/help: Not chosen: the Bias page will not say who is disadvantaged.]")
        return None
    return v


r1, r2, r3 = st.columns(3)
with r1:
    target = _pick("Target (what the model predicts)", cols, guess["target"], "role_target")
    labels = sorted(frame[target].dropna().astype(str).unique().tolist())[:50] if target else []
    positive, favorable = None, None
    if target and 0 < len(labels) <= 2:
        default_pos = next((lab for lab in labels if lab.lower() in {"1", "true", "yes"}), labels[-1])
        positive = st.selectbox("Positive label (the outcome you look for)", labels, index=labels.index(default_pos),
                                key="role_positive")
with r2:
    split_col = None
    if not two_files:
        split_col = _pick("Split column (marks train / test rows)", cols, None, "role_split")
    time_col = _pick("Time column", cols, guess["time_column"], "role_time",
                     "When each row happened; used to check the holdout comes after training")
    id_col = _pick("ID / group column", cols, guess["id_column"], "role_id",
                   "Customer or entity ID; rows sharing it must not cross the split")
with r3:
    sensitive = st.multiselect("Sensitive attributes", [c for c in cols if c != target],
                               default=[c for c in guess["sensitive"] if c != target], key="role_sensitive",
                               help="Groups to compare for bias (e.g. sex, age band)")
    exclude = st.multiselect("Exclude columns", [c for c in cols if c != target], key="role_exclude",
                             help="Columns that are neither features nor roles")
pred_col = None
if mode not in ("A model file", NO_MODEL_YET):
    numeric = [c for c in cols if c != target]
    pred_col = _pick("Prediction column (in the holdout: score of the positive class, or the predicted value)", numeric,
                     guess["prediction_column"], "role_pred")
champion_col = None
if champion_mode == "Scores in a holdout column":
    champion_col = _pick("The current model's prediction column (its scores, in the holdout)",
                         [c for c in cols if c not in (target, pred_col)], None, "role_champion_pred")
task = None
task_guess = ambiguous_task(frame[target]) if target and mode != "A model file" else None
if task_guess:  # whole numbers: classes or a quantity? say what we guessed and let the user choose
    task_options = {"a quantity (regression)": "regression", "classes (multiclass)": "multiclass"}
    task_label = st.radio(
        "Review the target as", list(task_options), index=list(task_options.values()).index(task_guess),
        horizontal=True, key="role_task",
        help=f"'{esc(target)}' holds {whole_number_classes(frame[target])} different whole numbers: they may be a "
             "quantity or class labels. A prediction column can stand in for a regression model, not a multiclass one.")
    task = task_options[task_label]
try:  # which settings apply depends on the task: yes/no, several classes, or a number (the user's choice first)
    form_task = task or detect_task(frame[target], model.estimator if model is not None and mode == "A model file"
                                    else None)
except Exception:  # noqa: BLE001 - a guess for the form only; the review decides the task itself
    form_task = "binary"
with r1:  # bias review: the favourable label, asked only where an outcome can be good for the person
    if form_task == "binary":
        favorable = _favorable_label(target, labels)
    elif form_task == "multiclass" and target:
        with st.expander("Optional: is one class the good outcome for the person?"):
            st.caption("Only when one class is an outcome a person wants (e.g. 'approved' among approved, referred "
                       "and declined): the Bias page then names the groups less often given it. Leave it unset when "
                       "the classes are not outcomes for a person (digits, species, product types): every class is "
                       "compared without a direction.")
            favorable = _favorable_label(target, labels)
    # a regression predicts a number: no label is favourable (its bias review compares errors by group)

# --- 4. business context ---------------------------------------------------------------
st.header("4 · Business context")
threshold, target_acc, cost_fp, cost_fn = 0.5, 0.0, 1.0, 1.0
target_rmse = target_r2 = cost_over = cost_under = cost_matrix = None
if form_task == "binary":
    b1, b2, b3, b4 = st.columns(4)
    threshold = b1.number_input("Decision threshold", value=0.5, step=0.05, key="biz_threshold",
                                help="A row is predicted positive when its score is at least this")
    scale = test_t.frame if two_files and test_t is not None else frame
    if pred_col and pred_col in scale.columns:
        import pandas as pd

        from readiness.checks.evaluation import threshold_off_probability_scale

        col = pd.to_numeric(scale[pred_col], errors="coerce")
        if col.notna().any() and (col.min() >= threshold or col.max() < threshold):
            said = f"'{esc(pred_col)}' runs from {col.min():.4g} to {col.max():.4g}: at {threshold:g} every row is predicted the same."
            if threshold_off_probability_scale(col.min(), col.max(), threshold):
                st.warning(said + " Set the threshold on the scores' own scale.", icon=":material/warning:")
            else:  # probabilities of a rare outcome: honest; the threshold is chosen on the Business threshold page
                st.info(said + " That is expected of probabilities of a rare outcome; choose a threshold on the "
                        "Business threshold page.", icon=":material/info:")
    target_acc = b2.number_input("Required accuracy (%)", min_value=0.0, max_value=100.0, value=0.0, step=1.0,
                                 key="biz_acc", help="0 = no requirement")
    cost_fp = b3.number_input("Cost of a false positive", min_value=0.0, value=1.0, key="biz_fp",
                              help="e.g. a good customer refused")
    cost_fn = b4.number_input("Cost of a false negative", min_value=0.0, value=1.0, key="biz_fn",
                              help="e.g. a default not caught")
elif form_task == "multiclass":
    target_acc = st.number_input("Required accuracy (%)", min_value=0.0, max_value=100.0, value=0.0, step=1.0,
                                 key="biz_acc", help="0 = no requirement")
    st.caption(f"The model chooses among {frame[target].nunique():,} classes: a decision threshold and the costs of "
               "false positives and negatives apply to yes/no models only, so they are not asked; a cost matrix "
               "prices each (true class, predicted class) instead.")
    class_labels = [str(c) for c in sorted(frame[target].dropna().unique().tolist(), key=str)]
    if len(class_labels) <= 30 and st.checkbox("Price the decisions with a cost matrix", key="biz_use_matrix",
                                               help="The cost of predicting each class (columns) for each true "
                                                    "class (rows), in your own units; 0 on the diagonal is a right "
                                                    "decision"):
        grid = pd.DataFrame([[0.0 if t == p else 1.0 for p in class_labels] for t in class_labels],
                            index=pd.Index(class_labels, name="true \\ predicted"), columns=class_labels)
        edited = st.data_editor(grid, key="biz_cost_matrix", use_container_width=False,
                                column_config={c: st.column_config.NumberColumn(c, min_value=0.0) for c in class_labels})
        cost_matrix = {t: {p: float(edited.loc[t, p]) if pd.notna(edited.loc[t, p]) else 0.0 for p in class_labels}
                       for t in class_labels}
else:
    st.caption("The model predicts a number (regression): a decision threshold, a required accuracy and the costs of "
               "false positives and negatives apply to classifiers only, so they are not asked. Errors are priced per "
               "unit of the target instead, and the target is an RMSE or an R².")
    r1, r2, r3, r4 = st.columns(4)
    target_rmse = r1.number_input("Required RMSE", min_value=0.0, value=None, key="biz_target_rmse",
                                  help="The root mean squared error the model must reach, in the target's units "
                                       "(empty: no requirement). The Feasibility page says whether any model can")
    target_r2 = r2.number_input("Required R²", max_value=1.0, value=None, key="biz_target_r2",
                                help="Instead of an RMSE (empty: no requirement)")
    cost_over = r3.number_input("Cost per unit too high", min_value=0.0, value=None, key="biz_cost_over",
                                help="What one unit of over-prediction costs (empty: not priced)")
    cost_under = r4.number_input("Cost per unit too low", min_value=0.0, value=None, key="biz_cost_under",
                                 help="What one unit of under-prediction costs (empty: not priced)")
champion_thr = None
if champion is not None or champion_col:
    champion_thr = st.number_input("The current model's decision threshold", value=float(threshold), step=0.05,
                                   key="biz_champion_threshold",
                                   help="The threshold the current model decides at in production (default: the same)")
latency_budget = st.number_input("Latency budget for one row (ms)", min_value=0.0, value=0.0, step=5.0,
                                 key="biz_latency", help="0 = no budget. 'Where it fails' warns when scoring one row "
                                 "takes longer than this (95th percentile)")
default_title = (f"Data review of {train_t.name}" if mode == NO_MODEL_YET
                 else f"Review of {Path(model.name).stem if model else train_t.name}")  # the model's name, not its file
# the title follows the model (its name once loaded) until someone types their own
auto = ex.get("title_auto")
if "review_title" not in st.session_state:
    st.session_state["review_title"] = ex.get("title") or default_title
elif st.session_state["review_title"] == auto:
    st.session_state["review_title"] = default_title
ex["title_auto"] = default_title
title = st.text_input("Review title", key="review_title")

ready = target is not None and (two_files and test_t is not None or split_col) and (
    model is not None or pred_col or mode == NO_MODEL_YET)
if not ready:
    st.info("To run: choose the target, load the holdout (or a split column), and a model, a prediction column, or "
            "'No model yet'.")
if st.button("Run review", type="primary", disabled=not ready, icon=":material/play_arrow:"):
    try:
        roles = Roles(target=target, positive_label=positive, sensitive=sensitive, time_column=time_col,
                      id_column=id_col, exclude=exclude, prediction_column=pred_col, split_column=split_col,
                      favorable_label=favorable, champion_prediction_column=champion_col, task=task)
        settings = Settings(threshold=threshold, target_accuracy=(target_acc / 100) or None, cost_fp=cost_fp,
                            cost_fn=cost_fn, latency_budget_ms=latency_budget or None,
                            target_rmse=target_rmse, target_r2=None if target_rmse is not None else target_r2,
                            cost_over=cost_over, cost_under=cost_under, cost_matrix=cost_matrix,
                            champion_threshold=None if champion_thr in (None, threshold) else champion_thr)
        reviewed = model if mode == "A model file" else None
        current = champion if champion_mode == "A model file" else None
        engine_review = None
        if server is not None and any(isinstance(t, ServerTable) for t in (train_t, test_t)):
            from readiness.engines.server_data import prepare_server_review

            with st.status(f"Reading the data on the server ({server[0].describe_engine()} engine)",
                           expanded=True) as box:
                ctx, engine_review = prepare_server_review(
                    server[0], train=train_t, test=test_t, roles=roles, settings=settings, model=reviewed,
                    model_bytes=ex.get("model_bytes"), champion=current,
                    champion_bytes=ex.get("champion_bytes") if current is not None else None,
                    progress=lambda text: box.write(f":material/check: {text[0].upper()}{text[1:]}"))
                box.update(label="The data on the server is read", state="complete", expanded=False)
        else:
            ctx = build_context(train=train_t, test=test_t if two_files else None, roles=roles, model=reviewed,
                                settings=settings, champion=current)
            from readiness.checks.business_tasks import validate_cost_matrix

            validate_cost_matrix(ctx)
    except ReadinessError as err:
        st.error(esc(err), icon=":material/error:")
        st.stop()
    # the files this review used: new training data drops them (they belong to this review)
    used = [f.sha256 for f in ctx.input_files] + [t.sha256 for t in (train_t, test_t) if isinstance(t, ServerTable)]
    # the review runs in a thread of its own: leaving this page does not stop it (the next page shows it)
    if engine_review is not None:
        from readiness.engines.review import run as run_on_engine

        pending = start_review(ctx, title=title, used=used,
                               runner=lambda progress: run_on_engine(engine_review, progress=progress),
                               cache_key=f"{ctx.digest}:{engine_review.engine.name}:{server[0].sample_rows}",
                               cleanup=engine_review.engine.close)
    else:
        pending = start_review(ctx, title=title, used=used)
    if wait_for_review(pending) is None:
        st.stop()
    adopt_review(pending)
    st.switch_page("pages/overview.py")
