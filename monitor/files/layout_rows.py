"""Rows of a sheet that are not activities although they hold text: hidden rows, section headings,
a title or header repeated after a page break (续表), notes merged across the table."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

HIDDEN = "已隐藏的行，未导入（取消隐藏后可重新上传）"
FILTERED = "已隐藏的行（被筛选隐藏），未导入（取消筛选后可重新上传）"
HEADER_AGAIN = "重复的表头（续表），已跳过"
TITLE_AGAIN = "重复的表格标题（续表），已跳过"
SECTION = "分节标题，已跳过"
NOTE = "说明文字，已跳过"
MERGED_TEXT = "整行合并的文字，不是活动，已跳过"

_SECTION = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[)）]|第[一二三四五六七八九十\d]{1,3}[部分节类])"
)
_NOTE = ("注", "备注", "说明", "以下", "以上", "附", "填表说明", "※", "*")
_TITLE_WORDS = ("续表", "台账", "统计表", "情况表", "登记表", "一览表", "明细表", "汇总表")
CONTENT_CHARS = 200


def row_content(cells: list[str]) -> str:
    """A row as a clerk would read it aloud: its filled cells, each once, in order."""
    seen: list[str] = []
    for cell in cells:
        if cell and cell not in seen:
            seen.append(cell)
    text = " | ".join(seen)
    return text if len(text) <= CONTENT_CHARS else text[:CONTENT_CHARS] + "…"


def reason_for(cells: list[str], *, is_header: Callable[[list[str]], bool]) -> str:
    """Why an undated row is not an activity, or "" when it may be one (then it is checked as one).

    cells: the row's text in every column of the table, merged ranges already filled.
    """
    filled = [c for c in cells if c]
    if not filled:
        return ""
    if is_header(cells):
        return HEADER_AGAIN
    distinct = set(filled)
    if len(distinct) != 1:
        return ""
    text = filled[0]
    compact = "".join(text.split())
    if compact.startswith(_NOTE):
        return NOTE
    if any(word in compact for word in _TITLE_WORDS):
        return TITLE_AGAIN
    if _SECTION.match(compact):
        return SECTION
    if len(filled) >= 3:  # one text merged across the row: a heading of some kind, never an activity
        return MERGED_TEXT
    return ""


def set_aside(
    body: pd.DataFrame, rows: pd.Index, *, is_header: Callable[[list[str]], bool], clean: Callable[[object], str]
) -> dict[int, tuple[str, str]]:
    """(reason, content) by row label, for the given rows of body that are not activities."""
    out: dict[int, tuple[str, str]] = {}
    for label in rows:
        cells = [clean(v) for v in body.loc[label].tolist()]
        reason = reason_for(cells, is_header=is_header)
        if reason:
            out[int(label)] = (reason, row_content(cells))
    return out
