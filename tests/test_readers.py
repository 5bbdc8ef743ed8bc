"""Bytes -> rows: the files town offices produce, built in memory, and the files refused as a whole."""

import csv
import io
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.normalize import parse_date
from monitor.files import bounded, csv_text
from monitor.files.csv_text import decode_text
from monitor.files.readers import FileError, read_table
from monitor.ingest.roster_file import ROSTER_COLUMNS
from monitor.ingest.validate import ACTIVITY_COLUMNS, UNIT_KEYS

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


ROOT = Path(__file__).resolve().parent.parent
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


# Bounded reading (SPEC §6): a file is judged by what it holds, before it is parsed into memory.

CORPUS = Path(__file__).resolve().parent / "hostile"


def read_in_child(data: bytes, tmp_path: Path) -> tuple[int, dict, int]:
    """read_table in a process of its own: (exit code, {"code", "message"} or {"rows"}, peak RSS in KiB).

    A reader that allocates a declared range aborts the process (exit 134): here that fails one test.
    """
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    script = (
        "import json, sys\n"
        "from monitor.files.readers import FileError, read_table\n"
        "from monitor.ingest.validate import ACTIVITY_COLUMNS, UNIT_KEYS\n"
        "try:\n"
        "    t = read_table(open(sys.argv[1], 'rb').read(), ACTIVITY_COLUMNS, one_of=UNIT_KEYS)\n"
        "    doc = {'rows': len(t.frame)}\n"
        "except FileError as e:\n"
        "    doc = {'code': e.code, 'message': e.message}\n"
        # VmHWM belongs to this process image; ru_maxrss would carry over the forking parent's peak.
        "doc['maxrss'] = int([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
        "print(json.dumps(doc, ensure_ascii=False))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    doc = json.loads(done.stdout) if done.returncode == 0 else {}
    return done.returncode, doc, int(doc.get("maxrss", 0))


def _sparse_xls() -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("活动台账")
    for j, header in enumerate(HEADER):
        sheet.write(0, j, header)
    sheet.write(65535, 255, "x")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sparse_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["油草塘村", "2025-03-05", "宣讲", 3])
    sheet["XFD1048576"] = "x"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "where"), [(_sparse_xlsx, "XFD1048576"), (_sparse_xls, "IV65536")], ids=["xlsx", "xls"]
)
def test_a_sparse_workbook_reaching_the_last_cell_is_refused_before_it_is_read(make, where, tmp_path):
    code, doc, maxrss = read_in_child(make(), tmp_path)
    assert code == 0, "the reader must not abort the process"
    assert doc["code"] == "too_large"
    assert where in doc["message"] and len(doc["message"]) < 200
    assert maxrss < 400 * 1024, "judged before calamine builds the range (it took 1 GiB for the .xls)"


def test_a_workbook_just_inside_the_budget_is_read():
    rows = [HEADER, ["油草塘村", "2025-03-05", "宣讲", 3]]
    data = xlsx({"Sheet1": rows})
    data_far = xlsx({"Sheet1": [*rows, *[[] for _ in range(bounded.MAX_CELLS // bounded.MAX_COLUMNS - 3)]]})
    assert cells(read(data)) == cells(read(data_far)) == [(2, "油草塘村", "2025-03-05", "宣讲", "3")]
    wide = openpyxl.load_workbook(io.BytesIO(data))
    wide.active.cell(2, bounded.MAX_COLUMNS, "x")
    out = io.BytesIO()
    wide.save(out)
    assert len(read(out.getvalue()).frame) == 1
    wide.active.cell(2, bounded.MAX_COLUMNS + 1, "x")
    out = io.BytesIO()
    wide.save(out)
    with pytest.raises(FileError) as caught:
        read(out.getvalue())
    assert caught.value.code == "too_large" and "ALM2" in caught.value.message


def _corpus_file(name: str) -> bytes:
    from tests.hostile.corpus import FILES

    return FILES[name][0]()


@pytest.mark.parametrize(
    "name",
    [
        "shared_string_40000_chars.xlsx",
        "inline_cell_40000_chars.xlsx",
        "inline_cell_50m_chars.xlsx",
        "zip_of_zeros.xlsx",
        "zip_bomb_fake_sheet.xlsx",
        "million_commas.csv",
    ],
)
def test_what_a_file_holds_beyond_memory_is_too_large_with_a_short_message(name):
    with pytest.raises(FileError) as caught:
        read(_corpus_file(name))
    assert caught.value.code == "too_large"
    assert 10 < len(caught.value.message) < 200


def test_a_cell_of_exactly_32767_characters_is_read():
    table = read(_corpus_file("shared_string_32767_chars.xlsx"))
    assert [len(t) for t in table.frame["title"]] == [32_767]


def test_a_csv_cell_over_32767_characters_is_too_large():
    data = text_file([HEADER, ["油草塘村", "2025-03-05", "宣" * 32_768, "1"]]).encode()
    with pytest.raises(FileError) as caught:
        read(data)
    assert caught.value.code == "too_large"
    quoted = text_file([HEADER, ["油草塘村", "2025-03-05", '"' + "宣" * 200_000 + '"', "1"]]).encode()
    with pytest.raises(FileError) as caught:
        read(quoted)
    assert caught.value.code == "too_large"


def test_a_row_of_a_million_separators_builds_no_million_columns():
    data = text_file([HEADER, ["油草塘村", "2025-03-05", "宣讲", "1"]]).encode() + b"," * 1_000_000 + b"\r\n"
    with pytest.raises(FileError) as caught:
        read(data)
    assert caught.value.code == "too_large"
    assert "1,000 列" in caught.value.message


def test_the_size_limit_is_checked_where_every_import_reads():
    data = text_file([HEADER, ["油草塘村", "2025-03-05", "宣讲", "1"]]).encode()
    assert len(read_table(data, ACTIVITY_COLUMNS, one_of=UNIT_KEYS, limit_bytes=len(data)).frame) == 1
    with pytest.raises(FileError) as caught:
        read_table(data, ACTIVITY_COLUMNS, one_of=UNIT_KEYS, limit_bytes=len(data) - 1)
    assert caught.value.code == "too_large" and "超过上限" in caught.value.message
    roster = "单位编码,单位名称,单位类型\r\nZX,中心,中心\r\n".encode() + b" " * (2 * 1024 * 1024)
    with pytest.raises(FileError) as caught:
        read_table(roster, ROSTER_COLUMNS, preferred_sheet="单位名册", limit_bytes=1024 * 1024)
    assert caught.value.code == "too_large"


def test_an_xlsx_unzipping_far_above_the_limit_is_refused_by_its_limit():
    data = xlsx({"Sheet1": [HEADER, *[["油草塘村", "2025-03-05", "宣讲", 3]] * 3000]})
    assert len(read(data).frame) == 3000
    with pytest.raises(FileError) as caught:
        read_table(data, ACTIVITY_COLUMNS, one_of=UNIT_KEYS, limit_bytes=len(data))
    assert caught.value.code == "too_large" and "解压后" in caught.value.message


# Encodings and bytes that are not text.


def test_a_utf8_bom_before_gbk_bytes_is_read_as_gb18030():
    data = b"\xef\xbb\xbf" + text_file([HEADER, ["油草塘村", "2025-03-05", "理论宣讲进村", "12"]]).encode("gbk")
    table = read(data)
    assert table.encoding == "gb18030"
    assert cells(table) == [(2, "油草塘村", "2025-03-05", "理论宣讲进村", "12")]


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf" + "Café".encode("latin-1") + b"\xff\xff", b"\xff\xfe" + b"a\x00b"],
    ids=["bom-then-junk", "utf16-odd-length"],
)
def test_undecodable_text_is_a_file_error_not_a_traceback(data):
    with pytest.raises(FileError) as caught:
        decode_text(data)
    assert caught.value.code == "unreadable_file" and "编码" in caught.value.message


def test_nul_and_control_characters_are_dropped_from_cells_and_headers():
    padding = ["甲村", "2025-03-04", "填充", "1"]
    rows = [["单位\x1b名称", "活动日期", "活动名称\x07", "参与人数"], *[padding] * 200]
    data = text_file([*rows, ["乙\x00村", "2025-03-05", "宣\x1b讲\x00", "2"]]).encode()
    assert data.index(b"\x00") > 4096
    table = read(data)
    assert table.headers["name"] == "单位名称" and table.headers["title"] == "活动名称"
    assert cells(table)[-1] == (202, "乙村", "2025-03-05", "宣讲", "2")


def test_a_missing_column_message_stays_short_with_absurd_headers():
    header = ["单位名称", "活动日期", *[f"{'长' * 500}{i}" for i in range(300)]]
    with pytest.raises(FileError) as caught:
        read(text_file([header, ["甲村", "2025-03-05", *[""] * 300]]).encode())
    assert caught.value.code == "missing_column" and len(caught.value.message) < 1000


def test_a_value_quoted_in_a_message_is_cut_at_50_characters():
    from monitor.core.issues import Code, issue

    found = issue(Code.UNKNOWN_UNIT, 2, "单位名称", "村" * 10_000, hint="")
    assert found.value == "村" * 50 + "…"
    assert len(found.message) < 100


# A CSV is read by pyarrow when every line is as wide as the widest of its first 64 KiB, else by
# pandas: both must give the same cells, or a clerk's file would read differently by its shape.
_CELL = st.text(alphabet=st.sampled_from(list("a中 \",;\t\n\r'=-+1")), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_CELL, min_size=w, max_size=w), min_size=1, max_size=6)),
    ending=st.sampled_from(["\n", "\r\n"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_pyarrow_and_pandas_read_a_csv_to_the_same_cells(rows, ending, delimiter, quoting):
    out = io.StringIO()
    csv.writer(out, lineterminator=ending, delimiter=delimiter, quoting=quoting).writerows(rows)
    width = len(rows[0])
    by_arrow = csv_text._arrow_rows(out.getvalue().encode("utf-8"), delimiter, width)
    if by_arrow is not None:
        if quoting == csv.QUOTE_ALL:  # every cell quoted: exactly the cells written
            assert by_arrow.to_numpy().tolist() == rows
        by_pandas = csv_text._pandas_rows(out.getvalue().encode("utf-8"), delimiter, width, out.getvalue())
        pd.testing.assert_frame_equal(by_arrow, by_pandas)


def test_a_csv_with_a_ragged_or_blank_line_is_read_by_pandas_as_before():
    ragged = '单位编码,活动日期,活动名称\r\nZX,2025-03-01,宣讲\r\nZX,2025-03-02\r\n\r\nZX,2025-03-03,"含,逗号"\r\n'
    encoded = ragged.encode("utf-8")
    assert csv_text._arrow_rows(encoded, ",", 3) is None
    pd.testing.assert_frame_equal(csv_text.csv_rows(ragged), csv_text._pandas_rows(encoded, ",", 3, ragged))
    assert csv_text.csv_rows(ragged)[2].tolist()[-1] == "含,逗号"


def test_a_well_formed_csv_is_read_by_pyarrow():
    text = '单位编码,活动日期,活动名称\r\nZX,2025-03-01,"宣讲\r\n第二行"\r\nZX,2025-03-02,""\r\n'
    by_arrow = csv_text._arrow_rows(text.encode("utf-8"), ",", 3)
    assert by_arrow is not None
    assert by_arrow.to_numpy().tolist() == [
        ["单位编码", "活动日期", "活动名称"],
        ["ZX", "2025-03-01", "宣讲\r\n第二行"],
        ["ZX", "2025-03-02", ""],
    ]
