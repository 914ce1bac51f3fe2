"""User text never becomes active Markdown in the app (issue 9, item 9).

Column names, category values, file names and the review title are the uploader's text.
Streamlit renders labels, captions, alerts, metric labels, help texts, expander and tab
labels and radio options as Markdown: an image link there makes every viewer's browser fetch
a URL, ``$..$`` becomes KaTeX, ``**..**`` bold, ``:material/..:`` an icon. Here a dataset whose
column names and category values carry such payloads is reviewed (with a model, so every
page has something to show) and every page is rendered through AppTest; every string that
Streamlit renders as Markdown is parsed with an independent parser (markdown-it-py, with
GFM tables/strikethrough and dollar math) and must contain no active payload.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict
from helpers import table
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from streamlit.testing.v1 import AppTest
from test_app import APP, PAGES

from readiness.inputs import Roles, Settings, build_context
from readiness.inputs.models import LoadedModel
from readiness.inputs.tables import sha256_bytes

EVIL = "http://127.0.0.1:9"
C_IMG = f"![pwnimg]({EVIL}/col.png)"
C_HTML = f"<img src={EVIL}/col2.png>"
C_JS = "[pwnlink](javascript:alert(1))"
C_BOLD = "**PWNBOLD**"
C_ICON = ":material/skull: :red[PWNRED]"
C_MATH = "$PWNMATH$"
SENSITIVE = "grp $PWNSENS$"
GROUPS = [f"![pwng]({EVIL}/grp.png)", f"<img src={EVIL}/grp2.png>", "**PWNGRP**", "$PWNGM$ :material/skull:"]
CATEGORIES = [f"![pwnc]({EVIL}/cat.png)", "[pwnc](javascript:alert(2))", "__PWNCAT__", "x"]
TITLE = f"Review of ![pwnt]({EVIL}/title.png) **PWNTITLE**"
FILE = f"![pwnf]({EVIL}/file.png).csv"
MARKERS = ("PWN", "skull", "javascript", "127.0.0.1:9")


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({
        C_IMG: y + rng.normal(0, 0.05, n),                        # leaks the target
        C_HTML: rng.normal(0, 1, n) + 0.8 * y,
        C_JS: np.where(rng.random(n) < 0.1, -999.0, rng.normal(5, 1, n)),  # disguised missing values
        C_BOLD: rng.choice(CATEGORIES, n),
        C_ICON: rng.normal(0, 1, n),
        C_MATH: rng.integers(0, 50, n).astype(float),
        SENSITIVE: rng.choice(GROUPS, n),
        "default": y,
    })


@pytest.fixture(scope="module")
def payload_state():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from pages._ui import AppState

    train, test = _frame(600, 1), _frame(400, 2)
    features = [c for c in train.columns if c != "default"]
    cats = [C_BOLD, SENSITIVE]
    model = Pipeline([("pre", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), cats)],
                                                remainder="passthrough")),
                      ("clf", LogisticRegression(max_iter=500))]).fit(train[features], train["default"])
    raw = repr(model).encode()
    loaded = LoadedModel(estimator=model, name=f"![pwnm]({EVIL}/model.png).skops", sha256=sha256_bytes(raw),
                         size_bytes=len(raw), format="skops")
    ctx = build_context(train=table(train, "train", name=FILE), test=table(test, "test", name=FILE),
                        roles=Roles(target="default", positive_label=1, sensitive=[SENSITIVE]), model=loaded,
                        settings=Settings(target_accuracy=0.9, cost_fp=1, cost_fn=5))
    return lambda: AppState(ctx=ctx, title=TITLE, is_sample=False)


# --- what Streamlit renders as Markdown ----------------------------------------------------------

# element type -> the proto fields Streamlit renders as Markdown
MARKDOWN_FIELDS = {
    "markdown": ("body",), "heading": ("body",), "alert": ("body",), "metric": ("label", "help"),
    "radio": ("label", "options", "help"), "checkbox": ("label", "help"), "button": ("label", "help"),
    "download_button": ("label", "help"), "selectbox": ("label", "help"), "multiselect": ("label", "help"),
    "text_input": ("label", "help"), "number_input": ("label", "help"), "text_area": ("label", "help"),
    "slider": ("label", "help"), "file_uploader": ("label", "help"), "page_link": ("label", "help"),
    "toast": ("body",), "segmented_control": ("label", "options", "help"), "button_group": ("label", "options"),
}
BLOCK_FIELDS = (("expandable", "label"), ("tab", "label"))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for key in ("content", "label", "markdown"):  # button_group options are {content: ...}
            if key in value:
                yield from _strings(value[key])


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element type, text) for every string the page renders as Markdown."""
    out: list[tuple[str, str]] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            d = MessageToDict(proto, preserving_proto_field_name=True)
            kind = proto.DESCRIPTOR.name
            if kind == "Block":
                for block, field in BLOCK_FIELDS:
                    if block in d:
                        out.extend((block, t) for t in _strings(d[block].get(field)))
            else:
                ty = _element_type(proto)
                for field in MARKDOWN_FIELDS.get(ty, ()):
                    out.extend((ty, t) for t in _strings(d.get(field)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


_TYPE_BY_PROTO = {"Markdown": "markdown", "Heading": "heading", "Alert": "alert", "Metric": "metric",
                  "Radio": "radio", "Checkbox": "checkbox", "Button": "button", "DownloadButton": "download_button",
                  "Selectbox": "selectbox", "MultiSelect": "multiselect", "TextInput": "text_input",
                  "NumberInput": "number_input", "TextArea": "text_area", "Slider": "slider",
                  "FileUploader": "file_uploader", "PageLink": "page_link", "Toast": "toast",
                  "ButtonGroup": "button_group"}


def _element_type(proto) -> str:
    return _TYPE_BY_PROTO.get(proto.DESCRIPTOR.name, proto.DESCRIPTOR.name)


_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(dollarmath_plugin)
_MD.validateLink = lambda url: True  # see javascript: links too (Streamlit would neutralise them to '#')
_ICON = re.compile(r":material/skull:")  # Streamlit draws icons from the unescaped text
_COLOR = re.compile(r"(?<!\\):red\[PWN")  # colour directives are parsed from the source


def active_payloads(text: str) -> list[str]:
    """What in ``text`` would render as something other than the payload's own characters."""
    found = []

    def walk(tokens):
        for t in tokens:
            if t.type == "image":
                found.append(f"image {t.attrs.get('src')}")
            elif t.type == "link_open" and any(m in str(t.attrs.get("href")) for m in MARKERS):
                found.append(f"link {t.attrs.get('href')}")
            elif t.type in ("html_inline", "html_block") and "<img" in t.content:
                found.append(f"html {t.content}")
            elif t.type.startswith("math") and any(m in t.content for m in MARKERS):
                found.append(f"math {t.content}")
            elif t.type == "text" and _ICON.search(t.content):
                found.append(f"icon {t.content}")
            if t.children:
                walk(t.children)

    tokens = _MD.parse(text)
    for t in tokens:
        if t.type == "inline":
            walk(t.children)
            if _COLOR.search(t.content):
                found.append(f"colour {t.content}")
            shown = "".join(c.content for c in t.children if c.type in ("text", "code_inline"))
            for literal in EMPHASIS:  # **x** must show its asterisks, not turn bold
                if literal.strip("*_") in shown and literal not in shown:
                    found.append(f"emphasis {literal}")
        else:
            walk([t])
    return found


EMPHASIS = ("**PWNBOLD**", "**PWNGRP**", "__PWNCAT__", "**PWNTITLE**")


def test_the_checker_sees_each_payload_unescaped_and_nothing_once_escaped():
    """The checker itself: every raw payload is caught; the same text escaped is clean."""
    from pages._ui import esc

    for raw in [C_IMG, C_HTML, C_JS, C_BOLD, C_ICON, C_MATH, *GROUPS, CATEGORIES[0], CATEGORIES[1], "__PWNCAT__",
                TITLE, FILE]:
        assert active_payloads(f"Column '{raw}' leaks"), raw
        assert not active_payloads(f"Column '{esc(raw)}' leaks"), (raw, esc(raw))
    assert active_payloads(f"**{esc(C_BOLD)}**") == []  # our own bold around escaped text is fine


def test_esc_keeps_plain_text_readable():
    from pages._ui import esc

    assert esc("employment years") == "employment years"
    assert esc("a\nb") == "a b"
    assert esc("income_band") == "income_band"  # intraword: never emphasis
    assert esc("default = 1 (k€), 5.0%") == "default = 1 (k€), 5.0%"
    assert esc("missing ['income']; extra ['salary'].") == "missing ['income']; extra ['salary']."
    for text in ["income_band (k€) #1", "# not a heading", "1. not a list", "- nor this", "> nor a quote",
                 "_a_ *b* `c` ~d~ $e$ <f> [g](h)", "back\\slash"]:
        html = MarkdownIt("commonmark").enable("strikethrough").render(esc(text))
        assert html.strip() == f"<p>{text.replace('<', '&lt;').replace('>', '&gt;')}</p>", text


def _leaks(at) -> list:
    texts = markdown_texts(at)
    assert any(ty == "heading" for ty, _ in texts), "the checker found no markdown at all"
    return [(ty, text[:160], hits) for ty, text in texts if (hits := active_payloads(text))]


def test_no_payload_is_active_on_any_page(payload_state):
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["readiness_review"] = payload_state()
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        leaks = _leaks(at)
        assert not leaks, page + "\n" + "\n".join(map(str, leaks))


def test_uploaded_file_names_and_refusals_are_inert():
    """Setup echoes file names (and refusals quote them): a payload in the name stays text."""
    from helpers import csv_bytes

    at = AppTest.from_file(APP, default_timeout=240).run()
    at.switch_page("pages/setup.py").run()
    ups = {u.label.split(" (")[0]: u for u in at.get("file_uploader")}
    next(u for k, u in ups.items() if k.startswith("Training")).set_value((FILE, csv_bytes(_frame(200, 3)), "text/csv"))
    at.run()
    next(u for u in at.get("file_uploader") if u.label.startswith("Holdout")).set_value((FILE, b"", "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(t for _, t in markdown_texts(at))
    assert "pwnf" in shown, "the file name is not shown at all: the test would prove nothing"
    assert [e for e in at.error if "pwnf" in e.value], "the refusal of the empty file does not name it"
    leaks = _leaks(at)
    assert not leaks, "\n".join(map(str, leaks))
