"""A ledger printed as two tables side by side (序号 1–8 on the left, 9–15 on the right, the header
repeated over each half) is two tables: where the second one begins."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Lookup = Callable[[object], object]


def block_starts(
    header: Sequence[object],
    *,
    field_of: Callable[[object], str | None],
    anchors: Sequence[str],
    number: Callable[[object], bool],
) -> list[int]:
    """The columns where a header row starts over: 0, then each column at which at least two of the
    fields already named (one of them a date or title) are named again. A 序号 column just before
    a new start belongs to the new table."""
    starts = [0]
    seen: set[str] = set()
    for j, cell in enumerate(header):
        key = field_of(cell)
        if key is None:
            continue
        if key in seen:
            again = {field_of(c) for c in header[j:]} & seen
            if len(again) >= 2 and again & set(anchors):
                start = j - 1 if j - 1 > starts[-1] and number(header[j - 1]) else j
                starts.append(start)
                seen = set()
        seen.add(key)
    return starts
