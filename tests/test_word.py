"""A .docx -> the tables a person sees: grids, merges, pictures in cells, form pairs, and the files refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pandas as pd
import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from PIL import Image

from monitor.files import word
from monitor.files.word import UNREADABLE, WordError, form_pairs, is_docx, read_docx

LIMIT = 20 * 1024 * 1024
HEADING = "泥江口镇油草塘村新时代文明实践站活动记录"
LEDGER = [
    ["序号", "活动名称", "活动时间", "参与人数"],
    ["1", "端午包粽子", "2026年6月11日上午", "30"],
    ["2", "理论宣讲进村", "2026年6月15日", "45"],
    ["3", "𠮷祥志愿服务", "2026年6月20日", ""],
]


def image(kind: str, color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(out, kind)
    return out.getvalue()


PNG = image("PNG", "red")
JPEG = image("JPEG", "blue")


def docx(build: Callable[[DocxDocument], object]) -> bytes:
    document = Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def fill(table, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value:
                table.cell(r, c).text = value


def picture_in(cell, data: bytes) -> None:  # type: ignore[no-untyped-def]
    cell.paragraphs[0].add_run().add_picture(io.BytesIO(data))


def ledger(document: DocxDocument) -> None:
    document.add_paragraph(HEADING)
    document.add_paragraph("填报单位：油草塘村")
    fill(document.add_table(rows=4, cols=4), LEDGER)
    document.add_paragraph("填报人：李四")


def test_ledger_table_read_as_its_grid() -> None:
    read = read_docx(docx(ledger), limit_bytes=LIMIT)
    assert [table.number for table in read.tables] == [1]
    table = read.tables[0]
    assert table.cells.values.tolist() == LEDGER
    assert table.cells.columns.equals(pd.RangeIndex(4))
    assert all(dtype == "object" for dtype in table.cells.dtypes)
    assert table.merged == [] and table.pictures == []
    assert read.heading == f"{HEADING} 填报单位：油草塘村"
    assert read.paragraphs == 3


def test_merged_cells_give_their_ranges_and_text_top_left() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=4, cols=3)
        table.cell(0, 0).merge(table.cell(0, 2)).text = "油草塘村6月活动"
        table.cell(1, 0).merge(table.cell(3, 0)).text = "端午"
        table.cell(1, 1).merge(table.cell(2, 2)).text = "包粽子"
        table.cell(3, 1).text = "30"

    table = read_docx(docx(build), limit_bytes=LIMIT).tables[0]
    assert table.merged == [((0, 0), (0, 2)), ((1, 0), (3, 0)), ((1, 1), (2, 2))]
    assert table.cells.values.tolist() == [
        ["油草塘村6月活动", "", ""],
        ["端午", "包粽子", ""],
        ["", "", ""],
        ["", "30", ""],
    ]


def test_nested_table_is_text_of_its_cell_and_short_rows_are_padded() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=2, cols=3)
        table.cell(0, 0).text = "外"
        inner = table.cell(0, 0).add_table(rows=1, cols=2)
        fill(inner, [["甲", "乙"]])
        table.rows[1]._tr.remove(table.rows[1]._tr.tc_lst[-1])  # a row one cell short
        table.cell(1, 0).text = "丙"

    read = read_docx(docx(build), limit_bytes=LIMIT)
    assert len(read.tables) == 1
    assert read.tables[0].cells.values.tolist() == [["外\n甲\n乙", "", ""], ["丙", "", ""]]


def test_picture_in_a_cell_is_placed_at_its_cell_with_its_bytes() -> None:
    def build(document: DocxDocument) -> None:
        document.add_picture(io.BytesIO(JPEG))  # outside any table: belongs to none
        table = document.add_table(rows=3, cols=4)
        fill(table, LEDGER[:3])
        picture_in(table.cell(2, 1), PNG)

    table = read_docx(docx(build), limit_bytes=LIMIT).tables[0]
    assert len(table.pictures) == 1
    row, column, picture = table.pictures[0]
    assert (row, column) == (2, 1)
    assert picture.data == PNG
    assert picture.name.startswith("word/media/") and picture.name.endswith(".png")
    assert table.cells.iat[2, 1] == "理论宣讲进村"


def test_vml_picture_counts_and_a_fallback_copy_does_not() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=1, cols=2)
        picture_in(table.cell(0, 0), PNG)
        rid = table.cell(0, 0)._tc.xpath(".//a:blip/@r:embed")[0]
        vml = f'<w:pict><v:shape><v:imagedata r:id="{rid}"/></v:shape></w:pict>'
        fallback = (
            '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
            f'<mc:Choice Requires="wps"/><mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent>'
        )
        namespaces = nsdecls("w", "r") + ' xmlns:v="urn:schemas-microsoft-com:vml"'
        paragraph = table.cell(0, 1).paragraphs[0]._p
        paragraph.append(parse_xml(f"<w:r {namespaces}>{vml}</w:r>"))
        paragraph.append(parse_xml(f"<w:r {namespaces}>{fallback}</w:r>"))

    table = read_docx(docx(build), limit_bytes=LIMIT).tables[0]
    assert [(r, c, p.data) for r, c, p in table.pictures] == [(0, 0, PNG), (0, 1, PNG)]


def test_pictures_above_the_cap_or_past_the_count_are_left_out() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=2, cols=2)
        picture_in(table.cell(0, 1), PNG)
        picture_in(table.cell(1, 1), JPEG)

    data = docx(build)
    assert len(PNG) < len(JPEG)
    capped = read_docx(data, limit_bytes=LIMIT, picture_limit_bytes=len(PNG)).tables[0]
    assert [(r, c, p.data) for r, c, p in capped.pictures] == [(0, 1, PNG)]
    assert read_docx(data, limit_bytes=LIMIT, picture_limit_bytes=len(PNG) - 1).tables[0].pictures == []
    first = read_docx(data, limit_bytes=LIMIT, max_pictures=1)
    assert [(r, c, p.data) for r, c, p in first.tables[0].pictures] == [(0, 1, PNG)]


FORM_ROWS = [
    ["活动名称", "端午包粽子", "活动时间", "2026年6月11日上午"],
    ["活 动 地 点：", "村部", "参与人数:", "30人"],
    ["活动内容", "组织村民包粽子，宣讲端午习俗。", "", ""],
    ["活动照片", "", "", ""],
]


def forms(document: DocxDocument) -> None:
    document.add_paragraph(HEADING)
    first = document.add_table(rows=4, cols=4)
    fill(first, FORM_ROWS)
    first.cell(2, 1).merge(first.cell(2, 3))
    first.cell(3, 0).merge(first.cell(3, 3))
    second = document.add_table(rows=3, cols=2)
    fill(second, [["活动名称", "读书会"], ["活动照片", ""], ["活动内容", ""]])
    picture_in(second.cell(1, 1), PNG)
    second.cell(2, 1).text = "共读《乡土中国》"
    second.cell(2, 1).add_paragraph("交流心得")


def test_form_tables_give_label_value_pairs_in_reading_order() -> None:
    read = read_docx(docx(forms), limit_bytes=LIMIT)
    first, second = read.tables
    assert first.merged == [((2, 1), (2, 3)), ((3, 0), (3, 3))]
    assert form_pairs(first) == [
        ("活动名称", "端午包粽子"),
        ("活动时间", "2026年6月11日上午"),
        ("活动地点", "村部"),
        ("参与人数", "30人"),
        ("活动内容", "组织村民包粽子，宣讲端午习俗。"),
    ]
    assert form_pairs(second) == [("活动名称", "读书会"), ("活动照片", ""), ("活动内容", "共读《乡土中国》\n交流心得")]
    assert [(r, c) for r, c, _ in second.pictures] == [(1, 1)]


def test_form_label_merged_over_rows_labels_each_row_and_a_merged_pair_is_given_once() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=4, cols=2)
        fill(table, [["", "说明一"], ["", "说明二"], ["", ""], ["", ""]])
        table.cell(0, 0).merge(table.cell(1, 0)).text = "照片说明"
        table.cell(2, 0).merge(table.cell(3, 0)).text = "备注"
        table.cell(2, 1).merge(table.cell(3, 1)).text = "无"

    table = read_docx(docx(build), limit_bytes=LIMIT).tables[0]
    assert form_pairs(table) == [("照片说明", "说明一"), ("照片说明", "说明二"), ("备注", "无")]


def test_document_without_tables() -> None:
    def build(document: DocxDocument) -> None:
        document.add_paragraph("关于报送6月活动情况的说明")
        document.add_paragraph("")
        document.add_paragraph("本月共开展活动3次。")

    read = read_docx(docx(build), limit_bytes=LIMIT)
    assert read.tables == []
    assert read.paragraphs == 2
    assert read.heading == "关于报送6月活动情况的说明 本月共开展活动3次。"


def test_is_docx() -> None:
    assert is_docx(docx(ledger))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert not is_docx(out.getvalue())
    assert not is_docx(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert not is_docx(docx(ledger)[:2000])


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BROKEN_XML = f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body><w:p>'.encode()


def package(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(docx(ledger)[:-300], id="truncated"),
        pytest.param(docx(ledger)[: len(docx(ledger)) // 2], id="half"),
        pytest.param(b"not a word file at all", id="text"),
        pytest.param(package({"word/other.xml": b"<x/>"}), id="no-document-xml"),
        pytest.param(package({"word/document.xml": BROKEN_XML}), id="bad-xml"),
        pytest.param(package({"word/document.xml": f'<w:document xmlns:w="{W}"/>'.encode()}), id="no-body"),
    ],
)
def test_damaged_file_is_unreadable(data: bytes) -> None:
    with pytest.raises(WordError) as caught:
        read_docx(data, limit_bytes=LIMIT)
    assert (caught.value.code, caught.value.message) == ("unreadable_file", UNREADABLE)


SMALL = 10_000


@pytest.mark.parametrize(
    ("members", "words"),
    [
        # The document XML is not well-formed: refused as too large, it was never parsed.
        ({"word/document.xml": BROKEN_XML + b" " * (2 * SMALL)}, "正文解压后"),
        ({"word/document.xml": BROKEN_XML, "word/media/image1.png": b"\0" * (4 * SMALL)}, "解压后有"),
        ({"word/document.xml": BROKEN_XML, **{f"word/media/{n}.png": b"" for n in range(2001)}}, "个部件"),
    ],
    ids=["document-xml", "unzipped", "entries"],
)
def test_zip_bomb_is_too_large_before_parsing(members: dict[str, bytes], words: str) -> None:
    data = package(members)
    with pytest.raises(WordError) as caught:
        read_docx(data, limit_bytes=SMALL)
    assert caught.value.code == "too_large"
    assert words in caught.value.message and "\n" not in caught.value.message


def test_too_many_elements_or_columns_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    def wide(document: DocxDocument) -> None:
        document.add_table(rows=1, cols=1).cell(0, 0)._tc.get_or_add_tcPr().grid_span = 5000

    with pytest.raises(WordError, match="列") as caught:
        read_docx(docx(wide), limit_bytes=LIMIT)
    assert caught.value.code == "too_large"
    monkeypatch.setattr(word, "MAX_ELEMENTS", 50)
    with pytest.raises(WordError, match="排版元素"):
        read_docx(docx(ledger), limit_bytes=LIMIT)
