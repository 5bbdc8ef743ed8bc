"""The sheets of an uploaded file as a person sees them: every format (.csv/.txt, .xlsx, .xls, .ods,
.docx) becomes raw sheets of cells, with merged ranges, the rows a person cannot see and the
pictures pasted over rows."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd

from monitor.core.errors import Refusal
from monitor.files import bounded, word
from monitor.files.layout_header import Column, look_up, vocabulary
from monitor.files.ods_bounds import check_ods
from monitor.files.ods_extras import ods_extras
from monitor.files.xls_bounds import check_xls
from monitor.files.xls_extras import xls_extras
from monitor.files.xlsx_extras import xlsx_extras

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FORMATS = "CSV、TXT（Unicode 文本）、XLSX、XLS、ODS 或 DOCX"
FORM_SHEET = "活动记录"  # a Word 活动记录: one form table per activity, read as the rows of one sheet
_RECORD_WORDS = re.compile(r"(活动记录表?|活动登记表|活动台账|记录表|台账)$")

Merged = list[tuple[tuple[int, int], tuple[int, int]]]


class FileError(Refusal):
    """The file as a whole cannot be taken: nothing of it is imported."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


@dataclass
class Picture:
    row: int  # 0-based row of the raw sheet the picture sits over
    column: int
    name: str  # the part's name inside the file: text, never a path
    data: bytes


@dataclass
class RawSheet:
    name: str
    cells: pd.DataFrame | None  # None: a hidden sheet
    merged: Merged = field(default_factory=list)
    hidden_rows: frozenset[int] = frozenset()
    filtered: bool = False
    pictures: list[Picture] = field(default_factory=list)
    preface: str = ""  # text above the table outside the sheet: a Word document's heading


def detect_format(data: bytes) -> str:
    if data.startswith(XLSX_MAGIC):
        return _zip_format(data)
    if data.startswith(XLS_MAGIC):
        return "xls"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8", b"Rar!", b"7z")):
        what = "PDF 文件" if head.startswith(b"%PDF") else "图片" if head.startswith((b"\x89PNG", b"\xff\xd8")) else ""
        raise FileError(
            "unknown_format",
            (f"这是一个{what}，不是活动台账。" if what else "无法识别的文件格式。") + f"请上传 {FORMATS} 文件。",
        )
    return "csv"


def _zip_format(data: bytes) -> str:
    """xlsx, ods or docx by the parts the zip holds; a zip of something else says what it is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist()[: bounded.MAX_MEMBERS + 1])
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return "xlsx"  # a damaged workbook: the workbook reader says so
    if "word/document.xml" in names:
        return "docx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if b"opendocument.text" in mimetype:
        raise FileError(
            "unknown_format",
            f"这是一个 ODT 文字文档：请在 WPS 或 Word 中另存为 .docx，或把表格复制到 Excel 后上传（{FORMATS}）。",
        )
    if "xl/workbook.xml" in names or not any(n.startswith(("ppt/", "word/")) for n in names):
        return "xlsx"
    raise FileError("unknown_format", f"这是一个演示文稿或压缩包，不是活动台账：请上传 {FORMATS} 文件。")


def _excel_cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time() else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, timedelta | time):
        return str(value)
    return value


def unreadable_workbook() -> FileError:
    return FileError("unreadable_file", "Excel 文件已损坏或加密，无法读取：请另存后重新上传。")


def _check_workbook(data: bytes, fmt: str, limit_bytes: int) -> None:
    """Refuse a workbook by what it really holds, before calamine allocates its declared range."""
    try:
        if fmt in ("xlsx", "ods"):
            bounded.check_xlsx(data, limit_bytes=limit_bytes)
            if fmt == "ods":
                check_ods(data)
        else:
            check_xls(data)
    except bounded.TooLarge as exc:
        raise FileError("too_large", str(exc)) from exc
    except (bounded.Malformed, struct.error, ValueError) as exc:
        if fmt == "xls" and "WordDocument".encode("utf-16-le") in data:
            raise FileError(
                "unknown_format",
                "这是一个 Word 97-2003 文档（.doc），不是 Excel 表格：请在 Word 或 WPS 中“另存为”.docx 后上传，"
                "其中的活动台账表格和活动记录表都能读取。",
            ) from exc
        raise unreadable_workbook() from exc


def workbook_sheets(data: bytes, fmt: str, *, limit_bytes: int, picture_limit_bytes: int) -> list[RawSheet]:
    """Every sheet of an .xlsx, .xls or .ods, with its hidden rows and pictures; cells None for a hidden sheet."""
    from python_calamine import CalamineWorkbook

    _check_workbook(data, fmt, limit_bytes)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets: list[RawSheet] = []
        for meta in workbook.sheets_metadata:
            if str(meta.visible).rsplit(".", 1)[-1] != "Visible" or str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
                sheets.append(RawSheet(meta.name, None))
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            width = max((len(row) for row in rows), default=0)
            padded = [[_excel_cell(v) for v in row] + [""] * (width - len(row)) for row in rows]
            merged = list(sheet.merged_cell_ranges or [])
            cells = pd.DataFrame(padded, columns=list(range(width)), dtype=object)
            sheets.append(RawSheet(meta.name, cells, merged))
    except Exception as exc:
        raise unreadable_workbook() from exc
    if not sheets:
        raise FileError("empty_file", "文件中没有工作表。")
    _add_extras(data, fmt, sheets, picture_limit_bytes)
    return sheets


def _add_extras(data: bytes, fmt: str, sheets: list[RawSheet], picture_limit_bytes: int) -> None:
    """Hidden rows and pasted pictures, which calamine does not tell; a workbook whose drawings
    cannot be read still gives its ledger."""
    try:
        if fmt == "xls":
            extras = xls_extras(data)
        else:
            reader = xlsx_extras if fmt == "xlsx" else ods_extras
            extras = reader(data, picture_limit_bytes=picture_limit_bytes)
    except (ValueError, KeyError, zipfile.BadZipFile):
        return
    for sheet in sheets:
        found = extras.get(sheet.name)
        if found is None or sheet.cells is None:
            continue
        sheet.hidden_rows = frozenset(found.hidden_rows)
        sheet.filtered = found.filtered
        sheet.pictures = [Picture(p.row, p.column, p.name, p.data) for p in found.pictures]


def word_sheets(
    data: bytes, columns: list[Column], *, file_name: str, limit_bytes: int, picture_limit_bytes: int
) -> list[RawSheet]:
    """A Word document's ledger tables, one sheet each; or, for a Word 活动记录 of label/value form
    tables, one sheet whose rows are the forms, the unit taken from the heading or the file name."""
    try:
        document = word.read_docx(data, limit_bytes=limit_bytes, picture_limit_bytes=picture_limit_bytes)
    except word.WordError as exc:
        raise FileError(exc.code, exc.message) from exc
    lookup = vocabulary(columns)
    forms = [t for t in document.tables if _is_form(t, lookup)]
    if forms and len(forms) * 2 >= len(document.tables):
        return [_form_sheet(document, forms, columns, lookup, file_name)]
    sheets = [
        RawSheet(
            f"表格{table.number}",
            table.cells,
            list(table.merged),
            pictures=[Picture(r, c, p.name, p.data) for r, c, p in table.pictures],
            preface=document.heading,
        )
        for table in document.tables
    ]
    if not sheets:
        kind = f"其中有 {document.paragraphs} 段文字，" if document.paragraphs else ""
        raise FileError(
            "no_header",
            f"这是一个 Word 文档，{kind}但其中没有活动台账表格：请把活动写在表格里（每行一场活动，"
            "或每场活动一个“活动名称、活动时间……”的表格），或改用“数据上传”页提供的台账模板。",
        )
    return sheets


def _is_form(table: word.WordTable, lookup: dict[str, Column]) -> bool:
    """A label/value table of one activity: its labels name two fields or more, the date or title among them,
    and no row of it is a ledger header (three fields in one row)."""
    for row in table.cells.itertuples(index=False):
        if len({look_up(lookup, c) for c in row if c} - {None}) >= 3:
            return False
    keys = {found.key for label, _ in word.form_pairs(table) if (found := look_up(lookup, label)) is not None}
    return len(keys) >= 2 and bool(keys & {"date", "title"})


def _form_sheet(
    document: word.WordDocument,
    forms: list[word.WordTable],
    columns: list[Column],
    lookup: dict[str, Column],
    file_name: str,
) -> RawSheet:
    labels: list[str] = []
    records: list[dict[str, str]] = []
    for table in forms:
        record: dict[str, str] = {}
        for label, value in word.form_pairs(table):
            if label and label not in record:
                record[label] = value
                if label not in labels:
                    labels.append(label)
        records.append(record)
    unit_keys = {"code", "name"}
    if not any((found := look_up(lookup, label)) is not None and found.key in unit_keys for label in labels):
        unit = _unit_of(document.heading) or _unit_of(file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        unit_header = next(c.header for c in columns if c.key == "name")
        labels.insert(0, unit_header)
        for record in records:
            record[unit_header] = unit
    cells = pd.DataFrame([labels] + [[r.get(label, "") for label in labels] for r in records], dtype=object)
    pictures = [
        Picture(number + 1, 0, p.name, p.data) for number, table in enumerate(forms) for _r, _c, p in table.pictures
    ]
    return RawSheet(FORM_SHEET, cells, pictures=pictures, preface=document.heading)


def _unit_of(text: str) -> str:
    """泥江口镇油草塘村新时代文明实践站活动记录（2026年6月） -> 泥江口镇油草塘村新时代文明实践站."""
    compact = re.sub(r"[（(][^）)]*[）)]", "", "".join(text.split()))
    compact = re.sub(r"20\d{2}年(\d{1,2}月)?(份)?", "", compact)
    return _RECORD_WORDS.sub("", compact)
