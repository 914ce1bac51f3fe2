"""Number formatting shared by check summaries, findings and pages (one vocabulary)."""

from __future__ import annotations

import math


def pct(x: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'; None or NaN -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"
