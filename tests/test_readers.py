"""Bytes -> rows: the files town offices produce, built in memory, and the files refused as a whole."""

import io
from datetime import date, datetime

import openpyxl
import pytest
import xlwt

from monitor.normalize import parse_date
from monitor.readers import FileError, decode_text, read_table
from monitor.validate import ACTIVITY_COLUMNS, UNIT_KEYS

HEADER = ["单位名称", "活动日期", "活动名称", "参与人数"]
ROWS = [["油草塘村", "2025-03-05", "理论宣讲进村", "12"], ["和平村", "2025/3/6", "𠮷祥志愿服务", "30"]]


def read(data: bytes):
    return read_table(data, ACTIVITY_COLUMNS, preferred_sheet="活动台账", one_of=UNIT_KEYS)


def cells(table, keys=("name", "date", "title", "participants")) -> list[tuple]:
    """(Excel row number, *values) for every data row."""
    return [(row, *(values[k] for k in keys)) for row, values in table.frame.iterrows()]


def text_file(rows, *, sep=",", newline="\r\n") -> str:
    return newline.join(sep.join(r) for r in rows) + newline


def xlsx(sheets: dict[str, list[list[object]]], formats: dict[tuple[str, int, int], str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=i, column=j, value=value)
    for (name, i, j), number_format in (formats or {}).items():
        workbook[name].cell(row=i, column=j).number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


EXPECTED = [(2, "油草塘村", "2025-03-05", "理论宣讲进村", "12"), (3, "和平村", "2025/3/6", "𠮷祥志愿服务", "30")]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (text_file([HEADER, *ROWS]).encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + text_file([HEADER, *ROWS]).encode("utf-8"), "utf-8-sig"),
        (text_file([HEADER, *ROWS]).encode("gb18030"), "gb18030"),
        (b"\xff\xfe" + text_file([HEADER, *ROWS], sep="\t").encode("utf-16-le"), "utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "utf-16-tab"],
)
def test_csv_in_every_encoding_excel_writes(data, encoding):
    table = read(data)
    assert (table.format, table.encoding, table.header_row) == ("csv", encoding, 1)
    assert cells(table) == EXPECTED


def test_gbk_is_detected_without_being_told():
    rows = [HEADER, ["油草塘村", "2025-03-05", "理论宣讲进村", "12"]]
    table = read(text_file(rows).encode("gbk"))
    assert table.encoding == "gb18030"
    assert cells(table) == [(2, "油草塘村", "2025-03-05", "理论宣讲进村", "12")]


def test_xlsx_with_date_cells_and_serial_numbers():
    data = xlsx(
        {
            "Sheet1": [
                HEADER,
                ["油草塘村", date(2025, 3, 5), "宣讲一", 12],
                ["油草塘村", datetime(2025, 3, 6, 14, 30), "宣讲二", 12.0],
                ["油草塘村", 45723, "宣讲三", None],
                ["油草塘村", 45724, "宣讲四", 7],
            ]
        },
        formats={("Sheet1", 5, 2): "yyyy-mm-dd"},
    )
    table = read(data)
    assert (table.format, table.encoding) == ("xlsx", None)
    assert cells(table) == [
        (2, "油草塘村", "2025-03-05", "宣讲一", "12"),
        (3, "油草塘村", "2025-03-06 14:30:00", "宣讲二", "12"),
        (4, "油草塘村", "45723", "宣讲三", ""),
        (5, "油草塘村", "2025-03-08", "宣讲四", "7"),
    ]
    assert [parse_date(d) for d in table.frame["date"]] == [date(2025, 3, d) for d in (5, 6, 7, 8)]


def test_legacy_xls_as_wps_writes_it():
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("Sheet1")
    for j, header in enumerate(HEADER):
        sheet.write(0, j, header)
    sheet.write(1, 0, "油草塘村")
    sheet.write(1, 1, date(2025, 3, 5), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    sheet.write(1, 2, "宣讲一")
    sheet.write(1, 3, 12)
    sheet.write(3, 0, "油草塘村")
    sheet.write(3, 1, 45723)
    sheet.write(3, 2, "宣讲二")
    out = io.BytesIO()
    workbook.save(out)
    table = read(out.getvalue())
    assert table.format == "xls"
    assert cells(table) == [(2, "油草塘村", "2025-03-05", "宣讲一", "12"), (4, "油草塘村", "45723", "宣讲二", "")]


def test_the_sheet_named_活动台账_is_chosen_over_the_first():
    data = xlsx(
        {
            "填表说明": [["单位名称", "活动日期", "活动名称"], ["示例村", "2025-01-01", "示例"]],
            "活动台账": [HEADER, ["油草塘村", "2025-03-05", "宣讲", 3]],
        }
    )
    assert cells(read(data)) == [(2, "油草塘村", "2025-03-05", "宣讲", "3")]


def test_the_first_sheet_when_none_is_named_活动台账():
    data = xlsx({"三月": [HEADER, ["油草塘村", "2025-03-05", "宣讲", 3]], "四月": [HEADER]})
    assert cells(read(data)) == [(2, "油草塘村", "2025-03-05", "宣讲", "3")]


def test_headers_with_spaces_colons_and_english_aliases():
    header = [" 单位 名称 ", "活动日期:", "活动名称 ：", "PARTICIPANTS", "Category", "notes"]
    table = read(text_file([header, ["油草塘村", "2025-03-05", "宣讲", "5", "理论宣讲", "无"]]).encode())
    assert cells(table, ("name", "date", "title", "participants", "category", "notes")) == [
        (2, "油草塘村", "2025-03-05", "宣讲", "5", "理论宣讲", "无")
    ]
    assert table.headers["date"] == "活动日期"
    assert table.headers["title"] == "活动名称"
    assert table.headers["name"] == "单位 名称"


@pytest.mark.parametrize(
    "header",
    [["unit", "date", "title"], ["Unit", "Date", "Title"], ["CODE", "DATE", "TITLE"], ["name", "date", "title"]],
)
def test_english_headers_in_any_case(header):
    table = read(text_file([header, ["X", "2025-03-05", "宣讲"]]).encode())
    key = "code" if header[0].casefold() == "code" else "name"
    assert cells(table, (key, "date", "title")) == [(2, "X", "2025-03-05", "宣讲")]


def test_full_width_digits_and_ideographic_spaces():
    rows = [HEADER, ["　油草塘村　", "２０２５－０３－０５", "宣讲　活动", "１２"], ["　", "　", "　", "　"]]
    table = read(text_file(rows).encode())
    assert cells(table) == [(2, "油草塘村", "2025-03-05", "宣讲 活动", "12")]


def test_blank_lines_keep_the_row_numbers_excel_shows():
    lines = ["单位名称,活动日期,活动名称", "甲村,2025-03-05,一", "", ",,", "乙村,2025-03-06,二", ""]
    text = "\r\n".join(lines) + "\r\n"
    assert [row for row, *_ in cells(read(text.encode()), ("name",))] == [2, 5]


def test_blank_lines_in_xlsx_keep_the_row_numbers():
    data = xlsx({"Sheet1": [HEADER, ["甲村", "2025-03-05", "一", 1], [], [], ["乙村", "2025-03-06", "二", 2]]})
    assert [row for row, *_ in cells(read(data), ("name",))] == [2, 5]


def test_a_title_line_above_the_header():
    rows = [["泥江口镇2025年3月活动台账", "", ""], HEADER[:3], ["油草塘村", "2025-03-05", "宣讲"]]
    table = read(text_file(rows).encode())
    assert table.header_row == 2
    assert cells(table, ("name", "date", "title")) == [(3, "油草塘村", "2025-03-05", "宣讲")]


@pytest.mark.parametrize("total", ["合计", "总计", "小计：2场"])
def test_a_trailing_total_row_is_skipped_with_a_warning(total):
    rows = [HEADER, ["甲村", "2025-03-05", "一", "1"], ["乙村", "2025-03-06", "二", "2"], [total, "", "2", "3"]]
    table = read(text_file(rows).encode())
    assert [row for row, *_ in cells(table, ("name",))] == [2, 3]
    assert table.skipped == [(4, "合计行，已跳过")]


def test_a_unit_named_like_a_total_in_the_middle_is_kept():
    rows = [HEADER, ["合计村", "2025-03-05", "一", "1"], ["乙村", "2025-03-06", "二", "2"]]
    table = read(text_file(rows).encode())
    assert [(row, name) for row, name in cells(table, ("name",))] == [(2, "合计村"), (3, "乙村")]
    assert table.skipped == []


def _corrupt_xlsx() -> bytes:
    data = xlsx({"Sheet1": [HEADER, ["甲村", "2025-03-05", "一", 1]]})
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"  \r\n\r\n", "empty_file"),
        ("单位名称,活动日期,活动名称\r\n".encode(), "empty_file"),
        ("单位名称,活动日期,活动名称\r\n,,\r\n\r\n".encode(), "empty_file"),
        (xlsx({"Sheet1": []}), "empty_file"),
        (xlsx({"Sheet1": [HEADER]}), "empty_file"),
        ("甲,乙,丙\r\n1,2,3\r\n".encode(), "no_header"),
        ("油草塘村,2025-03-05,宣讲\r\n".encode(), "no_header"),
        ("单位名称,活动日期\r\n油草塘村,2025-03-05\r\n".encode(), "missing_column"),
        ("活动日期,活动名称\r\n2025-03-05,宣讲\r\n".encode(), "missing_column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "unknown_format"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "unknown_format"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "unknown_format"),
        (b"PK\x03\x04 this is not a workbook", "unreadable_file"),
        (_corrupt_xlsx(), "unreadable_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "unreadable_file"),
        ("Datum,Café,Aktivität\r\n1,2,3\r\n".encode("latin-1"), "unreadable_file"),
    ],
    ids=[
        "nothing",
        "blank-lines",
        "header-only",
        "header-and-blank-rows",
        "empty-sheet",
        "xlsx-header-only",
        "no-header",
        "data-without-header",
        "no-title-column",
        "no-unit-column",
        "png",
        "pdf",
        "jpeg",
        "zip-not-xlsx",
        "truncated-xlsx",
        "corrupt-xls",
        "latin-1",
    ],
)
def test_files_refused_as_a_whole(data, code):
    with pytest.raises(FileError) as caught:
        read(data)
    assert caught.value.code == code
    assert caught.value.message


def test_a_missing_column_names_the_columns_found_and_expected():
    data = "单位名称,活动日期,备注\r\n油草塘村,2025-03-05,无\r\n".encode()
    with pytest.raises(FileError) as caught:
        read(data)
    message = caught.value.message
    assert "缺少必填列：活动名称" in message
    assert "文件中的列为：单位名称、活动日期、备注" in message
    assert "应有的列为：" in message and "活动日期" in message.split("应有的列为：")[1]


def test_bytes_neither_utf8_nor_gb18030_are_never_decoded_as_latin1():
    with pytest.raises(FileError) as caught:
        decode_text("Café,naïve".encode("latin-1") + b"\xff")
    assert caught.value.code == "unreadable_file"
    assert "编码" in caught.value.message
