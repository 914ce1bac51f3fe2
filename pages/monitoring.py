"""Monitoring: production batches checked against a signed review (``readiness monitor``), over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._auth import auth_enabled, policy, viewer
from pages._ui import esc, plot, what_to_do
from readiness.charts.monitoring import accuracy_over_time, drift_heatmap
from readiness.errors import AccessConfigError
from readiness.fmt import pct
from readiness.store import SchemaError, StoreError, shared_store

EXAMPLE = ("readiness monitor --review SIGNED.pdf --model MODEL.skops --batch BATCH.csv "
           "[--target LABEL_COLUMN] [--db URL]")

st.title("Monitoring")
st.caption("Each production batch checked against the signed review by `readiness monitor`: drift of the features "
           "and scores, accuracy estimated from the calibrated scores without labels, and realised accuracy once "
           "labels arrive. Alert thresholds are set so that a batch from an unchanged population alerts at most "
           "5% of the time.")
me = viewer()
if me is None:
    st.info("Sign in to see the monitoring of your projects.", icon=":material/lock:")
    st.stop()
try:
    rules = policy()
except AccessConfigError as err:
    st.error(esc(err), icon=":material/error:")
    st.stop()
operator = rules.is_operator(me)
if not auth_enabled():
    st.caption("Authentication is off: anyone who can open this app sees every monitored model (SECURITY.md).")
try:
    store = shared_store()
    reviews = store.monitored_reviews()
except StoreError as err:
    fix = "" if isinstance(err, SchemaError) else " Set `READINESS_DB` to the review history and restart the app."
    st.error(f"{esc(err) if operator else 'The review history is unavailable.'}{fix}", icon=":material/error:")
    st.stop()
reviews = [r for r in reviews if operator or rules.may_see(me, r["project"])]
if not reviews:
    st.info("No production batch has been monitored yet. After sign-off, run on each batch (for example monthly, "
            "from a scheduler: exit 0 no alert, 1 alert, 2 bad input):", icon=":material/monitor_heart:")
    st.code(EXAMPLE, language="bash")
    st.caption("Every batch is stored in the review history and shown here. How it works: docs/monitoring.md.")
    st.stop()


def _name(r: dict) -> str:
    who = " ".join(x for x in (r["project"], r["model_name"], r["model_version"]) if x) or "review"
    ref = f"record {r['record_id'][:8]}…" if r["record_id"] else f"unsigned review {(r['review_digest'] or '')[:8]}…"
    return f"{who} · {ref} · {r['batches']} batch{'es' if r['batches'] != 1 else ''}"


choice = st.selectbox("Reviewed model", range(len(reviews)), format_func=lambda i: _name(reviews[i]))
sel = reviews[choice]
batches = store.batches(record_id=sel["record_id"], review_digest=sel["review_digest"])
if not batches:
    st.info("No batch for this review.")
    st.stop()
last = batches[-1]
res = last["result"]
rv = res["review"]
if not sel["record_id"]:
    st.warning("These batches were checked against a review JSON, not a signed report: sign the review and "
               "monitor against the signed PDF so that alerts map to the signed conditions.", icon=":material/draw:")

c = st.columns(4)
c[0].metric("Batches monitored", len(batches), help=f"From {sel['first'][:10]} to {sel['last'][:10]}")
c[1].metric("Batches with alerts", sel["alert_batches"],
            help="A batch from an unchanged population alerts at most 5% of the time, so repeated alerts are a signal")
est = res.get("estimated") or {}
if est.get("accuracy") is not None:
    c[2].metric("Estimated accuracy, last batch", pct(est["accuracy"]),
                f"{100 * (est['accuracy'] - est['reference_estimated_accuracy']):+.1f} points vs review",
                delta_color="normal",
                help="From the calibrated scores, without labels (CBPE), against "
                     f"{pct(est['reference_estimated_accuracy'])} estimated the same way on the review's holdout; 95% "
                     "interval "
                     f"{pct(est['accuracy_ci'][0])}–{pct(est['accuracy_ci'][1])}. Blind to a change in the "
                     "relationship itself: only labels show that.")
labelled = [b for b in batches if (b["result"].get("realised") or {}).get("accuracy") is not None]
real = labelled[-1]["result"]["realised"] if labelled else {}
if real:
    c[3].metric("Realised accuracy, last labelled batch", pct(real["accuracy"]),
                f"{100 * (real['accuracy'] - real['reference_accuracy']):+.1f} points vs review", delta_color="normal",
                help=f"{labelled[-1]['batch_name']}: {real['labelled_rows']:,} labels; 95% interval "
                     f"{pct(real['accuracy_ci'][0])}–{pct(real['accuracy_ci'][1])}")
else:
    c[3].metric("Realised accuracy", "no labels yet",
                help="Give the batch's outcome column with --target once labels are known")

st.subheader("Last batch")
icon = ":material/warning:" if last["status"] == "alert" else ":material/check_circle:"
(st.warning if last["status"] == "alert" else st.success)(
    f"**{esc(last['batch_name'])}** ({last['created_at'][:16].replace('T', ' ')} UTC, {last['rows']:,} rows) — "
    f"{esc(res['summary'])}", icon=icon)
fired = [t for t in res["tests"] if t["fired"]]
for t in fired:
    line = f"- {esc(t['message'])}"
    if t.get("conditions"):
        line += " — *signed condition:* " + "; ".join(f"“{esc(x)}”" for x in t["conditions"])
    st.markdown(line)

st.subheader("Accuracy over time")
plot(accuracy_over_time(batches))
st.subheader("Drift of every feature, batch by batch")
st.caption("Each cell is the batch's PSI against the review's holdout, as a multiple of its alert threshold for that "
           "batch's size: at 1 or more the test alerted. Hover for the values.")
plot(drift_heatmap(batches))

with st.expander("Every batch"):
    rows = [{"#": b["id"], "checked (UTC)": b["created_at"][:16].replace("T", " "), "batch": b["batch_name"], "rows": b["rows"],
             "labelled": b["labelled_rows"], "status": "alert" if b["status"] == "alert" else "no alert",
             "alerts": ", ".join(b["alerts"]) or "–",
             "estimated accuracy": pct(b["estimated_accuracy"]) if b["estimated_accuracy"] is not None else "–",
             "realised accuracy": pct(b["realised_accuracy"]) if b["realised_accuracy"] is not None else "–",
             "batch SHA-256": b["batch_sha256"][:16] + "…"} for b in reversed(batches)]
    st.dataframe(pd.DataFrame(rows), hide_index=True)

if rv.get("conditions"):
    with st.expander("The review's signed conditions and the alerts that concern them"):
        for cnd in res.get("conditions") or []:
            st.markdown(f"- “{esc(cnd['condition'])}”: " + (", ".join(f"`{a}`" for a in cnd["alerts"])
                                                           if cnd["alerts"] else "no alert in the last batch"))

todo = []
if any(t["kind"] in ("feature_drift", "prediction_drift") for t in fired):
    todo.append("Find out why the inputs moved (a new channel, a data pipeline change, a new customer segment) with "
                "the teams that own the data; if the population changed for good, plan a new review on recent data.")
if any(t["kind"] in ("accuracy", "estimated_accuracy", "cost", "group_error") for t in fired):
    todo.append("Performance fell below what was signed: tell the model's owner and the reviewers who signed, and "
                "decide whether the signed conditions require retraining or withdrawing the model.")
if any(t["kind"] == "review_band" for t in fired):
    todo.append("More cases need human review than planned: tell the team that handles referrals.")
if not real:
    todo.append("Monitor with labels (`--target`) once outcomes are known: the estimate without labels cannot see a "
                "change in the relationship between inputs and outcome.")
what_to_do(todo)
