"""Model Readiness Review: the Streamlit app (thin router over pages/)."""

import streamlit as st

st.set_page_config(page_title="Model Readiness Review", page_icon="✅", layout="wide")

from pages._auth import account_box, require_login  # noqa: E402  (after set_page_config)
from pages._ui import SESSION_KEY, esc, show_navigation, state  # noqa: E402

require_login()  # with [auth] in .streamlit/secrets.toml nothing below runs for a visitor who has not signed in

# a regression or multiclass review has no threshold to move: its page (and link) is "Business cost", as
# the page's own title; the sample and every yes/no review keep "Business threshold"
_loaded = st.session_state.get(SESSION_KEY)
_task = getattr(getattr(_loaded, "report", None), "task", "binary")
BUSINESS_TITLE = "Business threshold" if _task == "binary" else "Business cost"

PAGES = {
    "Review": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/setup.py", title="Setup", icon=":material/upload_file:"),
    ],
    "Checks": [
        st.Page("pages/data_quality.py", title="Data quality", icon=":material/table_chart:"),
        st.Page("pages/evaluation.py", title="Holdout performance", icon=":material/speed:"),
        st.Page("pages/leakage.py", title="Leakage", icon=":material/water_drop:"),
        st.Page("pages/bias.py", title="Bias", icon=":material/groups:"),
        st.Page("pages/calibration.py", title="Calibration", icon=":material/tune:"),
        st.Page("pages/explanations.py", title="Explanations", icon=":material/psychology:"),
        st.Page("pages/business.py", title=BUSINESS_TITLE, icon=":material/payments:"),
        st.Page("pages/feasibility.py", title="Feasibility", icon=":material/flag:"),
        st.Page("pages/comparison.py", title="Compared with the current model", icon=":material/compare_arrows:"),
        st.Page("pages/where_it_fails.py", title="Where it fails", icon=":material/troubleshoot:"),
    ],
    "Sign-off": [
        st.Page("pages/report.py", title="Report & sign-off", icon=":material/draw:"),
        st.Page("pages/verify.py", title="Verify a report", icon=":material/verified:"),
        st.Page("pages/history.py", title="Review history", icon=":material/history:"),
        st.Page("pages/monitoring.py", title="Monitoring", icon=":material/monitor_heart:"),
    ],
}

show_navigation()
nav = st.navigation(PAGES, expanded=True)
# links in the page body (e.g. the Overview cards' check names) wrap instead of being cut off with "…"
st.html("<style>[data-testid='stMain'] [data-testid='stPageLink'] * {white-space: normal !important; "
        "overflow: visible !important; text-overflow: clip !important;}</style>")
s = state()
with st.sidebar:
    account_box()
    st.caption(f"**{esc(s.title)}**")
    if s.report is not None:
        st.caption(f"{s.ctx.task} task · {len(s.ctx.train):,} training / {len(s.ctx.test):,} holdout rows")
# pages on which every section judges a model: in a data review (no model yet) they say so first
MODEL_ONLY_PAGES = {"Holdout performance", "Calibration", "Explanations", "Business threshold", "Business cost",
                    "Compared with the current model"}
if s.report is not None and s.report.data_only and nav.title not in ("Setup", "Verify a report", "Review history"):
    if nav.title in MODEL_ONLY_PAGES:
        st.info(f"**No model yet — this is a data review.** Everything on the {nav.title} page judges a model, so "
                "its checks are skipped below; they run once a model or its predictions are given in **Setup**. "
                "The data's own evidence is on Data quality, Leakage, Bias and Feasibility.", icon=":material/dataset:")
    else:
        st.caption(":material/dataset: A data review (no model yet): sections that judge a model are skipped and "
                   "say so.")
if s.is_sample and nav.title != "Setup":
    st.info("You are viewing the **sample review** (a synthetic credit-default model). "
            "Load your own data and model in **Setup**.", icon=":material/info:")
nav.run()
