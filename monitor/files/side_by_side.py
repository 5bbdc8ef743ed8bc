"""A sheet printed as several tables side by side (序号 1–8 on the left, 9–15 on the right): each
table's cells, merged ranges and pictures, and the column it starts at. Where each table starts is
decided by monitor.files.layout_blocks from the header row."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from monitor.files.layout import fill_merged
from monitor.files.layout_blocks import block_starts
from monitor.files.layout_header import (
    HEADER_SCAN_ROWS,
    NUMBER_WORDS,
    Column,
    find_header,
    header_token,
    look_up,
    vocabulary,
)
from monitor.files.sources import Picture, RawSheet


@dataclass
class SheetPart:
    """One table of a sheet: its cells, merged ranges and pictures, columns counted from its first."""

    cells: pd.DataFrame | None  # None: the whole sheet
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    pictures: list[Picture]


def side_by_side(source: RawSheet, columns: list[Column], anchors: tuple[str, ...]) -> list[tuple[int, SheetPart]]:
    """(first column, part) of each table of a sheet: one, or several printed side by side."""
    raw = source.cells
    assert raw is not None
    whole = [(0, SheetPart(None, list(source.merged), list(source.pictures)))]
    header_merges = [m for m in source.merged if m[0][0] < HEADER_SCAN_ROWS]
    found = find_header(fill_merged(raw, header_merges), columns, anchors, source.merged)
    if found is None:
        return whole
    lookup = vocabulary(columns)

    def field_of(cell: object) -> str | None:
        column = look_up(lookup, cell)
        return column.key if column is not None else None

    header = fill_merged(raw, header_merges).iloc[found[0][-1]].tolist()
    starts = block_starts(header, field_of=field_of, anchors=anchors, number=lambda c: header_token(c) in NUMBER_WORDS)
    if len(starts) == 1:
        return whole
    bounds = [*starts[1:], raw.shape[1]]
    crossing = [m for m in source.merged if any(m[0][1] < b <= m[1][1] for b in starts[1:])]
    filled = fill_merged(raw, crossing)  # a title merged over both tables belongs to each
    parts = []
    for number, (first, end) in enumerate(zip(starts, bounds, strict=True)):
        last = number == len(starts) - 1
        cells = filled.iloc[:, first:end].copy()
        cells.columns = pd.RangeIndex(end - first)
        merged = [
            ((r0, c0 - first), (r1, c1 - first))
            for (r0, c0), (r1, c1) in source.merged
            if first <= c0 and c1 < end and not any(m == ((r0, c0), (r1, c1)) for m in crossing)
        ]
        pictures = [
            Picture(p.row, p.column - first, p.name, p.data)
            for p in source.pictures
            if first <= p.column and (p.column < end or last)
        ]
        parts.append((first, SheetPart(cells, merged, pictures)))
    return parts
