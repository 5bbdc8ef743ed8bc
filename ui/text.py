"""The one way to show text a person typed: titles, unit names, heads, phones, reasons, replies, notes,
file names, user names, and every message from monitor/ that quotes them.

Such text is shown as typed: never as Markdown or HTML, never able to make the browser fetch anything
or show a link, never turned around by a directional control. Three helpers, by where it goes:

- `md(text)`: inside anything Streamlit reads as Markdown — st.markdown, st.caption, st.warning and the
  other alerts, st.toast, st.badge, labels of expanders, tabs, metrics and widgets, image captions,
  help tooltips. A character that Markdown could read as syntax (``[`` anywhere, ``-`` or ``1.`` at the
  start of a line...) becomes a numeric character reference (``&#91;``), which Markdown shows as the
  character itself and never reads as syntax: nothing extra is seen, no backslashes. What Streamlit
  still finds in the decoded text (a :red or :material/x: directive, an :emoji: shortcode, a plain
  http:// or www. address made a link, " -> " made an arrow) is broken up by a WORD JOINER (U+2060),
  which takes no room and is not seen.
- `clean(text)`: where Streamlit shows text as text — st.text, st.code, select box options, placeholders.
- `table(frame)`: a DataFrame for st.dataframe, every text cell and heading cleaned.
- `chart(frame, column)`: a DataFrame whose column labels a Plotly chart (axis, hover): Plotly reads
  <a href>, <b>, <br> there, so < > & become references it shows as themselves.

All three drop the bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C):
they would reverse or reorder what is shown, even in a table cell, so the characters appear in the
order they were typed.
"""

from __future__ import annotations

import html
import re

import pandas as pd

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))
_ANY_BIDI = re.compile("[" + re.escape("".join(BIDI_CONTROLS)) + "]")
JOINER = "\u2060"  # WORD JOINER: invisible, no break; splits a pattern the Markdown renderer looks for
# Syntax wherever it stands: emphasis, code, links and images, directives' labels and attributes,
# HTML and <autolinks>, tables, strikethrough, maths, escapes and entities themselves.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]{}<|~$&"})
# Syntax only at the start of a line: lists, headings, quotes, setext underlines, breaks, directives.
_LINE_START = re.compile(r"^(\d*)([.)])|^([-+#>=:])", re.MULTILINE)
# What Streamlit's Markdown finds in text after it is decoded, each cut after the match's first part:
_PATTERNS = re.compile(
    r"(?<=:)(?=[a-z])"  # :red, :small, :help directives (even without [...]), :material/x:, :streamlit:
    r"|(?<=:)(?=[\w+\-]+:)"  # :+1:, :100: shortcodes
    r"|(?<=:)(?=//)"  # http://, https:// made links
    r"|(?<=www)(?=\.)"  # www. made links
    r"|(?<=@)(?=[\w\-])",  # someone@example.org made a mailto link
    re.ASCII | re.IGNORECASE,
)
# " -> ", " <- ", " <-> ", " -- ", " >= ", " <= ", " ~= " between spaces become arrows and signs.
_SYMBOLS = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)")
# Two texts side by side (a township and a unit's name) could complete such a pattern across the
# seam: a joiner goes before a text that starts like the rest of one (``smile:``, ``rial/x:``, ``.org``,
# ``x@``, ``>``), and after one that ends in ``:`` or ``@``.
_STARTS = re.compile(r"[\w+\-/]*:|/|w{0,2}\.|[\w.+\-]*@|[\-=>]", re.ASCII | re.IGNORECASE)
_ENDS = re.compile(r"[:@]\Z")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def clean(value: object) -> str:
    """The text without bidirectional controls; None is empty."""
    return "" if value is None else str(value).translate(_BIDI)


def md(value: object) -> str:
    """The text, to be embedded in a string Streamlit reads as Markdown, shown exactly as typed.

    A line break stays a line break; leading spaces cannot start a code block.
    """
    text = _LINE_BREAKS.sub("\n", clean(value))
    if not text:
        return ""
    before = JOINER if _STARTS.match(text) else ""
    after = JOINER if _ENDS.search(text) else ""
    text = _PATTERNS.sub(JOINER, text)
    text = _SYMBOLS.sub(lambda m: JOINER.join(m.group(0)), text)
    text = text.translate(_ENTITIES)
    text = _LINE_START.sub(_reference, text)
    text = _INDENT.sub(lambda m: m.group(0).translate(_WHITESPACE), text)
    return before + text.replace("\n", "  \n") + after


_WHITESPACE = str.maketrans({" ": "&#32;", "\t": "&#9;"})


def _reference(match: re.Match[str]) -> str:
    """The line's first mark as a character reference; the digits of 1. stay as they are."""
    digits, mark = (match.group(1), match.group(2)) if match.group(2) else ("", match.group(3))
    return f"{digits}&#{ord(mark)};"


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every text cell and heading cleaned, for st.dataframe."""
    shown = frame.rename(columns=lambda c: clean(c) if isinstance(c, str) else c)
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column]):
            values = shown[column].tolist()
            # One search of the column's text joined: a province's 30,000 cells cleaned one by one
            # took longer than drawing the page.
            if _ANY_BIDI.search("\n".join(v for v in values if isinstance(v, str))):
                shown[column] = [v.translate(_BIDI) if isinstance(v, str) else v for v in values]
    return shown


def chart(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy of the frame whose columns label a Plotly chart, each value shown as typed."""
    return frame.assign(**{c: frame[c].map(lambda v: html.escape(clean(v), quote=False)) for c in columns})
