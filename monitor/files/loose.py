"""Cells read as a person writes them: optional counts that never cost an activity (30余人, 全体党员)
and dates typed with words around them (6月3日上午, 2026.10.9-10.10, 26日). What was read, and the
text as written, are kept: the preview lists them and the activity stores the text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from monitor.core.issues import Code, Issue, issue
from monitor.core.normalize import map_unique_parts
from monitor.files.cells import DateRead, read_count

EXAMPLES = 5  # values a warning quotes


@dataclass
class Loose:
    """What was read loosely: the text as written by row, and the lines 识别结果 lists."""

    written: dict[int, dict[str, str]] = field(default_factory=dict)  # row -> {header as written: text}
    as_typed: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, column, text, read as)

    def keep(self, row: int, column: str, text: str, read: str) -> None:
        self.written.setdefault(int(row), {})[column] = text
        self.as_typed.append((int(row), column, text, read))

    def column(self, rows: pd.Index) -> pd.Series | None:
        """The as_written JSON of each accepted row, or None when no row has any."""
        if not self.written:
            return None
        texts = {row: json.dumps(cells, ensure_ascii=False) for row, cells in self.written.items()}
        return pd.Series([texts.get(int(row), "") for row in rows], index=rows, dtype=object)


def read_counts(column: pd.Series, header: str, loose: Loose) -> tuple[pd.Series, Issue | None]:
    """A count column as numbers (None where there is none) and one warning for the column when any
    cell was read from words or could not be read. Decided once per distinct text."""
    codes, (values, exact) = map_unique_parts(column, read_count, 2)
    counts = pd.Series(values[codes], index=column.index, dtype=object)
    loose_rows = pd.Series(~exact.astype(bool)[codes], index=column.index)
    if not loose_rows.any():
        return counts, None
    seen: dict[str, str] = {}
    for row in column.index[loose_rows]:
        text = column.at[row]
        value = counts.at[row]
        read = "（空）" if value is None else str(value)
        loose.keep(row, header, text, read)
        seen.setdefault(text, read)
    examples = "、".join(f"{text}→{read}" for text, read in list(seen.items())[:EXAMPLES])
    more = f"等 {len(seen)} 种写法" if len(seen) > EXAMPLES else ""
    first = int(column.index[loose_rows][0])
    warning = issue(
        Code.LOOSE_NUMBER, first, header, str(column.at[first]), count=int(loose_rows.sum()), examples=examples + more
    )
    return counts, warning


@dataclass(frozen=True)
class Context:
    year: int | None
    month: int | None


def typed_date(read: DateRead, context: Context, earlier: date | None) -> tuple[int | None, int | None, str]:
    """(year, month, where they came from) of a date typed without them: the cell, the title, sheet or
    file name (context), else the activity above it (earlier)."""
    if read.month is None:  # a day alone: year and month from the title, else from the row above
        if context.year and context.month:
            return context.year, context.month, "context"
        if earlier is not None:
            return earlier.year, earlier.month, "earlier"
        return None, None, ""
    if read.year is None:
        if context.year:
            return context.year, read.month, "context"
        return (earlier.year, read.month, "earlier") if earlier is not None else (None, read.month, "")
    return read.year, read.month, "cell"


def cut_texts(column: pd.Series, header: str, limit: int, loose: Loose) -> tuple[pd.Series, Issue | None]:
    """An optional text column kept up to `limit` characters; the rows cut keep their whole text as
    written, and the column gives one warning."""
    long = column.str.len() > limit
    if not long.any():
        return column, None
    for row in column.index[long]:
        loose.keep(row, header, column.at[row], f"前 {limit} 字")
    first = int(column.index[long][0])
    warning = issue(Code.CUT_TEXT, first, header, str(column.at[first]), count=int(long.sum()), limit=limit)
    return column.where(~long, column.str.slice(0, limit)), warning
