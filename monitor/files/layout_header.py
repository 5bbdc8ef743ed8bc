"""A table's header: the fields a file may hold (Column), how a header cell written by a clerk or an
online form is matched to one, and which of a sheet's first rows are its header (one row or two)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from monitor.core.normalize import CONTROL_CHARS, clean, parse_date

HEADER_SCAN_ROWS = 20
NUMBER_WORDS = ("序号", "编号", "no", "no.")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False


def header_token(text: object) -> str:
    """The form of a header that is looked up: NFKC, no spaces or line breaks, no colon, case folded."""
    token = CONTROL_CHARS.sub("", unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", ""))
    return re.sub(r"\s+", "", token).rstrip(":").casefold()


def header_text(value: object) -> str:
    """A header as the clerk wrote it, on one line: no BOM, control characters, line breaks or colon."""
    text = re.sub(r"[\r\n]+", "", str(value or "")).replace("\ufeff", "")
    text = re.sub(r"\s+", " ", CONTROL_CHARS.sub("", text)).strip().rstrip(":：").rstrip()
    return text if len(text) <= 30 else text[:30] + "…"


# Online forms (问卷星, 腾讯文档, 金数据) number their questions and mark the required ones:
# "3、活动时间：", "Q3.活动时间", "（3）活动时间", "*活动时间", "活动时间（必填）".
_QUESTION_NUMBER = re.compile(r"^(?:q?\d{1,3}\s*[、.．:)]|\(\d{1,3}\)|第\d{1,3}题[、.:]?)")
_TRAILING_NOTE = re.compile(r"^(.+?)\((?:必填|选填|自动|[^()]{1,8})\)$")
# Columns the form system adds to every submission: known, never the activity's date, not activities' data.
FORM_SYSTEM_WORDS = frozenset(
    header_token(word)
    for word in (
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "来自ip",
        "IP",
        "IP地址",
        "提交者",
        "提交时间",
        "提交者（自动）",
        "提交时间（自动）",
        "更新时间（自动）",
        "填写设备",
        "开始答题时间",
        "结束答题时间",
        "答题时长",
        "微信昵称",
        "总分",
        "填写人",
        "填写时间",
        "提交人",
        "修改时间",
    )
)


def header_forms(text: object) -> list[str]:
    """The token of a header, then the same without a form's question number, required mark or
    trailing bracketed note (参加人数（人）), each looked up in turn."""
    token = header_token(text)
    forms = [token]
    bare = _QUESTION_NUMBER.sub("", token).strip("*").removesuffix("(必填)")
    bare = bare.strip("*")
    if bare and bare != token:
        forms.append(bare)
    note = _TRAILING_NOTE.match(bare or token)
    if note:
        forms.append(note.group(1))
    return forms


def look_up(lookup: dict[str, Column], text: object) -> Column | None:
    for form in header_forms(text):
        found = lookup.get(form)
        if found is not None:
            return found
    return None


def is_form_system(text: object) -> bool:
    return any(form in FORM_SYSTEM_WORDS for form in header_forms(text))


def vocabulary(columns: Sequence[Column]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, column.key, *column.aliases):
            lookup.setdefault(header_token(name), column)
    return lookup


def _match_row(cells: list[object], lookup: dict[str, Column]) -> dict[int, Column]:
    matched: dict[int, Column] = {}
    for j, cell in enumerate(cells):
        found = look_up(lookup, cell)
        if found is not None and found not in matched.values():
            matched[j] = found
    return matched


def _is_date(value: object) -> bool:
    text = clean(value)
    return bool(text) and parse_date(text) is not None


def find_header(
    raw: pd.DataFrame,
    columns: Sequence[Column],
    anchors: tuple[str, ...],
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> tuple[list[int], dict[int, Column], dict[int, str]] | None:
    """(header rows, column -> field, column -> header as written) or None when the sheet holds no table.

    The header is the row among the first ones that names the most fields (two at least, one of
    them an anchor such as the date or the title). A second row right under it is part of the
    header when it only holds sub-headings (群众 / 志愿者 under a merged 参与人数) and no date.
    """
    lookup = vocabulary(columns)
    best, best_matched = -1, dict[int, Column]()
    for i in range(min(HEADER_SCAN_ROWS, len(raw))):
        matched = _match_row(raw.iloc[i].tolist(), lookup)
        if len(matched) >= 2 and any(c.key in anchors for c in matched.values()) and len(matched) > len(best_matched):
            best, best_matched = i, matched
    if best < 0:
        return None
    if best > 0 and any(r0 == best - 1 and r1 == best for (r0, _c0), (r1, _c1) in merged):
        # The row found holds the sub-headings; the one above, merged down onto it, is the header's top.
        up, own = raw.iloc[best - 1].tolist(), raw.iloc[best].tolist()
        labels = {}
        for j in range(len(own)):
            top, sub = header_text(up[j]), header_text(own[j])
            text = sub if not top or top == sub else (top if not sub else f"{top}/{sub}")
            if text:
                labels[j] = text
        return [best - 1, best], best_matched, labels
    parent = raw.iloc[best].tolist()
    rows = [best]
    labels = {j: header_text(v) for j, v in enumerate(parent) if header_text(v)}
    if best + 1 < len(raw):
        child = raw.iloc[best + 1].tolist()
        filled = [j for j, v in enumerate(child) if clean(v)]
        if filled and not any(_is_date(child[j]) for j in filled):
            # Every word of the row under it is a heading of its own: 群众, 志愿者.
            if all(look_up(lookup, child[j]) is not None for j in filled):
                rows.append(best + 1)
                combined: dict[int, Column] = {}
                for j in range(len(parent)):
                    own = header_text(child[j]) if j in filled else ""
                    up = header_text(parent[j])
                    found = (look_up(lookup, own) if own else None) or look_up(lookup, up + own)
                    if found is None and not own:
                        found = look_up(lookup, up)
                    if found is not None and found not in combined.values():
                        combined[j] = found
                    if own or up:
                        labels[j] = f"{up}/{own}" if own and up and own != up else (own or up)
                best_matched = combined
    return rows, best_matched, labels
