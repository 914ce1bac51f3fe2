"""The PDF review report, rendered with reportlab from a :class:`ReviewRecord`.

Everything on the pages comes from the record (identity, notes, decision, signers) and
the review JSON inside it; the registry only adds area names, order and method notes,
so a check added later appears without changes here. Charts come from
:mod:`readiness.report.charts_pdf` (the same metrics the app plots).

:func:`build_pdf` returns the *unsigned report*: the pages, the canonical record JSON
attached, and one empty signature field per planned signer (see
:func:`readiness.report.sign.prepare_document`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import Any

from readiness import fmt
from readiness.antipatterns import ANTIPATTERNS
from readiness.report.canonical import (
    OUTCOME_MARK,
    Outcome,
    ReviewRecord,
    model_display_name,
    outcome_word,
    sha256_hex,
)
from readiness.report.figures import (
    REGRESSION_GROUP_HEADER,
    humanize,
    key_figures,
    regression_group_rows,
)
from readiness.report.fonts import BOLD, MONO, REGULAR, markup, register_fonts
from readiness.report.sign import SigBox, prepare_document
from readiness.results import (
    DATA_REVIEW_NOTE,
    SETTING_LABELS,
    CheckResult,
    Severity,
    Status,
    settings_that_apply,
)
from readiness.style import STATUS_COLOR, STATUS_WORD, overall_verdict

# print-safe status marks: the emoji of style.STATUS_ICON have no glyph in print fonts,
# so the PDF uses these DejaVu glyphs next to the same words and colours
PDF_STATUS_MARK = {Status.PASS: "✔", Status.WARN: "⚠", Status.FAIL: "✖", Status.SKIPPED: "⊘", Status.ERROR: "‼"}
SEVERITY_MARK = {Severity.FAIL: "✖", Severity.WARN: "⚠", Severity.INFO: "ℹ"}
NOT_ASSESSED = "○"

AREA_TITLES = {
    "data_quality": "Data quality", "evaluation": "Holdout performance", "leakage": "Leakage",
    "bias": "Bias and fairness", "calibration": "Calibration", "uncertainty": "Uncertainty and human review",
    "explanations": "Explanations", "business": "Business threshold", "threshold": "Business threshold",
    "feasibility": "Feasibility", "drift": "Drift and age", "baselines": "Baselines", "lineage": "Lineage",
    "comparison": "Compared with the current model", "monitoring": "Monitoring after sign-off",
    "where_it_fails": "Where it fails",
}
BIAS_CATEGORIES = ("historical", "representation", "measurement", "aggregation", "learning", "evaluation",
                   "deployment")
INK, MUTED, RULE, PANEL = "#1b2733", "#5b6770", "#c9d1d9", "#f3f5f7"


def _tint(hex_color: str, amount: float = 0.86) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def status_label(status: Status | str) -> str:
    s = Status(status)
    return f"{PDF_STATUS_MARK[s]} {STATUS_WORD[s]}"


# --- styles -------------------------------------------------------------------------------


@cache
def _styles():
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    register_fonts()
    ink = HexColor(INK)
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=9.2, leading=12.6, textColor=ink, spaceAfter=4)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.8, leading=10.2, textColor=HexColor(MUTED)),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.2, leading=10.6, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=BOLD, fontSize=8.2, leading=10.6, spaceAfter=0),
        "cellsm": ParagraphStyle("cellsm", parent=base, fontSize=7.7, leading=9.6, spaceAfter=0),
        "cells": ParagraphStyle("cells", parent=base, fontSize=7.4, leading=9.4, spaceAfter=0,
                                textColor=HexColor(MUTED)),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=6.9, leading=9, spaceAfter=0),
        "sha": ParagraphStyle("sha", parent=base, fontName=MONO, fontSize=6.4, leading=9, spaceAfter=0),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=16, leading=20, spaceBefore=2,
                             spaceAfter=8, textColor=ink, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=10,
                             spaceAfter=4, textColor=ink, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=BOLD, fontSize=9.6, leading=13, spaceBefore=6, spaceAfter=3,
                             keepWithNext=1),
        "kicker": ParagraphStyle("kicker", parent=base, fontName=BOLD, fontSize=9, leading=12,
                                 textColor=HexColor(MUTED)),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=25, leading=30, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12.5, leading=17, textColor=HexColor(MUTED)),
        "big": ParagraphStyle("big", parent=base, fontName=BOLD, fontSize=15, leading=19, spaceAfter=2),
        "toc0": ParagraphStyle("toc0", parent=base, fontName=BOLD, fontSize=9.4, leading=12, leftIndent=0,
                               spaceBefore=5, spaceAfter=0),
        "toc1": ParagraphStyle("toc1", parent=base, fontSize=8.2, leading=10.4, leftIndent=14, spaceAfter=0),
    }


def P(text: str, style="body", *, raw: bool = False):
    """Paragraph from plain text (escaped, with font fallback) or, with raw=True, markup.
    ``style`` is a style name or a ParagraphStyle."""
    from reportlab.platypus import Paragraph

    return Paragraph(text if raw else markup(text), _styles()[style] if isinstance(style, str) else style)


@cache
def _scaled_styles(scale: float) -> dict:
    """The body styles with type and leading scaled (the one-page executive summary)."""
    return {name: _scaled_style(style, scale) for name, style in _styles().items()}


def _fitted_toc_class():
    """A table of contents that stays on one page: when its entries do not fit, the type
    shrinks a little (down to 70%), as the executive summary's does."""
    from reportlab.platypus.tableofcontents import TableOfContents

    class FittedTOC(TableOfContents):
        def wrap(self, availWidth, availHeight):
            base = self.__dict__.setdefault("_base_styles", list(self.levelStyles))
            for scale in (1.0, 0.94, 0.88, 0.82, 0.76, 0.7):
                self.levelStyles = [_scaled_style(st, scale) for st in base]
                w, h = super().wrap(availWidth, availHeight)
                if h <= availHeight:
                    break
            return w, h

    return FittedTOC


@cache
def _scaled_style(style, scale: float):
    from reportlab.lib.styles import ParagraphStyle

    if scale == 1.0:
        return style
    return ParagraphStyle(f"{style.name}@{scale}", parent=style, fontSize=style.fontSize * scale,
                          leading=style.leading * scale, spaceAfter=style.spaceAfter * scale,
                          spaceBefore=style.spaceBefore * scale)


def _when(iso: str) -> str:
    """'2026-12-04T15:24:21+00:00' -> '4 December 2026, 15:24 UTC'."""
    from datetime import UTC, datetime

    try:
        t = datetime.fromisoformat(iso).astimezone(UTC)
    except (TypeError, ValueError):
        return str(iso)
    return f"{t.day} {t:%B %Y, %H:%M} UTC"


def B(text: str) -> str:
    return f"<b>{markup(text, BOLD)}</b>"


# --- flowables ----------------------------------------------------------------------------


def chip(status: Status | str, *, width: float = 62):
    """Status chip: mark + word in a tinted box with a border (reads in black and white)."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table, TableStyle

    s = Status(status)
    col = STATUS_COLOR[s]
    t = Table([[P(f'<font color="{col}">{PDF_STATUS_MARK[s]}</font> {STATUS_WORD[s]}', "cellb", raw=True)]],
              colWidths=[width], rowHeights=[15])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("BACKGROUND", (0, 0), (-1, -1), HexColor(_tint(col))),
        ("BOX", (0, 0), (-1, -1), 0.9, HexColor(col)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def _table(rows, col_widths, *, header: bool = True, zebra: bool = True, pad: float = 3.2, valign="TOP"):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=col_widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (-1, -1), valign),
        ("LEFTPADDING", (0, 0), (-1, -1), pad + 1), ("RIGHTPADDING", (0, 0), (-1, -1), pad + 1),
        ("TOPPADDING", (0, 0), (-1, -1), pad), ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, HexColor(RULE)),
    ]
    if header:
        style += [("LINEBELOW", (0, 0), (-1, 0), 0.9, HexColor(INK)), ("BACKGROUND", (0, 0), (-1, 0), HexColor(PANEL))]
    if zebra:
        for i in range(1 if header else 0, len(rows)):
            style.append(("LINEBELOW", (0, i), (-1, i), 0.4, HexColor(RULE)))
    t.setStyle(TableStyle(style))
    return t


def _panel(flowables, *, border: str = RULE, background: str = PANEL, width: float | None = None, pad: float = 7):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table, TableStyle

    t = Table([[flowables]], colWidths=[width] if width else None, hAlign="LEFT")
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("BOX", (0, 0), (-1, -1), 0.8, HexColor(border)),
        ("BACKGROUND", (0, 0), (-1, -1), HexColor(background)),
        ("LEFTPADDING", (0, 0), (-1, -1), pad), ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), pad - 1), ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
    ]))
    return t


class _Heading:
    """Marker attributes for headings that go into the TOC and the PDF outline."""


def heading(text: str, level: int, key: str):
    from reportlab.platypus import Paragraph

    style = {0: "h1", 1: "h2", 2: "h3"}[level]
    p = Paragraph(markup(text, BOLD), _styles()[style])
    p._toc = (level, text, key)
    return p


def _runs_at(x: float, text: str, size: float) -> list[tuple[float, str, str]]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from readiness.report.fonts import text_runs

    out = []
    for font, run in text_runs(text):
        out.append((x, font, run))
        x += stringWidth(run, font, size)
    return out


def _sig_box_class():
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Flowable

    class SigBoxFlowable(Flowable):
        """An empty, dashed box where a signature field is placed; records its position."""

        def __init__(self, field: str, role: str, width: float, height: float, sink: dict):
            super().__init__()
            self.field, self.role, self.width, self.height, self.sink = field, role, width, height, sink

        def wrap(self, aw, ah):
            return self.width, self.height

        def draw(self):
            c = self.canv
            c.saveState()
            c.setStrokeColor(HexColor(MUTED))
            c.setDash(3, 2)
            c.setLineWidth(0.8)
            c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
            c.setFillColor(HexColor(MUTED))
            c.setFont(REGULAR, 7.2)
            for x, run_font, run in _runs_at(6, f"Signature field {self.field} · {self.role}", 7.2):
                c.setFont(run_font, 7.2)
                c.drawString(x, self.height - 12, run)
            c.setFont(REGULAR, 7.2)
            c.drawString(6, 8, "Sign on the app's sign-off page, or: readiness sign REPORT.pdf --role ROLE")
            c.restoreState()
            x1, y1 = c.absolutePosition(0, 0)
            x2, y2 = c.absolutePosition(self.width, self.height)
            self.sink[self.field] = SigBox(self.field, c.getPageNumber() - 1,
                                           (round(x1), round(y1), round(x2), round(y2)))

    return SigBoxFlowable


# --- document template --------------------------------------------------------------------


def _doc_class():
    from reportlab.platypus.doctemplate import BaseDocTemplate

    class ReportDoc(BaseDocTemplate):
        def afterFlowable(self, flowable):
            toc = getattr(flowable, "_toc", None)
            if toc is None:
                return
            level, text, key = toc
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            if level <= 1:
                self.notify("TOCEntry", (level, markup(text), self.page, key))

    return ReportDoc


def _numbered_canvas(footer_left: str, header_left: str, header_right: str):
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    from readiness.report.fonts import text_runs

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _text(self, x, y, text, size, color, *, right=False, font=REGULAR):
            runs = text_runs(text, font)
            width = sum(self.stringWidth(t, f, size) for f, t in runs)
            x = x - width if right else x
            self.setFillColor(HexColor(color))
            for f, t in runs:
                self.setFont(f, size)
                self.drawString(x, y, t)
                x += self.stringWidth(t, f, size)

        def _decorate(self, total):
            w, h = self._pagesize
            n = self._pageNumber
            self.saveState()
            self.setStrokeColor(HexColor(RULE))
            self.setLineWidth(0.6)
            self.line(50, 40, w - 50, 40)
            self._text(50, 28, footer_left, 7, MUTED)
            self._text(w - 50, 28, f"Page {n} of {total}", 7.5, INK, right=True)
            if n > 1:
                self.line(50, h - 40, w - 50, h - 40)
                self._text(50, h - 34, header_left, 7.5, MUTED)
                self._text(w - 50, h - 34, header_right, 7.5, MUTED, right=True)
            self.restoreState()

    return NumberedCanvas


# --- content helpers ----------------------------------------------------------------------

ATTENTION = (Status.FAIL, Status.ERROR, Status.WARN)


def _hyper(v: Any) -> str:
    """A hyper-parameter value exactly, for people: no 'null', no exponent, nothing cut."""
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return (f"{v:.12f}".rstrip("0").rstrip(".") or "0") if abs(v) < 1e15 else f"{v:,.0f}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, default=str).replace("null", "not set")
    return str(v)


def _setting(key: str, v: Any) -> str:
    if key == "cost_matrix" and isinstance(v, dict) and v:  # one line per true class, costs in the columns' order
        cols = list(next(iter(v.values())))
        return (f"predicted {', '.join(map(str, cols))} — " + "; ".join(
            f"true {t}: {' '.join(fmt.number(row.get(c)) for c in cols)}" for t, row in v.items()))
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_setting(k, x)}" for k, x in v.items()) or "none"
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "none"
    if isinstance(v, float):
        return fmt.number(v, 4)
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "not set" if v is None else str(v)


def _evidence_cell(related: list[CheckResult]) -> list:
    """Checks behind an anti-pattern: those needing attention by name, passing ones counted."""
    if not related:
        return [P("No check in this review; reviewers judge it.", "cells")]
    attention = [c for c in related if c.status not in (Status.PASS, Status.SKIPPED)]
    quiet = [c for c in related if c not in attention]
    out = [P(f"{PDF_STATUS_MARK[c.status]} {c.title}", "cell") for c in attention]
    if quiet:
        names = " · ".join(c.title for c in quiet)
        if len(quiet) > 2 and attention:
            names = f"{len(quiet)} more checks pass or do not apply"
        marks = "".join(sorted({PDF_STATUS_MARK[c.status] for c in quiet}))
        out.append(P(f"{marks} {names}", "cells" if attention else "cell"))
    return out


def _sorted_findings(result: CheckResult):
    order = {Severity.FAIL: 0, Severity.WARN: 1, Severity.INFO: 2}
    return sorted(result.findings, key=lambda f: order[f.severity])


def first_finding(result: CheckResult) -> str:
    """The finding that explains a check's status, in full (its summary when it has none)."""
    findings = _sorted_findings(result)
    return findings[0].message if findings else result.summary


def _height(flowables: list, width: float) -> float:
    total = 0.0
    for f in flowables:
        _w, h = f.wrap(width, 100_000)
        total += h + f.getSpaceBefore() + f.getSpaceAfter()
    return total



@dataclass
class BuiltReport:
    pdf: bytes
    record_bytes: bytes
    pages: int


class _Builder:
    def __init__(self, record: ReviewRecord, data: bytes):
        from readiness.registry import registered_checks

        self.record, self.data = record, data
        self.report = record.review
        self.specs = {s.id: s for s in registered_checks()}
        self.sig_boxes: dict[str, SigBox] = {}
        self.width = 595.27 - 100  # A4 minus margins
        self.height = 841.89 - 112  # A4 minus top and bottom margins

    def _attention(self) -> list[CheckResult]:
        rank = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}
        return sorted((c for c in self.report.checks if c.status in ATTENTION), key=lambda c: rank[c.status])

    def _decision_panel(self, styles: tuple[str, str, str] = ("big", "cellb", "cell")) -> object:
        big, bold, cell = styles
        d = self.record.decision
        if d.outcome:
            verdict = f"{OUTCOME_MARK[d.outcome]} Decision: {outcome_word(d.outcome)}"
            tone = {Outcome.APPROVE: STATUS_COLOR[Status.PASS], Outcome.APPROVE_WITH_CONDITIONS: STATUS_COLOR[Status.WARN],
                    Outcome.REJECT: STATUS_COLOR[Status.FAIL]}[d.outcome]
        else:
            verdict, tone = "Decision: pending — each signer records their own", INK
        inner = [P(verdict, big)]
        if d.conditions:
            inner.append(P("Conditions", bold))
            inner += [P(f"{i}. {c}", cell) for i, c in enumerate(d.conditions, 1)]
        if d.rationale:
            inner.append(P("Rationale", bold))
            inner.append(P(d.rationale, cell))
        return _panel(inner, border=tone, background=_tint(tone, 0.92), width=self.width)

    # cover ------------------------------------------------------------------------------
    def cover(self) -> list:
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import Spacer, Table, TableStyle

        r, rep = self.record, self.report
        kicker = "DATA REVIEW · NO MODEL YET" if rep.data_only else "MODEL READINESS REVIEW"
        model = model_display_name(r.model_name)
        out = [Spacer(1, 40), P(kicker, "kicker"), Spacer(1, 8), P(r.project, "title"),
               P(f"Model {model} · version {r.model_version}", "subtitle")]
        if r.title and r.title != r.project:
            out.append(P(r.title, "subtitle"))
        out += [Spacer(1, 22), self._decision_panel(), Spacer(1, 16)]
        counts = {s: sum(c.status == s for c in rep.checks) for s in Status}
        summary = " · ".join(f"{counts[s]} {STATUS_WORD[s].lower()}" for s in Status if counts[s])
        rows_of = {f.role: f.rows for f in rep.inputs}
        data = " · ".join(f"{fmt.count(rows_of[role])} {word} rows" for role, word in
                          (("train", "training"), ("test", "holdout")) if rows_of.get(role))
        estimator = (rep.model.estimator or rep.model.kind or "").rsplit(".", 1)[-1]
        facts = [
            ("Review date", _when(r.created_at)),
            ("Checks", f"{status_label(rep.status)} overall — {len(rep.checks)} checks: {summary}"),
            ("Reviewers", "; ".join(p.name + (f" ({p.role})" if p.role else "") for p in r.reviewers) or "–"),
            ("Signers", "; ".join(f"{s.role}: {s.name or 'anyone in the role'}" for s in r.signers)),
            ("Model", f"none yet: a data review · {rep.task} task" if rep.data_only
             else f"{estimator} · {rep.task} task" if estimator else f"{rep.task} task"),
            ("Data", data or "–"),
            ("Record", f"{r.record_id} · SHA-256 {sha256_hex(self.data)}"),
        ]
        rows = [[P(k, "cellb"), P(v, "mono" if k == "Record" else "cell")] for k, v in facts]
        t = Table(rows, colWidths=[80, self.width - 80], hAlign="LEFT")
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.4, HexColor(RULE)),
                               ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
        out += [t, Spacer(1, 18)]
        out.append(P("This report is signed electronically (PAdES). The exact review record it was rendered from is "
                     "attached as <b>review-record.json</b>; each signer also signs those bytes. Check that nothing "
                     "changed since signing with <font name=\"DejaVuSansMono\">readiness verify REPORT.pdf --trust "
                     "SIGNERS.cert.pem</font> or the app's Verify page.", "small", raw=True))
        return out

    # executive summary: one page ------------------------------------------------------------
    def summary(self) -> list:
        """Decision, conditions, and each check needing attention with its full first finding and
        the reviewers' rationale: on one page (the type shrinks a little before anything is cut)."""
        from reportlab.platypus import PageBreak

        def fits(flow: list) -> bool:
            return _height(flow, self.width) <= self.height - 6

        for scale in (1.0, 0.93, 0.86, 0.8, 0.74, 0.68):
            flow = self._summary_flow(scale)
            if fits(flow):
                return flow + [PageBreak()]
        # still too long at the smallest type: rows from the bottom (warnings before failures) point to
        # the finding in their own section instead of printing it, then notes point to section 3;
        # nothing is ever cut mid-sentence, and the summary stays on one page
        attention = self._attention()
        n, n_fail = len(attention), sum(c.status == Status.FAIL for c in attention)
        steps = [(k, "all") for k in range(1, n - n_fail + 1)] + [(k, "failures") for k in range(n - n_fail + 1)]
        steps += [(k, "none") for k in range(n - n_fail, n + 1)]
        for brief, notes in steps:
            flow = self._summary_flow(0.68, brief=brief, notes=notes)
            if fits(flow):
                break
        return flow + [PageBreak()]

    def _summary_flow(self, scale: float, *, brief: int = 0, notes: str = "all") -> list:
        """``brief``: how many rows, from the bottom, name their check without printing its finding;
        ``notes``: which rows print the reviewers' note ("all", "failures", "none"); the others refer
        to section 3."""
        from reportlab.platypus import Spacer

        rep, r = self.report, self.record
        st = _scaled_styles(scale)
        out = [heading("1  Executive summary", 0, "summary")]
        verdict = overall_verdict(rep.status, data_only=rep.data_only)
        out.append(P(f"{B(status_label(rep.status))} — {markup(verdict)}", st["body"], raw=True))
        if rep.data_only:
            out.append(P(DATA_REVIEW_NOTE, st["body"]))
        out += [self._decision_panel((st["big"], st["cellb"], st["cell"])), Spacer(1, 6 * scale)]
        attention = self._attention()
        quiet = len(rep.checks) - len(attention)
        if not attention:
            out.append(P(f"All {len(rep.checks)} checks pass or do not apply; no finding needs a decision.", st["body"]))
            return out
        out.append(P(f"{len(attention)} of {len(rep.checks)} checks need attention; {quiet} pass or do not apply. "
                     "Each row gives the finding that decides the check's status, in full, and the reviewers' "
                     "rationale or note.", st["small"]))
        rows = [[P("Status", st["cellb"]), P("Check and finding", st["cellb"]), P("Reviewers' rationale", st["cellb"])]]
        for i, c in enumerate(attention):
            note = r.notes.get(c.id)
            if note and (notes == "all" or (notes == "failures" and c.status == Status.FAIL)):
                why = P(note, st["cell"])
            elif note:
                why = P("In section 3, Reviewer notes and rationale.", st["cells"])
            elif c.status == Status.FAIL:
                why = P("No rationale recorded.", st["cells"])
            else:
                why = P("–", st["cells"])
            finding = (first_finding(c) if i < len(attention) - brief
                       else "Finding in full in the check's own section.")
            rows.append([chip(c.status),  # full width at any scale: the chip's word never wraps
                         [P(c.title, st["cellb"]), P(finding, st["cellsm"])], why])
        out.append(_table(rows, [66, self.width - 66 - 140, 140], pad=2.4 * scale))
        out.append(P("Section 2 shows the nine anti-patterns and every check; each check's evidence follows in its "
                     "own section.", st["small"]))
        return out

    # scorecard and every check -------------------------------------------------------------
    def scorecard(self) -> list:
        from reportlab.platypus import CondPageBreak, Spacer

        from readiness.results import worst_status

        rep = self.report
        out = [heading("2  Anti-pattern scorecard and every check", 0, "scorecard")]
        out.append(P("The nine MLOps anti-patterns (Muralidhar et al., 2021). Each row shows the worst status of the "
                     "checks that give evidence on it; “not assessed” means no check in this review covers it and the "
                     "reviewers must judge it themselves.", "small"))
        rows = [[P("Status", "cellb"), P("Anti-pattern", "cellb"), P("Evidence (checks)", "cellb")]]
        for ap in ANTIPATTERNS:
            related = [c for c in rep.checks if ap.id in c.antipatterns]
            st = chip(worst_status(c.status for c in related)) if related else P(f"{NOT_ASSESSED} Not assessed", "cellb")
            rows.append([st, [P(ap.title, "cellb"), P(ap.question, "cells")], _evidence_cell(related)])
        out.append(_table(rows, [72, 200, self.width - 272]))
        out += [Spacer(1, 4), CondPageBreak(200), heading("Every check", 1, "every-check")]
        rows = [[P("Status", "cellb"), P("Check", "cellb"), P("Summary", "cellb")]]
        for c in rep.checks:
            rows.append([chip(c.status), P(c.title, "cellb"), P(c.summary, "cellsm")])
        out.append(_table(rows, [72, 150, self.width - 222], pad=2.4))
        return out

    # decision and signatures -----------------------------------------------------------------
    def signoff(self) -> list:
        from reportlab.platypus import KeepTogether, Spacer

        r = self.record
        out = [heading("3  Decision and sign-off", 0, "signoff"), self._decision_panel(), Spacer(1, 6)]
        if not r.decision.outcome:
            out.append(P("No joint decision was recorded: each signer's decision appears in their signature.", "body"))
        if r.reviewers:
            out.append(heading("Reviewers", 1, "reviewers"))
            rows = [[P("Name", "cellb"), P("Role", "cellb"), P("Email", "cellb")]]
            rows += [[P(p.name, "cell"), P(p.role or "–", "cell"), P(p.email or "–", "cell")] for p in r.reviewers]
            out.append(_table(rows, [170, 150, self.width - 320]))
        noted = [c for c in self.report.checks if r.notes.get(c.id)]
        if noted:
            out.append(heading("Reviewer notes and rationale", 1, "notes"))
            rows = [[P("Status", "cellb"), P("Check", "cellb"), P("Note", "cellb")]]
            rows += [[chip(c.status), P(c.title, "cellb"), P(r.notes[c.id], "cell")] for c in noted]
            out.append(_table(rows, [72, 150, self.width - 222]))
        out.append(heading("Signatures", 1, "signatures"))
        out.append(P("One box per planned signer, in signing order. The first signature certifies the document; "
                     "later signers sign their own box, which only adds to the file. A box planned for a named person "
                     "can be signed only with that person's certificate, or by a re-assignment the signer records.",
                     "small"))
        SigBoxFlowable = _sig_box_class()
        for n, s in enumerate(r.signers, 1):
            left = [P(f"{n}. {s.role}", "cellb"),
                    P(s.planned and f"Planned: {s.planned}" or "Planned: anyone in this role", "cell"),
                    P(f"Field {s.field}", "cells")]
            box = SigBoxFlowable(s.field, s.role, 290, 70, self.sig_boxes)
            t = _table([[left, box]], [self.width - 300, 300], header=False, zebra=False, valign="MIDDLE")
            out.append(KeepTogether([t, Spacer(1, 6)]))
        return out

    # bias categories --------------------------------------------------------------------------
    def bias_categories(self) -> list:
        out = [heading("4  Seven sources of harm", 0, "bias-categories")]
        out.append(P("Suresh and Guttag's framework of harms across the ML life cycle. Each category gets measured "
                     "evidence where the data allows, and the reviewers' answers where it does not.", "small"))
        res = self.report.check("bias.categories")
        cats = (res.metrics.get("categories") if res and res.status not in (Status.ERROR,) else None) or {}
        titles = (res.metrics.get("titles") if res else None) or {}
        rows = [[P("Status", "cellb"), P("Category", "cellb"), P("Evidence", "cellb")]]
        for c in (res.metrics.get("order") if res and isinstance(res.metrics.get("order"), list) else BIAS_CATEGORIES):
            entry = cats.get(c) if isinstance(cats, dict) else None
            title = titles.get(c) if isinstance(titles, dict) else None
            title = title or f"{c.capitalize()} bias"
            if isinstance(entry, dict) and entry.get("status") in {s.value for s in Status}:
                rows.append([chip(entry["status"]), P(title, "cellb"), P(str(entry.get("summary", "")), "cell")])
            else:
                rows.append([P(f"{NOT_ASSESSED} Not assessed", "cellb"), P(title, "cellb"),
                             P("Not assessed in this review (no bias.categories result); reviewers must judge it.",
                               "cells")])
        out.append(_table(rows, [72, 120, self.width - 192]))
        out += self.questionnaire()
        return out

    def questionnaire(self) -> list:
        """The reviewers' answers to the deployment questions, one row per question."""
        from readiness.checks.bias_questions import QUESTIONS
        answers = self.report.settings.get("reviewer_answers") or {}
        if not isinstance(answers, dict):
            answers = {}
        out = [heading("The reviewers' answers on deployment", 1, "answers"),
               P("What data cannot show: how the model will be used, and on whom. Recorded in the review's settings "
                 "and judged by the deployment category above.", "small")]
        rows = [[P("Question", "cellb"), P("Answer", "cellb")]]
        for q in QUESTIONS:
            raw = str(answers.get(q["key"]) or "").strip()
            text = (q.get("choices") or {}).get(raw, raw)
            rows.append([P(q["question"], "cell"), P(text, "cell") if text else P("Not answered", "cells")])
        extra = sorted(set(answers) - {q["key"] for q in QUESTIONS})
        rows += [[P(humanize(k), "cell"), P(str(answers[k]), "cell")] for k in extra if str(answers[k]).strip()]
        out.append(_table(rows, [200, self.width - 200]))
        return out

    # one section per area -------------------------------------------------------------------------
    def areas(self, start: int) -> list:
        groups: dict[str, list[CheckResult]] = {}
        order: dict[str, int] = {}
        for c in self.report.checks:
            spec = self.specs.get(c.id)
            area = spec.area if spec else (c.id.split(".")[0] if "." in c.id else "other")
            groups.setdefault(area, []).append(c)
            order[area] = min(order.get(area, 10_000), spec.order if spec else 10_000)
        out = []
        from reportlab.platypus import CondPageBreak

        for n, area in enumerate(sorted(groups, key=lambda a: (order[a], a)), start=start):
            title = AREA_TITLES.get(area, area.replace("_", " ").capitalize())
            if area == "business" and self.report.task != "binary":  # no threshold to move: the page's own title
                title = "Business cost"
            if all(c.status == Status.SKIPPED for c in groups[area]):  # nothing assessed: one line, not a page
                out.append(CondPageBreak(60))
                out.append(heading(f"{n}  {title}", 0, f"area-{area}"))
                out.append(P(f"{PDF_STATUS_MARK[Status.SKIPPED]} Not assessed in this review — "
                             + "; ".join(f"{markup(c.title)}: {markup(c.summary)}" for c in groups[area]),
                             "body", raw=True))
                continue
            out.append(CondPageBreak(260))
            out.append(heading(f"{n}  {title}", 0, f"area-{area}"))
            for c in groups[area]:
                out += self.check_section(c)
        return out

    def check_section(self, c: CheckResult) -> list:
        from reportlab.platypus import CondPageBreak, Image, KeepTogether, Spacer

        from readiness.report.charts_pdf import DPI, charts_for

        out = [CondPageBreak(120), heading(c.title, 1, f"check-{c.id}")]
        head = _table([[chip(c.status), P(c.summary, "cellb")]], [72, self.width - 72], header=False, zebra=False,
                      valign="MIDDLE", pad=2)
        out.append(head)
        aps = [a.title for a in ANTIPATTERNS if a.id in c.antipatterns]
        meta = f"Check <font name=\"{MONO}\">{c.id}</font>"
        if aps:
            meta += " · evidence on: " + markup(", ".join(aps))
        basis = fmt.basis_text(c.metrics)
        if basis:  # an engine review: which figures rest on every row, which on a sample (docs/engines.md)
            meta += f" · <b>{markup(basis)}</b>"
        out.append(P(meta, "small", raw=True))
        note = self.record.notes.get(c.id)
        if note:
            label = "✎ Rationale: why the reviewers accept this failure" if c.status == Status.FAIL else "✎ Reviewer note"
            out.append(_panel([P(label, "cellb"), P(note, "cell")], width=self.width))
            out.append(Spacer(1, 4))
        rows = key_figures(c.id, c.metrics) if c.status not in (Status.SKIPPED, Status.ERROR) else []
        if rows:
            table = [[P("Figure", "cellb"), P("Value", "cellb"), P("What it means", "cellb")]]
            table += [[P(k, "cell"), P(v, "cell"), P(m, "cells")] for k, v, m in rows]
            out.append(_table(table, [150, 140, self.width - 290]))
            out.append(Spacer(1, 4))
        if c.id == "bias.groups" and c.status not in (Status.SKIPPED, Status.ERROR):
            out += self._regression_groups(c)
        for png, caption in charts_for(c, self.report):
            img = Image(BytesIO(png))
            scale = min(72 / DPI, self.width / img.imageWidth, 330 / img.imageHeight)
            img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
            out.append(KeepTogether([img, P(caption, "small")]))
        findings = _sorted_findings(c)
        if c.id == "bias.categories" and c.status not in (Status.SKIPPED, Status.ERROR):
            out.append(P("The seven categories, with their evidence, are tabulated in section 4.", "body"))
            findings = []
        if findings:
            out.append(P("Findings", "h3"))
            for f in findings:
                cols = f" <font color=\"{MUTED}\">[{markup(', '.join(f.columns))}]</font>" if f.columns else ""
                out.append(P(f"{SEVERITY_MARK[f.severity]} {markup(f.message)}{cols}", "body", raw=True))
        return out

    def _regression_groups(self, c: CheckResult) -> list:
        """A regression's error and bias by group, one table per sensitive attribute (the classifier's rates
        by group are a chart)."""
        from reportlab.platypus import KeepTogether, Spacer

        out = []
        for attr, ref, rows in regression_group_rows(c.metrics):
            title = P(f"Error and bias by group of '{markup(attr)}' (holdout rows; 95% intervals; reference: "
                      f"{markup(ref)}, the group with the smallest error). Mean error above 0: the model "
                      "over-estimates the group.", "small", raw=True)
            table = [[P(h, "cellb") for h in REGRESSION_GROUP_HEADER]]
            table += [[P(x, "cell") for x in row] for row in rows]
            w = self.width
            widths = [0.14 * w, 0.08 * w, 0.16 * w, 0.17 * w, 0.15 * w, 0.15 * w]
            out.append(KeepTogether([title, _table(table, widths + [w - sum(widths)])]))
            out.append(Spacer(1, 4))
        return out

    # appendix -------------------------------------------------------------------------------------
    def appendix(self, letter_start: int) -> list:
        from reportlab.platypus import CondPageBreak
        from reportlab.platypus.flowables import PageBreakIfNotEmpty

        rep, r = self.report, self.record
        out = [PageBreakIfNotEmpty(), heading("A  Appendix: data lineage", 0, "lineage")]
        out.append(heading("Inputs", 1, "inputs"))
        rows = [[P("Role", "cellb"), P("File", "cellb"), P("Rows × cols", "cellb"), P("Size", "cellb"),
                 P("SHA-256", "cellb")]]
        for f in rep.inputs:
            shape = f"{f.rows:,} × {f.columns}" if f.rows is not None else "–"
            size = f"{f.size_bytes / 1e6:.1f} MB" if f.size_bytes >= 1e6 else f"{f.size_bytes / 1e3:.1f} kB"
            rows.append([P(f.role, "cell"), P(f.name, "cell"), P(shape, "cell"), P(size, "cell"),
                         P(f.sha256, "sha")])
        out.append(_table(rows, [38, 92, 62, 46, self.width - 238]))
        out.append(heading("Roles", 1, "roles"))
        roles = rep.roles.model_dump()
        feats = roles.pop("features", [])
        rows = [[P("Role", "cellb"), P("Columns", "cellb")]]
        for k, v in roles.items():
            if v in (None, [], ""):
                continue
            rows.append([P(humanize(k), "cell"), P(", ".join(map(str, v)) if isinstance(v, list) else str(v), "cell")])
        rows.append([P(f"Features ({len(feats)})", "cell"), P(", ".join(feats) or "–", "cell")])
        out.append(_table(rows, [120, self.width - 120]))
        out.append(heading("Model and hyper-parameters", 1, "model"))
        mi = rep.model
        out.append(P(f"{B('Model')}: {markup(mi.name or '–')} · {markup(mi.estimator or mi.kind)} · format "
                     f"{markup(mi.format or '–')}" + (" · loaded as a trusted pickle" if mi.trusted_pickle else "")
                     + (f" · classes {markup(', '.join(map(str, mi.classes)))}" if mi.classes else ""), raw=True))
        if mi.hyperparameters:
            items = sorted(mi.hyperparameters.items())
            half = (len(items) + 1) // 2
            rows = [[P("Parameter", "cellb"), P("Value", "cellb"), P("Parameter", "cellb"), P("Value", "cellb")]]
            for i in range(half):
                a = items[i]
                b = items[i + half] if i + half < len(items) else ("", "")
                rows.append([P(a[0], "cell"), P(_hyper(a[1]), "mono"), P(b[0], "cell"),
                             P(_hyper(b[1]) if b[0] else "", "mono")])
            out.append(_table(rows, [110, self.width / 2 - 110, 110, self.width / 2 - 110]))
        else:
            out.append(P("No hyper-parameters recorded (scores were given as a column).", "small"))
        out.append(heading("Settings and versions", 1, "settings"))
        out.append(P(f"{B('Library versions')}: " + markup(" · ".join(f"{k} {v}" for k, v in rep.versions.items())),
                     raw=True))
        out.append(P(f"{B('Review')}: ran {markup(_when(rep.created_at))} in {rep.duration_s or 0:.1f} s; review "
                     f"digest <font name=\"{MONO}\" size=\"7\">{r.review_digest or '–'}</font>", raw=True))
        rows = [[P("Setting", "cellb"), P("Value", "cellb")]]
        for k, v in settings_that_apply(rep.settings, rep.task).items():  # a regression has no threshold
            if k == "reviewer_answers":
                v = "tabulated in section 4" if v else "none given"
            rows.append([P(SETTING_LABELS.get(k) or humanize(k), "cell"), P(_setting(k, v), "cell")])
        out.append(_table(rows, [140, self.width - 140]))
        out += [CondPageBreak(200), heading("B  Appendix: method notes", 0, "methods")]
        out.append(P("What each check measures, from the check registry. Metric definitions are in the project's "
                     "docs/checks.md.", "small"))
        for c in rep.checks:
            spec = self.specs.get(c.id)
            desc = " ".join((spec.description if spec else "").replace("``", "").split())
            # the registry's text names code variables (cost_fp); people read words
            desc = re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: m.group(0).replace("_", " "), desc)
            desc = desc or "No description available for this check."
            out.append(P(f"<b>{markup(c.title, BOLD)}</b> <font name=\"{MONO}\" size=\"7\">{c.id}</font>", "body",
                         raw=True))
            out.append(P(desc, "cell"))
            out.append(P(" ", "cells"))
        out += [heading("C  Appendix: how to verify this report", 0, "verify")]
        sha = sha256_hex(self.data)
        for text in (
            f"The review record this report was rendered from is attached as <b>review-record.json</b> "
            f"(SHA-256 <font name=\"{MONO}\" size=\"7\">{sha}</font>). It is the exact byte sequence each signer "
            "signs; extract it with any PDF reader's attachments panel.",
            "Each signer's PDF signature covers every byte of the file up to that signature. The first signer "
            "certifies the document so that afterwards only the planned signature fields may be filled. Each "
            "signer's decision, note and a detached CMS signature over review-record.json sit in the hidden form "
            f"field <font name=\"{MONO}\">SigNStatement</font>, filled in the same update as the PDF signature.",
            f"Verify: <font name=\"{MONO}\">readiness verify REPORT.pdf --trust SIGNERS.cert.pem "
            "[--train T --test H --model M]</font> (one file may hold every signer's certificate). It checks every "
            "signature and the changes after it, that each planned person signed their own box in order, the JSON "
            "signatures, and the SHA-256 of the input files; exit 0 valid, 1 invalid (with the reason), 2 bad input.",
        ):
            out.append(P(text, "body", raw=True))
        return out

    def toc(self) -> list:
        from reportlab.platypus import PageBreak, TableStyle

        toc = _fitted_toc_class()(dotsMinLevel=0)
        toc.levelStyles = [_styles()["toc0"], _styles()["toc1"]]
        toc.tableStyle = TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                     ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                     ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.6)])
        return [P("Contents", "h1"), toc, PageBreak()]

    def story(self) -> list:
        from reportlab.platypus import NextPageTemplate, PageBreak

        story = self.cover() + [NextPageTemplate("body"), PageBreak()] + self.toc()
        story += self.summary() + self.scorecard() + [PageBreak()] + self.signoff() + [PageBreak()]
        story += self.bias_categories() + [PageBreak()]
        areas = self.areas(start=5)
        n_areas = sum(1 for f in areas if getattr(f, "_toc", (9,))[0] == 0)
        story += areas + self.appendix(letter_start=5 + n_areas)
        return story


def render_pdf(record: ReviewRecord, data: bytes) -> tuple[bytes, list[SigBox], int]:
    """The report pages (no attachment or fields yet) and where the signature boxes are."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Frame, PageTemplate

    from readiness import __version__

    register_fonts()
    b = _Builder(record, data)
    buf = BytesIO()
    ReportDoc = _doc_class()
    doc = ReportDoc(buf, pagesize=A4, leftMargin=50, rightMargin=50, topMargin=56, bottomMargin=56,
                    title=f"Model readiness review: {model_display_name(record.model_name)} {record.model_version}",
                    author=record.project, subject=f"Review record {record.record_id}",
                    creator=f"Model Readiness Review {__version__}", invariant=1, lang="en",
                    initialFontName=REGULAR, initialFontSize=9.2)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="main", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="cover", frames=[frame]), PageTemplate(id="body", frames=[frame])])
    canvasmaker = _numbered_canvas(
        footer_left=f"Review record {record.record_id} · SHA-256 {sha256_hex(data)[:16]}…",
        header_left=f"Model readiness review · {model_display_name(record.model_name)} {record.model_version}",
        header_right=record.project)
    doc.multiBuild(b.story(), canvasmaker=canvasmaker, maxPasses=6)
    pages = doc.page
    missing = [s.field for s in record.signers if s.field not in b.sig_boxes]
    if missing:  # cannot happen unless a layout change drops the boxes
        raise RuntimeError(f"signature boxes not placed: {missing}")
    return buf.getvalue(), [b.sig_boxes[s.field] for s in record.signers], pages


def build_pdf(record: ReviewRecord, data: bytes) -> BuiltReport:
    """The unsigned report: pages + attached record bytes + empty signature fields.

    ``data`` must be :func:`~readiness.report.canonical.record_bytes` of ``record``,
    computed once by the caller and kept (they are what gets signed and stored).
    """
    body, boxes, pages = render_pdf(record, data)
    return BuiltReport(pdf=prepare_document(body, data, record, boxes), record_bytes=data, pages=pages)
