"""Hostile uploads as data: `build(folder)` writes each file and returns {file name: expected code}.

The expected code is the whole-file code (exit 2) or the row code (exit 1) the import must give,
or a warning code (WARNED, exit 0): the row is stored all the same, its absurd count left empty
(NULL) with the text as written kept, and the import warns once (SPEC §7 round two: only unit,
date and title refuse a row). None means the file is odd but fine and must be read as a person
would read it (exit 0).
Every file is under the default 20 MB upload limit: what it holds, not its size, is the attack.

    python tests/hostile/corpus.py FOLDER      # writes the corpus and prints the table
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import xlwt

HEADER = ["单位编码", "单位名称", "活动日期", "活动名称", "参与人数", "备注"]
GOOD = ["NJK-YCT", "油草塘村", "2025-03-05", "理论宣讲进村", "12", ""]
MIB = 1024 * 1024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"

# Whole-file codes (exit 2), warning codes (exit 0, the row stored) and row codes (exit 1).
WHOLE_FILE = {"too_large", "unreadable_file", "unknown_format", "empty_file", "no_header", "missing_column"}
WARNED = {"loose_number"}


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode(encoding)


def _row(**changes: str) -> list[str]:
    row = dict(zip(HEADER, GOOD, strict=True))
    keys = ["code", "name", "date", "title", "participants", "notes"]
    row.update({HEADER[keys.index(k)]: v for k, v in changes.items()})
    return list(row.values())


def _xlsx(rows: list[list[object]], extra: Callable[[Any], None] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "活动台账"
    for row in rows:
        sheet.append(row)
    if extra:
        extra(sheet)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_xml(rows_xml: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + rows_xml
        + "</sheetData></worksheet>"
    )


def _inline_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + j)}{number}" t="inlineStr"><is><t>{value}</t></is></c>' for j, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def _replace_sheet(workbook: bytes, sheet_xml: Callable[[zipfile.ZipFile], None]) -> bytes:
    """A copy of an openpyxl workbook whose first sheet is written by sheet_xml (streamed, deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                sheet_xml(target)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _huge_inline_cell(chars: int) -> bytes:
    """A valid workbook whose one title cell holds `chars` characters inline, written without holding them."""

    def write(target: zipfile.ZipFile) -> None:
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            cell = '<row r="2"><c r="D2" t="inlineStr"><is><t>'
            stream.write(_sheet_xml(_inline_row(1, HEADER) + cell).split("</sheetData>")[0].encode())
            block = "宣讲" * 32768
            for _ in range(chars // len(block)):
                stream.write(block.encode())
            stream.write(("宣" * (chars % len(block))).encode())
            stream.write(b"</t></is></c></row></sheetData></worksheet>")

    return _replace_sheet(_xlsx([HEADER]), write)


def _long_shared_string(chars: int) -> bytes:
    """A workbook whose title cell points at a shared string of `chars` characters (openpyxl cuts at 32,767)."""
    sml = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strings = ["理论宣讲" * (chars // 4) + "讲" * (chars % 4)]
    sst = f'<sst xmlns="{sml}" count="1" uniqueCount="1"><si><t>{strings[0]}</t></si></sst>'
    row = '<row r="2"><c r="A2" t="inlineStr"><is><t>NJK-YCT</t></is></c><c r="D2" t="s"><v>0</v></c></row>'
    rel = (
        '<Relationship Id="rIdSST" Target="sharedStrings.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    )
    override = (
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(_xlsx([HEADER])))
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info).decode()
            if info.filename == "xl/worksheets/sheet1.xml":
                body = _sheet_xml(_inline_row(1, HEADER) + row)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace("</Relationships>", rel + "</Relationships>")
            elif info.filename == "[Content_Types].xml":
                body = body.replace("</Types>", override + "</Types>")
            target.writestr(info, body)
        target.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


def _zip_of(members: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip whose members are `data * times`, streamed in so the generator never holds them whole."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, times) in members.items():
            with archive.open(name, "w", force_zip64=True) as stream:
                for _ in range(times):
                    stream.write(data)
    return out.getvalue()


def _zip_bomb() -> bytes:
    """Content types and a workbook that name one sheet, whose XML unzips to 400 MB of blank rows."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([HEADER, GOOD])))
    members = {info.filename: (source.read(info), 1) for info in source.infolist()}
    members["xl/worksheets/sheet1.xml"] = (b"<row/>" * (MIB // 6), 400)
    return _zip_of(members)


def _sparse_xls() -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("活动台账")
    for j, value in enumerate(HEADER):
        sheet.write(0, j, value)
    for j, value in enumerate(GOOD):
        sheet.write(1, j, value)
    sheet.write(65535, 255, "x")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _truncated_xlsx() -> bytes:
    data = _xlsx([HEADER, GOOD])
    return data[: len(data) // 2]


def _after_4k_with_nul() -> bytes:
    notes = "活动记录说明" * 250  # 4.5 KB of UTF-8 before the NUL, under the 2,000 characters of 备注
    return _csv([HEADER, _row(notes=notes), _row(date="2025-03-06", title="理论宣讲\x00进村")])


def _million_commas() -> bytes:
    return _csv([HEADER]) + b"NJK-YCT" + b"," * 1_000_000 + b"\r\n"


FILES: dict[str, tuple[Callable[[], bytes], str | None]] = {
    # Workbooks judged by what they hold.
    "sparse_xfd1048576.xlsx": (lambda: _xlsx([HEADER, GOOD], lambda s: s.cell(1048576, 16384, "x")), "too_large"),
    "sparse_iv65536.xls": (_sparse_xls, "too_large"),
    "shared_string_40000_chars.xlsx": (lambda: _long_shared_string(40_000), "too_large"),
    "inline_cell_40000_chars.xlsx": (lambda: _huge_inline_cell(40_000), "too_large"),
    "inline_cell_50m_chars.xlsx": (lambda: _huge_inline_cell(50 * MIB), "too_large"),
    "shared_string_32767_chars.xlsx": (lambda: _long_shared_string(32_767), "too_long"),
    "zip_of_zeros.xlsx": (lambda: _zip_of({"zeros.bin": (bytes(MIB), 400)}), "too_large"),
    "zip_bomb_fake_sheet.xlsx": (_zip_bomb, "too_large"),
    "truncated.xlsx": (_truncated_xlsx, "unreadable_file"),
    # Encodings.
    "bom_then_gbk.csv": (lambda: b"\xef\xbb\xbf" + _csv([HEADER, GOOD], "gbk"), None),
    "utf16_without_bom.csv": (lambda: _csv([HEADER, GOOD], "utf-16-le"), "unknown_format"),
    "latin1_junk.csv": (lambda: "Datum,Café,Aktivität,Größe\r\n1,2,3,ÿ\r\n".encode("latin-1"), "unreadable_file"),
    # Absurd values, row by row. A count refuses nothing: stored empty, with a warning.
    "participants_1e20.csv": (lambda: _csv([HEADER, _row(participants="99999999999999999999")]), "loose_number"),
    "participants_negative.csv": (lambda: _csv([HEADER, _row(participants="-5")]), "loose_number"),
    "participants_1e400.csv": (lambda: _csv([HEADER, _row(participants="1e400")]), "loose_number"),
    "date_0202.csv": (lambda: _csv([HEADER, _row(date="0202-06-03")]), "bad_date"),
    "date_1900.csv": (lambda: _csv([HEADER, _row(date="1900-01-01")]), "bad_date"),
    "date_9999.csv": (lambda: _csv([HEADER, _row(date="9999-12-31")]), "future_date"),
    "title_10000_chars.csv": (lambda: _csv([HEADER, _row(title="宣" * 10_000)]), "too_long"),
    # Bytes that are not text where text is expected.
    "nul_at_start.csv": (lambda: b"\x00" + _csv([HEADER, GOOD]), "unknown_format"),
    "nul_after_4k.csv": (_after_4k_with_nul, None),
    "million_commas.csv": (_million_commas, "too_large"),
    "empty.csv": (lambda: b"", "empty_file"),
    "pdf_renamed.csv": (lambda: PDF, "unknown_format"),
}

# The row codes the validation gives for absurd values (SPEC §6 "Plausible values"); an absurd
# count is no longer one of them (SPEC §7 round two): it is a warning (WARNED).
ROW_CODES = {"bad_date", "future_date", "too_long"}


def build(folder: Path) -> dict[str, str | None]:
    """Write every file of the corpus into folder; {file name: expected code, None when it must be read;
    a WARNED code when its row must be stored with that warning}."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str | None] = {}
    for name, (make, code) in FILES.items():
        path = folder / name
        if not path.exists():
            path.write_bytes(make())
        expected[name] = code
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile_corpus")
    for file_name, code in build(target).items():
        print(f"{(target / file_name).stat().st_size:>12,}  {file_name:<28} {code or '(read)'}")
