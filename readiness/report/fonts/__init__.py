"""The fonts shipped for the PDF (see LICENSE.txt) and per-character fallback.

reportlab has no font fallback of its own, so text is split into runs: characters
DejaVu Sans has, and characters only the CJK fallback (Droid Sans Fallback) has. The
fallback is loaded lazily, only when a text needs it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

FONT_DIR = Path(__file__).resolve().parent
REGULAR, BOLD, MONO, FALLBACK = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono", "DroidSansFallback"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf",
          FALLBACK: "DroidSansFallback.ttf"}


@cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold, mono) with reportlab, once per process."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name in (REGULAR, BOLD, MONO):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / _FILES[name])))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)


@cache
def _fallback_registered() -> bool:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FALLBACK, str(FONT_DIR / _FILES[FALLBACK])))
    return True


@cache
def _charmap(font: str) -> frozenset[int]:
    from reportlab.pdfbase import pdfmetrics

    register_fonts()
    if font == FALLBACK:
        _fallback_registered()
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


def has_glyph(ch: str, font: str = REGULAR) -> bool:
    return ord(ch) in _charmap(font)


def text_runs(text: str, font: str = REGULAR) -> list[tuple[str, str]]:
    """Split text into (font, run) pieces so that every character has a glyph if any
    shipped font has one. Characters no font has stay in ``font`` (a box is drawn)."""
    if all(ord(ch) < 0x250 for ch in text):  # Latin: fast path
        return [(font, text)] if text else []
    base = _charmap(font)
    runs: list[tuple[str, str]] = []
    for ch in text:
        use = font
        if ord(ch) not in base and not ch.isspace() and ord(ch) in _charmap(FALLBACK):
            use = FALLBACK
        if runs and runs[-1][0] == use:
            runs[-1] = (use, runs[-1][1] + ch)
        else:
            runs.append((use, ch))
    return runs


def markup(text: str, font: str = REGULAR) -> str:
    """Escaped Paragraph markup for ``text`` with fallback-font runs tagged."""
    parts = []
    for run_font, run in text_runs(str(text), font):
        esc = escape(run)
        parts.append(esc if run_font == font else f'<font name="{run_font}">{esc}</font>')
    return "".join(parts)
