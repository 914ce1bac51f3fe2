"""Number formatting for people, shared by check summaries, findings, pages and the PDF.

One vocabulary: no scientific notation (``7.97e-111`` reads "p < 0.001"), no powers of ten
(``~10^34`` reads "practically unlimited"), thousands separators, a true minus sign, and a
dash for a value that is not there (never "None", "null" or "nan").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

MISSING = "–"
MINUS = "−"
UNLIMITED = "practically unlimited"
_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def pct(x: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'; None or NaN -> '–'. The same as :func:`percent`: 5 rows of 10,000 read
    '< 0.1%' (not '0.0%') and 9,998 of 10,000 '> 99.9%' (not '100.0%')."""
    return percent(x, digits)


def percent(x: float | None, digits: int = 1) -> str:
    """A share for people: 0.1234 -> '12.3%'; a small share is never shown as zero
    (0.0004 -> '< 0.1%') nor a large one as whole (0.99996 -> '> 99.9%')."""
    if not finite(x):
        return MISSING
    floor = 10.0 ** -digits
    v = 100 * x
    if 0 < v < floor:
        return f"< {floor:.{digits}f}%"
    if 100 - floor < v < 100:
        return f"> {100 - floor:.{digits}f}%"
    return f"{v:.{digits}f}%".replace("-", MINUS)


def _plain_percent(x: float) -> str:
    return f"{100 * x:.1f}%".replace("-", MINUS)


def p_value(p: float | None) -> str:
    """A p-value (or q-value) on its own, e.g. in a table cell: '< 0.001', '0.004', '0.032', '0.21'."""
    if not finite(p):
        return MISSING
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.0995 else f"{p:.2f}"


def p_text(p: float | None, name: str = "p") -> str:
    """A p-value in a sentence: 'p < 0.001' or 'p = 0.032' (never 'p = < 0.001');
    ``name='q'`` for a false-discovery-adjusted q-value. Missing: 'p not available'."""
    if not finite(p):
        return f"{name} not available"
    text = p_value(p)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def change(before: str, after: str, *, arrow: bool = False) -> str:
    """Two already-formatted values as a change: 'from 12.0% to 9.5%' (or '12.0% → 9.5%' with
    ``arrow``); '12.0% (no change)' when they read the same, never 'from 128 to 128'."""
    if before == after:
        return f"{before} (no change)"
    return f"{before} → {after}" if arrow else f"from {before} to {after}"


def byte_size(n: float | None) -> str:
    """A size in memory or on disk, 1024-based: 812 -> '812 bytes', 453_222 -> '442.6 KB'."""
    if not finite(n):
        return "unknown"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def budget_share(x: float | None) -> str:
    """A part of a budget: 0.42 -> '42.0%'; beyond the whole budget as a multiple, 1.628 -> '1.6 ×'
    (not '162.8%')."""
    if not finite(x):
        return MISSING
    return f"{x:,.1f} ×" if x > 1 else percent(x)


def number(x: float | None, digits: int = 3) -> str:
    """A measurement with ``digits`` significant digits and no exponent: 0.08633 -> '0.0863',
    1234.5 -> '1,235', 1.2e-14 -> '< 0.001', 3.4e9 -> '3.4 billion'."""
    if not finite(x):
        return MISSING
    if isinstance(x, int) and abs(x) < 1e6:
        return f"{x:,}".replace("-", MINUS)
    if x == 0:
        return "0"
    sign = MINUS if x < 0 else ""
    a = abs(float(x))
    if a < 0.001:
        return f"> {MINUS}0.001" if x < 0 else "< 0.001"
    for size, word in _WORDS:
        if a >= size:
            return f"{sign}{a / size:,.{digits}g} {word}" if a < 1000 * size else \
                f"{sign}{a / size:,.0f} {word}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    text = f"{a:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + text


def count(n: float | None, *, unlimited_above: float = 1e12) -> str:
    """A count of things: 1033 -> '1,033', 4.2e7 -> '42 million', above ``unlimited_above``
    -> 'practically unlimited' (a budget nobody can exhaust)."""
    if not finite(n):
        return MISSING
    if n >= unlimited_above:
        return UNLIMITED
    if abs(n) >= 1e6:
        return number(n)
    return f"{round(n):,}".replace("-", MINUS)


def beside(x: float | None, cut: float, digits: int = 3) -> str:
    """``x`` with as many significant digits as it takes not to read as ``cut`` when it is not: a score of
    0.49962 beside a threshold of 0.5 is '0.4996', never '0.5' (which would be on the other side of it)."""
    if not finite(x) or x == cut:
        return number(x, digits)
    for d in range(digits, 10):
        text = number(x, d)
        try:
            if float(text.replace(",", "").replace(MINUS, "-")) != cut:
                return text
        except ValueError:  # '< 0.001', '3.4 billion': never the cut
            return text
    return text


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 group gap', '8 group gaps', '1,033 rows': a count with its noun in the right number, never 'gap(s)'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def signed(x: float | None, fmt: Callable[[float], str] = number) -> str:
    """With an explicit sign: '+0.006', '−0.6%'."""
    if not finite(x):
        return MISSING
    body = fmt(abs(x))
    return body if x == 0 or body.startswith(("<", ">")) else ("+" if x > 0 else MINUS) + body


def points(d: float | None, digits: int = 1) -> str:
    """A difference of two shares in percentage points: -0.0058 -> '−0.6 points'."""
    if not finite(d):
        return MISSING
    v = round(100 * d, digits)
    body = f"{abs(v):.{digits}f}"
    return ("+" if v > 0 else MINUS if v < 0 else "") + body + " points"


def _is_interval(ci) -> bool:
    return isinstance(ci, (list, tuple)) and len(ci) == 2 and all(finite(c) for c in ci)


def _sig_decimals(a: float, digits: int) -> int:
    """Decimals that give ``a`` (> 0) ``digits`` significant digits."""
    return max(0, digits - 1 - math.floor(math.log10(a)))


MAX_DECIMALS = 6


def decimals(value: float | None, ci: Sequence | None = None, digits: int = 3) -> int | None:
    """The one number of decimals a value and its interval bounds share, chosen once: ``digits`` significant
    digits of the value (without a value, or at 0, of the bound nearest 0 that is not 0), but never more than
    one decimal beyond ``digits`` significant digits of the largest figure (a value near 0 inside a wide
    interval does not drag six decimals onto every bound), and at most six. None when the figures are in the
    millions (they read in words: '3.4 billion') or there is nothing to format.

    56.7 (50.5, 62.0) -> 1; 0.999 (0.998, 1.0) -> 3; -3.27 (-16.3, 9.73) -> 2; no value, (0.998, 1.0) -> 3."""
    nums = [abs(float(x)) for x in ([value] if finite(value) else []) + (list(ci) if _is_interval(ci) else [])]
    if not nums or max(nums) >= 1e6:
        return None
    largest = max(nums)
    if largest == 0:
        return 0
    ref = abs(float(value)) if finite(value) and value != 0 else min(x for x in nums if x > 0)
    return min(_sig_decimals(ref, digits), _sig_decimals(largest, digits) + 1, MAX_DECIMALS)


def fixed(x: float | None, places: int) -> str:
    """``x`` with exactly ``places`` decimals, thousands separators and a true minus: -16.3, 2 -> '−16.30'.
    A value that rounds to zero has no sign."""
    if not finite(x):
        return MISSING
    text = f"{abs(float(x)):,.{places}f}"
    return (MINUS if x < 0 and text.strip("0.,") else "") + text


def estimate(value: float | None, ci: Sequence | None = None, digits: int = 3, *, sign: bool = False) -> str:
    """A value at the decimals it shares with its interval (:func:`decimals`): 62 with (50.5, 70.1) -> '62.0';
    ``sign`` adds '+' to a positive value. Without an interval (or in the millions) it is :func:`number`."""
    places = decimals(value, ci, digits) if _is_interval(ci) else None
    if places is None or not finite(value):
        return signed(value, lambda a: number(a, digits)) if sign else number(value, digits)
    text = fixed(value, places)
    return "+" + text if sign and value > 0 and text.strip("0.,") else text


def with_interval(value: float | None, ci: Sequence | None, digits: int = 3, *, sign: bool = False) -> str:
    """A value and its 95% interval with one number of decimals (:func:`decimals`): '56.7 (50.5–62.0)',
    '0.999 (0.998–1.000)', '−3.27 (−16.30 to 9.73)'; the value alone when there is no interval."""
    text = estimate(value, ci, digits, sign=sign)
    band = interval(ci, value=value, digits=digits) if finite(value) else ""
    return f"{text} ({band})" if band else text


def interval(ci: Sequence | None, fmt: Callable[[float], str] = number, *, value: float | None = None,
             digits: int = 3) -> str:
    """'0.868–0.916'; ' to ' when a bound is negative (so the dash is not read as a minus). Measurements
    (the default ``fmt``) share one number of decimals, with ``value`` when given (:func:`decimals`):
    '50.5–62.0' and, for 56.7, the same. Percent bounds are plain ('0.0%–0.8%', never '< 0.1%–0.8%',
    which reads as a range of its own)."""
    if not _is_interval(ci):
        return ""
    if fmt is number:
        places = decimals(value, ci, digits)
        fmt = (lambda x: fixed(x, places)) if places is not None else (lambda x: number(x, digits))
    if fmt in (pct, percent):
        fmt = _plain_percent
    lo, hi = fmt(ci[0]), fmt(ci[1])
    return f"{lo} to {hi}" if ci[0] < 0 or ci[1] < 0 else f"{lo}–{hi}"


# a weak-segment metric (segments.weak's ``metric``) for people: accuracy in percent, a cost per 1,000
# decisions in the user's own cost units (as the Business threshold page reads it), an error in the target's units
SEGMENT_SCALE = {"accuracy": 100.0, "cost per decision": 1000.0, "mean absolute error": 1.0}
SEGMENT_AXIS = {"accuracy": "Accuracy (%)", "cost per decision": "Cost per 1,000 decisions (your cost units)",
                "mean absolute error": "Mean absolute error (target units)"}


def _scaled(x, k: float):
    return k * x if finite(x) else None


def segment_value(metric: str, v: float | None, *, unit: bool = True, ci: Sequence | None = None) -> str:
    """0.8123 accuracy -> '81.2%'; 0.344 cost per decision -> '344 per 1,000 decisions' (without ``unit``: '344',
    for a tile whose label names the unit); an error -> '1.235'. With ``ci`` (the value's interval) a cost or
    an error has the decimals it shares with its bounds (:func:`decimals`): 12.3 (11.2, 13.5) -> '12.30'."""
    if not finite(v):
        return MISSING
    if metric == "accuracy":
        return pct(v)
    if metric == "cost per decision":
        text = estimate(1000.0 * v, [_scaled(c, 1000.0) for c in ci] if _is_interval(ci) else None)
        return f"{text} per 1,000 decisions" if unit else text
    return estimate(v, ci, 4)


def segment_interval(metric: str, lo: float | None, hi: float | None, *, value: float | None = None) -> str:
    """The 95% interval of a segment metric through :func:`interval` (plain percent bounds, ' to ' across a
    negative bound, the decimals shared with ``value``): '70.1%–80.3%', '300–412 per 1,000 decisions'."""
    if not (finite(lo) and finite(hi)):
        return MISSING
    if metric == "accuracy":
        return interval([lo, hi], pct)
    if metric == "cost per decision":
        return interval([1000.0 * lo, 1000.0 * hi], value=_scaled(value, 1000.0)) + " per 1,000 decisions"
    return interval([lo, hi], value=value, digits=4)


def drop_column_remedy(columns: str, *, vendor: bool, many: bool = False) -> str:
    """What the reviewer can do about columns the model should not use, as one imperative clause.

    With a model file the team can retrain; with a prediction column (a vendor's or a remote model)
    the reviewer cannot, so the remedy is to make sure the model does not use the columns and to
    leave them out of the data. ``columns`` is already formatted ("'a', 'b'")."""
    them = "them" if many else "it"
    if vendor:
        return (f"make sure the model behind the prediction column does not use {columns} (ask its owner), "
                f"exclude {them} from the data, and review again")
    return f"drop {columns} from the features, retrain, and review again"


def basis_text(metrics: dict) -> str | None:
    """'exact on N rows (engine)' or 'sample of n of N rows (engine)' for a check an engine ran
    (its ``metrics.basis``, docs/engines.md); None for a review of files in memory."""
    b = metrics.get("basis") if isinstance(metrics, dict) else None
    if not isinstance(b, dict):
        return None
    if b.get("kind") == "exact":
        return f"exact on {b.get('rows', 0):,} holdout rows ({b.get('engine')})"
    text = f"sample of {b.get('rows', 0):,} of {b.get('of_rows', 0):,} holdout rows ({b.get('engine')})"
    return f"{text}: {b['why']}" if b.get("why") else text  # why a check with an exact path is on the sample


def basis_overview(checks) -> str | None:
    """One sentence for a review an engine ran: which checks rest on every holdout row and which on a
    sample (the checks that ran; skipped ones have no figures). None for a review of files in memory."""
    ran = [c for c in checks if str(getattr(c.status, "value", c.status)) not in ("skipped", "error")]
    bases = [c.metrics.get("basis") for c in ran if isinstance(c.metrics.get("basis"), dict)]
    if not bases:
        return None
    engine = bases[0].get("engine")
    exact = [b for b in bases if b.get("kind") == "exact"]
    sampled = [b for b in bases if b.get("kind") != "exact"]
    rows = max(b.get("of_rows", b.get("rows", 0)) for b in bases)
    text = f"Computed with the {engine} engine: {len(exact)} of {len(bases)} checks exactly on all {rows:,} holdout rows"
    if sampled:
        n = sampled[0].get("rows", 0)
        text += f", {len(sampled)} on a sample of {n:,} of them (each says which under its title)"
    return text + "."
