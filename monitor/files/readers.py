"""Bytes -> a table of cleaned text cells: format and encoding detection, header aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from monitor.core.config import Settings
from monitor.files.csv_text import csv_rows, decode_text
from monitor.files.layout import SKIPPED_SHEET_WORDS, SheetTable, read_sheet
from monitor.files.layout_header import Column, header_text
from monitor.files.side_by_side import side_by_side
from monitor.files.sources import FileError, Picture, RawSheet, detect_format, word_sheets, workbook_sheets

__all__ = ["FileError", "Reading", "Table", "detect_format", "read_table"]

DEFAULT_LIMIT_BYTES = Settings.upload_limit_mb * 1024 * 1024
SHEET_STRIDE = 10_000_000  # row ids of a workbook with several sheets: sheet number × this + row


@dataclass
class Reading:
    """How a file was read: the sheets used and skipped, headers, rows set aside, context found."""

    format: str
    encoding: str | None
    sheets: list[SheetTable]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    context: dict[str, object] = field(default_factory=dict)  # year, month, town and where each came from
    # cells read as a person wrote them: {"sheet", "row", "column", "value", "read"}
    as_typed: list[dict[str, object]] = field(default_factory=list)
    photos: dict[str, int] | None = None  # pictures inside the file, and the activities they sit on

    def to_json(self, labels: dict[str, str]) -> dict[str, object]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "sheets": [
                {
                    "name": sheet.name,
                    "block": sheet.block,
                    "header_rows": sheet.header_rows,
                    "columns": [
                        {"header": written, "field": labels.get(key, key)}
                        for key, written in sheet.headers.items()
                        if key in sheet.mapped
                    ],
                    "unmapped": sheet.unmapped,
                    "unit_from_sheet": sheet.unit_from_sheet,
                    "rows": len(sheet.frame),
                    "filled_from_merged": {labels.get(k, k): n for k, n in sheet.filled.items()},
                    "unused": sheet.unused,
                }
                for sheet in self.sheets
            ],
            "skipped_sheets": [{"name": name, "reason": reason} for name, reason in self.skipped_sheets],
            "skipped_rows": [
                {"sheet": sheet.label, "row": row, "reason": reason}
                | ({"content": sheet.contents[row]} if row in sheet.contents else {})
                for sheet in self.sheets
                for row, reason in sheet.skipped
            ],
            "context": self.context,
            "as_typed": self.as_typed,
            "photos": self.photos,
        }


@dataclass
class Table:
    """Data rows as text, one column per known key, indexed by a row id: the row number Excel shows
    for a file of one sheet, sheet number × SHEET_STRIDE + row for several (see locate)."""

    frame: pd.DataFrame
    headers: dict[str, str]
    format: str
    encoding: str | None
    header_row: int
    skipped: list[tuple[int, str]] = field(default_factory=list)
    reading: Reading | None = None
    sheet_of_row: pd.Series | None = None  # row id -> sheet number, when several sheets are read
    pictures: dict[int, list[tuple[str, bytes]]] = field(default_factory=dict)  # row id -> (name, data)
    pictures_found: int = 0  # pictures inside the file, on activity rows or not

    def locate(self, row_id: int) -> tuple[str, int]:
        """(sheet name, row number as Excel shows it) of a row id; the sheet is "" for a CSV."""
        sheets = self.reading.sheets if self.reading else []
        if len(sheets) > 1:
            return sheets[row_id // SHEET_STRIDE].label, row_id % SHEET_STRIDE
        return (sheets[0].label if sheets else ""), row_id


def read_table(
    data: bytes,
    columns: list[Column],
    *,
    preferred_sheet: str = "",
    one_of: tuple[str, ...] = (),
    anchors: tuple[str, ...] = ("date", "title"),
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    file_name: str = "",
    picture_limit_bytes: int = Settings.photo_limit_mb * 1024 * 1024,
) -> Table:
    """Read CSV/TXT/XLSX/XLS/ODS/DOCX bytes into a Table of cleaned text cells keyed by column key.

    Every sheet that holds a table is read (a sheet of explanations is skipped and named); the
    table may start below title rows and have a header over two rows; merged cells are filled;
    a second table printed to the right of the first is read too; rows that are not activities,
    and rows a person cannot see, are set aside with a reason. A workbook with a sheet named
    preferred_sheet reads that sheet only. With one_of, a sheet without any of those columns
    takes its unit from the sheet's name. Pictures pasted over a row are kept by row.

    A file above limit_bytes, or a workbook that would not fit in memory once read (see
    monitor.files.bounded), is refused as too_large before anything is parsed.
    """
    if len(data) > limit_bytes:  # a path is read only one byte past the limit: no size to tell beyond it
        limit = f"{limit_bytes / 1048576:g}"
        raise FileError("too_large", f"文件超过上限 {limit} MB：请按月或按乡镇拆分后上传。")
    if not data.strip():
        raise FileError("empty_file", "文件是空的。")
    fmt = detect_format(data)
    encoding = None
    if fmt == "csv":
        sources, encoding = _csv_sheets(data)
    elif fmt == "docx":
        sources = word_sheets(
            data, columns, file_name=file_name, limit_bytes=limit_bytes, picture_limit_bytes=picture_limit_bytes
        )
    else:
        sources = workbook_sheets(data, fmt, limit_bytes=limit_bytes, picture_limit_bytes=picture_limit_bytes)
        if preferred_sheet and any(source.name == preferred_sheet for source in sources):
            sources = [source for source in sources if source.name == preferred_sheet]
    if all(source.cells is None or source.cells.empty for source in sources):
        raise FileError("empty_file", "文件是空的。")

    fields = _Fields(columns, one_of, anchors)
    found = _sort_sheets(sources, fields)
    if not found.used:
        raise _refusal(found, [source.name for source in sources], fields, fmt)
    rows = _rows(found.used)
    if rows.frame.empty:
        raise _nothing_to_import(rows.skipped)
    reading = Reading(format=fmt, encoding=encoding, sheets=found.used, skipped_sheets=found.skipped)
    return Table(
        frame=rows.frame,
        headers=_headers(found.used, columns),
        format=fmt,
        encoding=encoding,
        header_row=found.used[0].header_rows[-1],
        skipped=[(row, reason) for row, reason in rows.skipped if not reason.startswith("空行")],
        reading=reading,
        sheet_of_row=rows.sheet_of_row,
        pictures=_placed_pictures(found.used, found.pictures),
        pictures_found=sum(len(p) for p in found.pictures),
    )


def _csv_sheets(data: bytes) -> tuple[list[RawSheet], str]:
    """A CSV file as one sheet without a name, and the encoding it was read in."""
    text, encoding = decode_text(data)
    # A UTF-8 file is parsed from its own bytes (after the mark): encoding the text again would
    # copy a large file once more.
    utf8 = data if encoding == "utf-8" else data[3:] if encoding == "utf-8-sig" else None
    return [RawSheet("", csv_rows(text, utf8))], encoding


# ------------------------------------------------------------------------------------- sheets


class _Fields(NamedTuple):
    """What every sheet is read for: the known columns, the unit columns of which one will do, the
    header's anchors."""

    columns: list[Column]
    one_of: tuple[str, ...]
    anchors: tuple[str, ...]


@dataclass
class _Sorted:
    """The sheets of a file sorted: tables used (with their pictures), sheets skipped with a reason,
    and sheets refused with the required columns they lack."""

    used: list[SheetTable] = field(default_factory=list)
    pictures: list[list[Picture]] = field(default_factory=list)  # by sheet of `used`
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[pd.DataFrame, SheetTable | None, list[Column]]] = field(default_factory=list)


def _sort_sheets(sources: list[RawSheet], fields: _Fields) -> _Sorted:
    """Every sheet read, skipped (hidden, named as no ledger, no table) or refused (a column missing)."""
    out = _Sorted()
    for source in sources:
        name, raw = source.name, source.cells
        if raw is None:
            out.skipped.append((name, "隐藏的工作表"))
            continue
        reason = _skip_reason(name) if len(sources) > 1 else ""
        if reason:
            out.skipped.append((name, reason))
            continue
        found = _read_tables(source, raw, fields)
        sheet = found[0][0]
        if sheet is None:
            if not raw.empty and len(sources) > 1:
                out.skipped.append((name, "没有找到表头（不是活动表格）" if (raw != "").any().any() else "空工作表"))
            out.refused.append((raw, None, [c for c in fields.columns if c.required]))
            continue
        missing = _missing(sheet, fields.columns, fields.one_of)
        if missing:
            out.skipped.append((name, "缺少必填列：" + "、".join(c.header for c in missing)))
            out.refused.append((raw, sheet, missing))
            continue
        for part_sheet, part_pictures in found:
            if part_sheet is not None and not _missing(part_sheet, fields.columns, fields.one_of):
                out.used.append(part_sheet)
                out.pictures.append(part_pictures)
    return out


def _read_tables(source: RawSheet, raw: pd.DataFrame, fields: _Fields) -> list[tuple[SheetTable | None, list[Picture]]]:
    """(table or None, pictures) of each table of a sheet: one, or several printed side by side."""
    return [
        (
            read_sheet(
                part.cells if part.cells is not None else raw,
                name=source.name,
                columns=fields.columns,
                anchors=fields.anchors,
                unit_keys=fields.one_of,
                merged=part.merged,
                hidden_rows=source.hidden_rows,
                filtered=source.filtered,
                preface=source.preface,
                block=block,
                first_column=first,
            ),
            part.pictures,
        )
        for block, (first, part) in enumerate(side_by_side(source, fields.columns, fields.anchors))
    ]


def _skip_reason(name: str) -> str:
    for word in SKIPPED_SHEET_WORDS:
        if word in name:
            return f"工作表名含“{word}”，不是活动台账"
    return ""


def _missing(sheet: SheetTable, columns: list[Column], one_of: tuple[str, ...]) -> list[Column]:
    missing = [c for c in columns if c.required and c.key not in sheet.mapped]
    if one_of and not sheet.unit_from_sheet and not sheet.mapped.intersection(one_of):
        missing += [c for c in columns if c.key in one_of][:1]
    return missing


def _missing_message(
    sheet: SheetTable, missing: list[Column], columns: list[Column], one_of: tuple[str, ...], others: list[str]
) -> str:
    """What is missing (code or name: either will do), the columns the file has, the other sheets."""
    seen = [*_written(sheet), *sheet.unmapped]
    if len(seen) > 20:
        seen = [*seen[:20], f"等共 {len(seen)} 列"]
    names = []
    for column in missing:
        if column.key in one_of:
            names.append("、".join(c.header for c in columns if c.key in one_of) + "（填一项即可）")
        else:
            names.append(column.header)
    text = "缺少必填列：" + "；".join(names) + "。"
    text += "文件中的列为：" + ("、".join(seen) if seen else "（未找到列名）") + "；"
    text += "应有的列为：" + "、".join(c.header for c in columns) + "。"
    if others:
        text += "文件中另有工作表：" + "、".join(others[:10]) + "。"
    return text


def _written(sheet: SheetTable) -> list[str]:
    return [sheet.headers[k] for k in sheet.headers if k in sheet.mapped]


def _refusal(found: _Sorted, names: list[str], fields: _Fields, fmt: str) -> FileError:
    """Why no sheet gave a table: the first refused has no header, or lacks required columns."""
    raw, sheet, missing = found.refused[0] if found.refused else (pd.DataFrame(), None, [])
    others = [n for n in names if n != (sheet.name if sheet else names[0])]
    if sheet is None:
        seen = [header_text(v) for v in (raw.iloc[0].tolist() if len(raw) else []) if header_text(v)][:20]
        return FileError(
            "no_header",
            ("这是一个 Word 文档，其中的表格都没有活动台账的表头：" if fmt == "docx" else "没有找到表头行：")
            + "表格应有一行列名，至少包括 "
            + "、".join(c.header for c in fields.columns if c.required or c.key in fields.one_of)
            + "中的两项。"
            + ("第一行为：" + "、".join(seen) + "。" if seen else "")
            + (f"已查看的工作表：{'、'.join(n for n in names if n)}。" if any(names) else ""),
        )
    return FileError("missing_column", _missing_message(sheet, missing, fields.columns, fields.one_of, others))


# --------------------------------------------------------------------------------------- rows


def _headers(used: list[SheetTable], columns: list[Column]) -> dict[str, str]:
    """Each field's header as the first sheet that has it wrote it, else the field's own header."""
    headers: dict[str, str] = {}
    for sheet in used:
        for key, written in sheet.headers.items():
            if key in sheet.mapped:
                headers.setdefault(key, written)
    for column in columns:
        headers.setdefault(column.key, column.header)
    return headers


class _Rows(NamedTuple):
    frame: pd.DataFrame  # the rows of every table used by row id, with its sheet number (_sheet)
    skipped: list[tuple[int, str]]  # (row id, reason) of the rows set aside
    sheet_of_row: pd.Series | None  # row id -> sheet number, when several sheets are read


def _rows(used: list[SheetTable]) -> _Rows:
    """The tables used as one frame, by row id: the row Excel shows, or sheet number × SHEET_STRIDE + row."""
    if len(used) == 1:
        frame = used[0].frame
        rows_skipped = list(used[0].skipped)
        sheet_of_row = None
    else:
        parts = []
        for number, sheet in enumerate(used):
            part = sheet.frame.copy()
            part.index = part.index + number * SHEET_STRIDE
            parts.append(part)
        frame = pd.concat(parts)
        frame.index.name = "row"
        rows_skipped = [(n * SHEET_STRIDE + row, reason) for n, s_ in enumerate(used) for row, reason in s_.skipped]
        sheet_of_row = pd.Series(frame.index // SHEET_STRIDE, index=frame.index)
    sheet_numbers = sheet_of_row if sheet_of_row is not None else pd.Series(0, index=frame.index)
    return _Rows(frame.assign(_sheet=sheet_numbers.to_numpy()), rows_skipped, sheet_of_row)


def _nothing_to_import(rows_skipped: list[tuple[int, str]]) -> FileError:
    """A file whose tables hold no activity: only hidden rows, or a header alone."""
    hidden = sum(1 for _row, reason in rows_skipped if reason.startswith("已隐藏"))
    return FileError(
        "empty_file",
        f"文件中没有可导入的活动：{hidden} 行已隐藏（或被筛选隐藏），请取消隐藏后重新上传。"
        if hidden
        else "文件只有表头，没有数据行。",
    )


def _placed_pictures(used: list[SheetTable], pictures: list[list[Picture]]) -> dict[int, list[tuple[str, bytes]]]:
    """Pictures by the row id of the activity they sit over; pictures over other rows are not placed."""
    placed: dict[int, list[tuple[str, bytes]]] = {}
    several = len(used) > 1
    for number, (sheet, found) in enumerate(zip(used, pictures, strict=True)):
        rows = set(sheet.frame.index.tolist()) if found else set()
        for picture in found:
            row = picture.row + 1  # the row number Excel shows
            if row in rows:
                placed.setdefault(number * SHEET_STRIDE + row if several else row, []).append(
                    (picture.name, picture.data)
                )
    return placed
