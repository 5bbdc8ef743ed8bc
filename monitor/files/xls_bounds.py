"""A legacy .xls judged by what it really holds, before calamine reads it: its Workbook stream
taken from the OLE2 sectors, then its BIFF records counted against the budgets of
monitor.files.bounded."""

from __future__ import annotations

import struct
from array import array

from monitor.files.bounded import CELL_CHARS, TEXT_CHARS, Malformed, check_extent, long_cell, too_much_text

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
# BIFF cell records that carry a value (calamine ignores BLANK and MULBLANK): row at 0, column at 2.
_VALUE_CELLS = {0x0006, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6}
_MULRK, _BOF, _EOF, _SST, _CONTINUE, _LABELSST = 0x00BD, 0x0809, 0x000A, 0x00FC, 0x003C, 0x00FD


def _chain(table: list[int], start: int, limit: int) -> list[int]:
    chain: list[int] = []
    sector = start
    while sector not in (_END_OF_CHAIN, _FREE) and len(chain) <= limit:
        if sector >= len(table):
            raise Malformed("sector out of range")
        chain.append(sector)
        sector = table[sector]
    if len(chain) > limit:
        raise Malformed("sector chain loops")
    return chain


def workbook_stream(data: bytes) -> bytes:
    """The Workbook (or Book) stream of an OLE2 compound file; Malformed when the sectors do not add up."""
    if len(data) < 512:
        raise Malformed("short header")
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise Malformed("sector size")
    size = 1 << shift
    n_sectors = (len(data) - 512) // size + 1

    def sector(n: int) -> bytes:
        offset = (n + 1) * size
        if n >= n_sectors or offset >= len(data):
            raise Malformed("sector out of range")
        return data[offset : offset + size]

    first_dir, _, cutoff, first_mini_fat, n_mini_fat, first_difat, n_difat = struct.unpack_from("<IIIIIII", data, 0x30)
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s not in (_FREE, _END_OF_CHAIN)]
    next_difat, seen = first_difat, 0
    while next_difat not in (_FREE, _END_OF_CHAIN) and seen <= n_difat:
        difat = struct.unpack(f"<{size // 4}I", sector(next_difat))
        fat_sectors += [s for s in difat[:-1] if s not in (_FREE, _END_OF_CHAIN)]
        next_difat, seen = difat[-1], seen + 1
    if len(fat_sectors) > n_sectors:
        raise Malformed("FAT larger than the file")
    fat: list[int] = []
    for n in fat_sectors:
        fat += struct.unpack(f"<{size // 4}I", sector(n))

    def read_chain(start: int, length: int) -> bytes:
        body = b"".join(sector(n) for n in _chain(fat, start, n_sectors))
        return body[:length]

    directory = read_chain(first_dir, n_sectors * size)
    entries: list[tuple[str, int, int, int]] = []
    for offset in range(0, len(directory) - 127, 128):
        name_len, kind = struct.unpack_from("<HB", directory, offset + 0x40)
        name = directory[offset : offset + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
        start, length = struct.unpack_from("<IQ", directory, offset + 0x74)
        entries.append((name, kind, start, length if shift == 12 else length & 0xFFFFFFFF))
    if not entries:
        raise Malformed("no directory")
    found = next((e for e in entries if e[1] == 2 and e[0] in ("Workbook", "Book")), None)
    if found is None:
        raise Malformed("no Workbook stream")
    _, _, start, length = found
    if length > len(data):
        raise Malformed("stream longer than the file")
    if length >= cutoff:
        return read_chain(start, length)
    _, _, root_start, root_length = entries[0]
    mini_stream = read_chain(root_start, min(root_length, len(data)))
    mini_fat: list[int] = []
    for n in _chain(fat, first_mini_fat, n_sectors):
        mini_fat += struct.unpack(f"<{size // 4}I", sector(n))
    pieces = [mini_stream[n * 64 : n * 64 + 64] for n in _chain(mini_fat, start, len(mini_fat))]
    return b"".join(pieces)[:length]


def _sst_lengths(records: list[bytes]) -> array:
    """Character count of every string of an SST record and its CONTINUE records."""
    lengths: array = array("I")
    if not records or len(records[0]) < 8:
        return lengths
    (unique,) = struct.unpack_from("<I", records[0], 4)
    part, pos = 0, 8
    data = records[0]

    def advance(n: int) -> None:
        nonlocal part, pos, data
        pos += n
        while pos > len(data) and part + 1 < len(records):
            pos -= len(data)
            part += 1
            data = records[part]

    for _ in range(min(unique, 10_000_000)):
        if pos + 3 > len(data):
            if part + 1 >= len(records):
                break
            part, pos, data = part + 1, 0, records[part + 1]
            continue
        cch, flags = struct.unpack_from("<HB", data, pos)
        pos += 3
        runs = ext = 0
        if flags & 0x08:
            (runs,) = struct.unpack_from("<H", data, pos) if pos + 2 <= len(data) else (0,)
            pos += 2
        if flags & 0x04:
            (ext,) = struct.unpack_from("<I", data, pos) if pos + 4 <= len(data) else (0,)
            pos += 4
        lengths.append(cch)
        left, wide = cch, flags & 0x01
        while left:
            room = (len(data) - pos) // (2 if wide else 1)
            take = min(left, room)
            pos += take * (2 if wide else 1)
            left -= take
            if left:
                if part + 1 >= len(records):
                    return lengths
                part, data = part + 1, records[part + 1]
                wide, pos = data[0] & 0x01 if data else 0, 1
        advance(4 * runs + ext)
    return lengths


def check_xls(data: bytes) -> None:
    """Raise TooLarge when a sheet of the .xls reaches too far or its strings would fill memory."""
    stream = workbook_stream(data)
    pos, sheet, depth = 0, 0, 0
    rows = columns = 0
    text_total = 0
    sst_records: list[bytes] = []
    in_sst = False
    shared = array("I")
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind == _SST:
            sst_records, in_sst = [body], True
            continue
        if kind == _CONTINUE and in_sst:
            sst_records.append(body)
            continue
        if in_sst:
            in_sst = False
            shared = _sst_lengths(sst_records)
            for chars in shared:
                if chars > CELL_CHARS:
                    raise long_cell("共享文字表中")
            sst_records = []
        if kind == _BOF:
            depth += 1
            if depth == 1:
                sheet += 1
                rows = columns = 0
        elif kind == _EOF:
            depth = max(0, depth - 1)
        elif kind in _VALUE_CELLS or kind == _MULRK:
            if len(body) < 6:
                continue
            row, first = struct.unpack_from("<HH", body, 0)
            last = struct.unpack_from("<H", body, len(body) - 2)[0] if kind == _MULRK else first
            if row + 1 > rows or last + 1 > columns:
                rows, columns = max(rows, row + 1), max(columns, last + 1)
                check_extent(f"第 {max(sheet - 1, 1)} 张", rows, columns)
            if kind == _LABELSST:
                (index,) = struct.unpack_from("<I", body, 6) if len(body) >= 10 else (0,)
                text_total += shared[index] if index < len(shared) else 0
            elif kind in (0x0204, 0x00D6):
                text_total += struct.unpack_from("<H", body, 6)[0] if len(body) >= 8 else 0
            if text_total > TEXT_CHARS:
                raise too_much_text(text_total)
