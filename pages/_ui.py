"""Streamlit helpers shared by the pages: the session object, caching, status rendering.

Pages read the session, call ``readiness`` and render; they never compute metrics.
Caches are keyed on our own content digests (``ReviewContext.digest``), never on
Streamlit's DataFrame hashing.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from readiness.fmt import (
    estimate,
    interval,
    number,
    pct,  # noqa: F401  (re-exported for the pages)
    signed,
)
from readiness.inputs.context import ReviewContext
from readiness.results import CheckResult, ReviewReport, Severity, Status, worst_status
from readiness.style import STATUS_MATERIAL, STATUS_STREAMLIT_COLOR, STATUS_WORD

SESSION_KEY = "readiness_review"
MAX_CACHED_REPORTS = 8


def _route_through_app(*, at_import: bool = False) -> None:
    """Make sure app.py's st.navigation (and its login gate) routes every page, on every run.

    A fresh server's first request for a page URL (e.g. /calibration) runs that file from
    pages/ directly (Streamlit's old multipage mode, used while no st.navigation has run in
    the process), skipping app.py — its navigation and its authentication. That run's page
    registry then lists app.py itself as a page; a run routed by app.py's st.navigation never
    does. Whenever we find ourselves in such a run (at import, and again in :func:`state`:
    concurrent first sessions import this module only once), leave that mode and rerun,
    so app.py routes the same URL. ``.streamlit/config.toml`` keeps the sidebar navigation
    off until then, so the raw pages/ list is never drawn; app.py turns it on.
    """
    try:
        from streamlit import runtime
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # pragma: no cover - internal module moved
        return
    if at_import:  # (from app.py too, before its st.navigation): only the process-wide flag tells
        if PagesManager.uses_pages_directory:
            _reroute(PagesManager)
        return
    ctx = get_script_run_ctx()
    # AppTest runs page files directly by design (it resets the mode every run)
    if ctx is None or not runtime.exists() or type(runtime.get_instance()) is not runtime.Runtime:
        return
    main = ctx.pages_manager.main_script_path
    pages = ctx.pages_manager.get_pages().values()
    if Path(main).name == "app.py" and len(pages) > 1 and any(p.get("script_path") == main for p in pages):
        _reroute(PagesManager)


def _reroute(pages_manager) -> None:
    pages_manager.uses_pages_directory = False
    show_navigation()
    st.rerun()


def show_navigation() -> None:
    """Turn on the sidebar navigation (config.toml leaves it off until app.py routes the run)."""
    st.set_option("client.showSidebarNavigation", True)


_route_through_app(at_import=True)


@dataclass
class AppState:
    """Everything a review needs across pages; widget values are copied in here."""

    ctx: ReviewContext | None = None
    report: ReviewReport | None = None
    title: str = ""
    is_sample: bool = True
    extras: dict = field(default_factory=dict)  # per-page state that must survive navigation


@st.cache_resource(show_spinner=False)
def _report_cache() -> OrderedDict:
    """digest -> ReviewReport, shared by sessions (reports are immutable)."""
    return OrderedDict()


@st.cache_resource(show_spinner="Loading the sample review…")
def _sample_context() -> tuple[ReviewContext, str]:
    from readiness.sample import load_sample, sample_config

    return load_sample(), sample_config().get("title", "Sample review")


PENDING_KEY = "readiness_pending_review"


@dataclass
class PendingReview:
    """A review running in a thread of its own (issue 23): leaving the page that started it stops that page's
    script, not the review; the next page the user opens waits for it and shows it."""

    ctx: ReviewContext
    title: str = ""
    record: bool = True
    used: list = field(default_factory=list)  # the input files' SHA-256 (Setup keeps them with the review)
    cache_key: str | None = None  # the report cache's key (default: the context's digest)
    thread: threading.Thread | None = None
    done: int = 0
    total: int = 0
    current: str = ""
    report: ReviewReport | None = None
    error: str | None = None
    adopted: bool = False


def start_review(ctx: ReviewContext, *, title: str = "", record: bool = True, workers: int | str = "auto",
                 keep: bool = True, runner: Callable | None = None, cache_key: str | None = None,
                 used: list | None = None, cleanup: Callable | None = None) -> PendingReview:
    """Start the review (or take it from the report cache) in a thread; with ``keep`` the session remembers it,
    so any page can pick it up if the user leaves the one that started it. ``runner(progress)`` runs the checks
    another way (an engine's review of server datasets: :func:`readiness.engines.review.run`) and ``cache_key``
    tells its report from the in-memory one; ``cleanup()`` runs when the review ends (an engine's close)."""
    from readiness.review import run_review

    p = PendingReview(ctx=ctx, title=title, record=record, cache_key=cache_key,
                      used=[f.sha256 for f in ctx.input_files] if used is None else list(used))
    cache = _report_cache()
    key = cache_key or ctx.digest
    if key in cache:
        cache.move_to_end(key)
        p.report = cache[key]
        if cleanup is not None:
            cleanup()
        return p
    if record:
        from readiness.checks.comparison_history import champion_review_for
        from readiness.store import prior_holdout_evaluations

        ctx.prior_holdout_evaluations = prior_holdout_evaluations(ctx)
        ctx.champion_review = champion_review_for(ctx)  # the champion's signed review in the history, if any

    def progress(i, n, spec):
        p.done, p.total, p.current = i, n, spec.title

    def work():
        try:
            p.report = runner(progress) if runner is not None else run_review(ctx, progress=progress, workers=workers)
        except Exception as exc:  # noqa: BLE001 - said on the page, never lost silently
            p.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        finally:
            if cleanup is not None:
                cleanup()

    p.thread = threading.Thread(target=work, name="readiness-review", daemon=True)
    p.thread.start()
    if keep:
        st.session_state[PENDING_KEY] = p
    return p


def wait_for_review(p: PendingReview, label: str = "Running the review") -> ReviewReport | None:
    """Show the review's progress until it ends; record and cache it once. None (said on the page) when the
    review stopped with an error."""
    import time

    if p.thread is not None and (p.thread.is_alive() or p.report is None):
        with st.status(label, expanded=True) as box:
            bar = st.progress(0.0)
            while p.thread.is_alive():
                n = max(p.total, 1)
                bar.progress(min(1.0, p.done / n), text=f"{min(p.done + 1, n)}/{n} · {p.current}")
                time.sleep(0.25)
            if p.report is not None:
                box.update(label=f"Review complete: {len(p.report.checks)} checks in {p.report.duration_s:.1f} s",
                           state="complete", expanded=False)
            else:
                box.update(label="The review stopped", state="error")
    if st.session_state.get(PENDING_KEY) is p:
        del st.session_state[PENDING_KEY]
    if p.report is None:
        st.error(f"The review stopped before it finished ({esc(p.error or 'no result')}); nothing was recorded. "
                 "Run it again from Setup.", icon=":material/error:")
        return None
    if not p.adopted:
        p.adopted = True
        if p.record and p.thread is not None:
            from readiness.store import record_completed_review

            record_completed_review(p.ctx, p.report, source="app")
        cache = _report_cache()
        cache[p.cache_key or p.ctx.digest] = p.report
        while len(cache) > MAX_CACHED_REPORTS:
            cache.popitem(last=False)
    return p.report


def adopt_review(p: PendingReview) -> AppState:
    """Make a finished review the session's review (Setup's title and files with it)."""
    s = st.session_state.get(SESSION_KEY) or AppState()
    st.session_state[SESSION_KEY] = s
    s.ctx, s.report, s.title, s.is_sample = p.ctx, p.report, p.title, False
    ex = s.extras.setdefault("setup", {})
    ex["title"] = p.title
    # the files this review used: new training data drops them (they belong to this review)
    ex["used"] = list(p.used)  # (a champion file is among them)
    return s


def run_review_cached(ctx: ReviewContext, *, label: str = "Running the review", record: bool = True,
                      workers: int | str = "auto", runner: Callable | None = None,
                      cache_key: str | None = None) -> ReviewReport:
    """Run (or fetch from the digest cache) the review, showing per-check progress.

    With ``record`` (not for the sample), a review that actually runs gets the holdout's
    earlier evaluations from the review history first, and is stored there when complete.
    ``runner(progress)`` runs the checks another way (an engine's review of server datasets:
    :func:`readiness.engines.review.run`); ``cache_key`` then tells its report from the in-memory one.
    """
    report = wait_for_review(start_review(ctx, record=record, workers=workers, keep=False, runner=runner,
                                          cache_key=cache_key), label)
    if report is None:
        st.stop()
    return report


def state() -> AppState:
    """The session's review; opens the bundled sample when nothing was loaded. A review started on Setup that
    is still running (the user left Setup) is waited for and shown, never dropped for the sample."""
    _route_through_app()
    pending = st.session_state.get(PENDING_KEY)
    if pending is not None:
        st.info("The review you started on Setup is still running: this page shows it as soon as it is done.",
                icon=":material/hourglass_top:")
        if wait_for_review(pending) is not None:
            adopt_review(pending)
            st.rerun()  # this page, drawn afresh with the new review
    s = st.session_state.get(SESSION_KEY)
    if s is None:
        s = AppState()
        st.session_state[SESSION_KEY] = s
    if s.ctx is None:
        ctx, title = _sample_context()
        s.ctx, s.title, s.is_sample = ctx, title, True
    if s.report is None:
        s.report = _sample_report(s.ctx) if s.is_sample else None
    if s.report is None:
        s.report = run_review_cached(s.ctx, label="Reviewing the sample", record=False,
                                     workers=2 if s.is_sample else "auto")
        if s.is_sample:
            from readiness.sample import store_sample_report

            store_sample_report(s.ctx, s.report)  # the next fresh server opens on it at once
    return s


def _sample_report(ctx: ReviewContext) -> ReviewReport | None:
    """The sample's review as stored for this exact code and data (readiness.sample), or None."""
    cache = _report_cache()
    if ctx.digest in cache:
        return cache[ctx.digest]
    from readiness.sample import cached_sample_report

    report = cached_sample_report(ctx)
    if report is not None:
        cache[ctx.digest] = report
    return report


def review() -> tuple[ReviewContext, ReviewReport]:
    s = state()
    return s.ctx, s.report


# --- rendering ---------------------------------------------------------------------------

# What makes text Markdown-active (CommonMark + GFM + math + Streamlit's directives), wherever it
# stands: escapes, code, emphasis (an underscore only at a word's edge: snake_case stays as is),
# HTML and autolinks, math, strikethrough; a link or image needs "](", "][" or "]:" (or a "]"
# the template continues), a Streamlit directive ":red[" — so "['income']" stays as written.
_MD_ACTIVE = re.compile(r"[\\`*<>$~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|\](?=[(\[:]|$)")
_MD_DIRECTIVE = re.compile(r"(:[A-Za-z][\w-]*)\[")
# ... and at the start of a line: headings, block quotes, lists.
_MD_LEADING = re.compile(r"^(?:[#>+\-]|\d+(?=[.)]))")
# Streamlit draws icons and links bare URLs *after* unescaping: a zero-width space defuses those.
_ZWSP = "\u200b"
_MD_AFTER_UNESCAPE = re.compile(r"(?<=:)(?=material/|streamlit:)|(?<=:)(?=//)|(?<=\bwww)(?=\.)", re.IGNORECASE)


def esc(text) -> str:
    """User text made inert for any Streamlit element that renders Markdown.

    For column names, category values, file names, titles, reviewer names, notes and the
    library's messages and summaries (which quote column names and values). The characters
    that make Markdown active are backslash-escaped, so an image link, raw HTML, a
    ``javascript:`` link, ``**bold**``, ``$math$`` or ``:red[...]`` shows as the text it is;
    line breaks become spaces (no headings, lists or tables); icon shortcodes and bare URLs get
    a zero-width space. Plain text (``employment_years``, ``default = 1 (k€)``) is unchanged.
    Escape at render time, in pages, never in the library: the PDF and JSON carry plain text.
    """
    flat = _MD_AFTER_UNESCAPE.sub(_ZWSP, " ".join(str(text).split()))
    flat = _MD_ACTIVE.sub(lambda m: "\\" + m.group(0), flat)
    flat = _MD_DIRECTIVE.sub(lambda m: m.group(1) + "\\[", flat)
    lead = _MD_LEADING.match(flat)
    if lead:
        end = lead.end()
        flat = "\\" + flat if not lead.group(0)[0].isdigit() else flat[:end] + "\\" + flat[end:]
    return flat


def status_badge(status: Status | str, *, label: str | None = None) -> None:
    status = Status(status)
    st.badge(label or STATUS_WORD[status], icon=f":material/{STATUS_MATERIAL[status]}:",
             color=STATUS_STREAMLIT_COLOR[status])


def status_text(status: Status | str, *, color: bool = True) -> str:
    """Markdown: coloured icon and word, e.g. ':red[:material/cancel: Fail]' (never colour alone)."""
    status = Status(status)
    text = f":material/{STATUS_MATERIAL[status]}: {STATUS_WORD[status]}"
    return f":{STATUS_STREAMLIT_COLOR[status]}[{text}]" if color else text


def with_ci(value: float | None, ci: Iterable | None, *, as_pct: bool = True, digits: int = 3) -> str:
    """'84.2% (82.0–86.1%)' or '0.842 (0.820–0.861)'."""
    if value is None:
        return "–"
    fmt = (lambda v: f"{100 * v:.1f}") if as_pct else (lambda v: f"{v:.{digits}f}")
    unit = "%" if as_pct else ""
    ci = list(ci or [])
    if len(ci) == 2 and None not in ci and all(c == c for c in ci):
        return f"{fmt(value)}{unit} ({fmt(ci[0])}–{fmt(ci[1])}{unit})"
    return f"{fmt(value)}{unit}"


def page_verdict(results: dict[str, CheckResult | None], sections: list[tuple[str, str]], verdict) -> None:
    """The page's status line (worst of its checks + one sentence + the checks that set it) and a card per section.

    ``verdict`` maps the overall status to the sentence: a dict, or a callable taking the status and the ids
    of the checks that set it."""
    present = [r for r in results.values() if r is not None]
    if not present:
        return
    overall = Status(worst_status(r.status for r in present))
    drivers = [cid for cid, _ in sections if results[cid] is not None and Status(results[cid].status) == overall]
    sentence = verdict(overall, drivers) if callable(verdict) else verdict[overall]
    st.markdown(f"### {status_text(overall)} — {sentence}")
    if overall in (Status.FAIL, Status.WARN, Status.ERROR) and len(drivers) < len(present):
        labels = dict(sections)
        st.markdown(f"{STATUS_WORD[overall]} set by: " + ", ".join(f"[{labels[c]}](#{c.replace('.', '-')})"
                                                                  for c in drivers))
    cols = st.columns(len(sections))
    for col, (cid, label) in zip(cols, sections, strict=True):
        r = results[cid]
        with col.container(border=True):
            st.markdown(status_text(r.status) if r is not None else "Not run")
            st.markdown(f"[{label}](#{cid.replace('.', '-')})")


def status_link(page: str, result: CheckResult, *, label: str | None = None) -> None:
    """A link to the page holding a check's evidence, labelled with its status word and icon; plain
    text when every check on that page was skipped (a link to a page with nothing on it misleads)."""
    status = Status(result.status)
    text = f"{STATUS_WORD[status]} · {label or result.title}"
    if page_has_evidence(state().report, page):
        st.page_link(page, label=text, icon=f":material/{STATUS_MATERIAL[status]}:")
    else:
        st.markdown(f":gray[:material/{STATUS_MATERIAL[status]}: {esc(text)}]")


def page_has_evidence(report: ReviewReport | None, page: str) -> bool:
    """False when every check shown on ``page`` was skipped in this review (no section has evidence)."""
    from readiness.registry import registered_checks

    if report is None:
        return True
    areas = {a for a, p in AREA_PAGES.items() if p == page}
    ids = {s.id for s in registered_checks() if s.area in areas}
    mine = [c for c in report.checks if c.id in ids]
    return not mine or any(Status(c.status) != Status.SKIPPED for c in mine)


def metric_ci(container, label: str, value: float | None, ci: Iterable | None = None, *, as_pct: bool = True,
              digits: int = 3, help: str | None = None, formatter: Callable[[float], str] | None = None) -> None:
    """A metric with its 95% interval on a caption line beneath (values stay legible on a projector).
    ``formatter`` (e.g. :func:`readiness.fmt.number`) replaces the fixed decimals for measurements of any scale;
    with :func:`~readiness.fmt.number` or :func:`~readiness.fmt.signed` the value and its bounds share one number
    of decimals (:func:`readiness.fmt.decimals`: '56.7', '95% interval 50.5–62.0')."""
    if formatter in (number, signed) and value is not None:
        container.metric(label, estimate(value, ci, sign=formatter is signed), help=help)
        band = interval(list(ci) if ci is not None else None, value=value)
        if band:
            container.caption(f"95% interval {band}")
        return
    fmt = formatter or (pct if as_pct else (lambda v: f"{v:.{digits}f}"))
    container.metric(label, "–" if value is None else fmt(value), help=help)
    ci = list(ci or [])
    if value is not None and len(ci) == 2 and None not in ci and all(c == c for c in ci):
        container.caption(f"95% interval {fmt(ci[0])} – {fmt(ci[1])}")


_SEV_ICON = {Severity.FAIL: ":red[:material/cancel:]", Severity.WARN: ":orange[:material/warning:]",
             Severity.INFO: ":blue[:material/info:]"}


def findings(result: CheckResult, *, limit: int = 12) -> None:
    """Findings as a list, worst first; the rest in an expander."""
    order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
    items = sorted(result.findings, key=lambda f: order[f.severity])
    if not items:
        return
    head, tail = items[:limit], items[limit:]
    for f in head:
        st.markdown(f"{_SEV_ICON[f.severity]} {esc(f.message)}")
    if tail:
        with st.expander(f"{len(tail)} more findings"):
            for f in tail:
                st.markdown(f"{_SEV_ICON[f.severity]} {esc(f.message)}")


def check_header(result: CheckResult | None, *, heading: str | None = None) -> bool:
    """Heading, status chip and one-sentence summary. Returns False if the check is absent."""
    if result is None:
        st.info("This check was not part of the review.")
        return False
    st.subheader(heading or result.title, anchor=result.id.replace(".", "-"))
    cols = st.columns([1, 6], vertical_alignment="center")
    with cols[0]:
        status_badge(result.status)
    with cols[1]:
        st.markdown(f"**{esc(result.summary)}**")
    basis_line(result)
    return True


def basis_line(result: CheckResult) -> None:
    """For a review an engine ran: which rows this check's figures rest on (docs/engines.md)."""
    from readiness.fmt import basis_text

    basis = basis_text(result.metrics)
    if basis and Status(result.status) not in (Status.SKIPPED, Status.ERROR):
        st.caption(f":material/functions: Basis: {basis}")


def check_details(result: CheckResult) -> None:
    """Raw metrics and method, for the data scientist."""
    with st.expander("Method and raw numbers"):
        spec = _spec(result.id)
        if spec is not None and spec.description:
            st.caption(spec.description)
        st.caption(f"Check id `{result.id}` · ran in {result.duration_s or 0:.2f} s")
        st.json(result.metrics, expanded=False)


def _spec(check_id: str):
    from readiness.registry import registered_checks

    return next((s for s in registered_checks() if s.id == check_id), None)


def skipped_or_error(result: CheckResult) -> bool:
    """Render skipped/error results fully; returns True when the page should not go on."""
    if result.status == Status.SKIPPED:
        st.info(f"Skipped: {esc(result.summary)}")
        return True
    if result.status == Status.ERROR:
        st.error(f"{esc(result.summary)} The other checks are unaffected; report this with the check id `{result.id}`.")
        return True
    return False


def what_to_do(items: list[str]) -> None:
    if items:
        st.markdown("#### What to do")
        st.markdown("\n".join(f"- {i}" for i in items))


def plot(fig) -> None:
    if fig is not None:
        st.plotly_chart(fig, width="stretch", config={"displaylogo": False})


# area -> page file; a page lists the checks of its area(s)
AREA_PAGES = {
    "data_quality": "pages/data_quality.py",
    "evaluation": "pages/evaluation.py",
    "leakage": "pages/leakage.py",
    "bias": "pages/bias.py",
    "calibration": "pages/calibration.py",
    "explanations": "pages/explanations.py",
    "business": "pages/business.py",
    "feasibility": "pages/feasibility.py",
    "comparison": "pages/comparison.py",
    "where_it_fails": "pages/where_it_fails.py",
    "monitoring": "pages/monitoring.py",
}


def area_page(area: str) -> str | None:
    return AREA_PAGES.get(area)


def area_results(report: ReviewReport, area: str) -> list[CheckResult]:
    from readiness.registry import registered_checks

    ids = [s.id for s in registered_checks() if s.area == area]
    return [c for c in report.checks if c.id in ids]
