"""The rows of a legacy .xls a person cannot see (hidden by hand or by a filter), read from its BIFF
records: calamine reads the cells only. WPS and older offices still write .xls."""

from __future__ import annotations

import struct

from monitor.files.bounded import Malformed
from monitor.files.sheet_extras import SheetExtras
from monitor.files.xls_bounds import workbook_stream

_BOF, _EOF, _BOUNDSHEET, _ROW = 0x0809, 0x000A, 0x0085, 0x0208
_FILTER_RECORDS = {0x009D, 0x009B}  # AUTOFILTERINFO, FILTERMODE
_HIDDEN = 0x0020  # ROW.grbit fDyZero: the row's height is zero
MAX_HIDDEN = 1_048_576


def xls_extras(data: bytes) -> dict[str, SheetExtras]:
    """Hidden rows (0-based, as calamine numbers them) and whether a filter is set, by sheet name.
    A workbook whose records cannot be followed gives nothing: its cells are still read."""
    try:
        stream = workbook_stream(data)
    except (Malformed, struct.error, ValueError):
        return {}
    names = _sheet_offsets(stream)
    out: dict[str, SheetExtras] = {}
    current: SheetExtras | None = None
    depth = 0
    pos = 0
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        if kind == _BOF:
            depth += 1
            if depth == 1:
                name = names.get(pos)
                current = out.setdefault(name, SheetExtras()) if name is not None else None
        elif kind == _EOF:
            depth = max(0, depth - 1)
            if depth == 0:
                current = None
        elif current is not None and depth == 1:
            if kind == _ROW and len(body) >= 14:
                (row,) = struct.unpack_from("<H", body, 0)
                (flags,) = struct.unpack_from("<H", body, 12)
                if flags & _HIDDEN and len(current.hidden_rows) < MAX_HIDDEN:
                    current.hidden_rows.add(row)
            elif kind in _FILTER_RECORDS:
                current.filtered = True
        pos += 4 + length
    return out


def _sheet_offsets(stream: bytes) -> dict[int, str]:
    """Stream offset of each sheet's BOF -> the sheet's name (BOUNDSHEET records of the globals)."""
    offsets: dict[int, str] = {}
    pos = 0
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind == _EOF:
            break  # the end of the globals: sheets follow
        if kind != _BOUNDSHEET or len(body) < 8:
            continue
        (offset,) = struct.unpack_from("<I", body, 0)
        chars, wide = body[6], body[7] & 0x01
        raw = body[8 : 8 + chars * (2 if wide else 1)]
        offsets[offset] = raw.decode("utf-16-le" if wide else "latin-1", "replace")
    return offsets
