"""Hidden rows, filters and pictures over rows, read from workbooks built in memory."""

import io
import zipfile

import openpyxl
import pytest
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.worksheet.table import Table
from PIL import Image
from python_calamine import CalamineWorkbook

from monitor.files.ods_extras import REPEAT_CAP, ods_extras
from monitor.files.xlsx_extras import xlsx_extras

HEADER = ["单位", "日期", "活动"]
DATA_ROWS = range(4, 11)  # Excel rows 4..10
HIDDEN = (6, 8)  # Excel rows hidden by hand
PLACES = ("H4", "H5", "I5")


def png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (shade, 255 - shade, 40)).save(out, format="PNG")
    return out.getvalue()


PICTURES = {place: png(60 * n) for n, place in enumerate(PLACES)}


def ledger_xlsx(pictures: dict[str, bytes] = PICTURES) -> bytes:
    """A title in row 1, the header in row 3, data rows 4..10 with rows 6 and 8 hidden, an autoFilter,
    pictures at the given cells; a second sheet of notes without any drawing."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    sheet["A1"] = "某镇文明实践活动台账"
    for j, name in enumerate(HEADER, start=1):
        sheet.cell(row=3, column=j, value=name)
    for i in DATA_ROWS:
        sheet.cell(row=i, column=1, value=f"村{i}")
        sheet.cell(row=i, column=2, value="2025-03-05")
        sheet.cell(row=i, column=3, value=f"活动{i}")
    for i in HIDDEN:
        sheet.row_dimensions[i].hidden = True
    sheet.auto_filter.ref = "A3:C10"
    for place, data in pictures.items():
        sheet.add_image(SheetImage(io.BytesIO(data)), place)
    workbook.create_sheet("说明")["A1"] = "填表说明"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """The same package with some parts replaced (None removes the part)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in replace:
                target.writestr(info, source.read(info))
            elif replace[info.filename] is not None:
                target.writestr(info.filename, replace[info.filename])
    return out.getvalue()


def calamine_rows(data: bytes, sheet: str) -> list[list[object]]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


# ---------------------------------------------------------------------------------- row alignment


@pytest.mark.parametrize(
    "cells",
    [
        {"A1": "标题", "A3": "单位", "A4": "村4"},  # title row 1, header row 3
        {"B3": "单位", "B4": "村4"},  # first used row 3, first used column B
    ],
    ids=["title-row-1", "first-used-row-3"],
)
def test_calamine_xlsx_rows_and_columns_are_absolute(cells):
    workbook = openpyxl.Workbook()
    for ref, value in cells.items():
        workbook.active[ref] = value
    out = io.BytesIO()
    workbook.save(out)
    rows = calamine_rows(out.getvalue(), workbook.active.title)
    column = 1 if "B3" in cells else 0
    assert rows[2][column] == "单位"  # Excel row 3 is index 2
    assert rows[3][column] == "村4"


# ------------------------------------------------------------------------------------------- xlsx


def test_xlsx_hidden_rows_and_filter():
    extras = xlsx_extras(ledger_xlsx())
    assert list(extras) == ["台账", "说明"]
    assert extras["台账"].hidden_rows == {5, 7}
    assert extras["台账"].filtered is True
    rows = calamine_rows(ledger_xlsx(), "台账")
    assert [rows[i][0] for i in sorted(extras["台账"].hidden_rows)] == ["村6", "村8"]


def test_xlsx_pictures_at_their_anchor_rows_with_their_bytes():
    pictures = xlsx_extras(ledger_xlsx())["台账"].pictures
    assert [(p.row, p.column) for p in pictures] == [(3, 7), (4, 7), (4, 8)]
    assert [p.data for p in pictures] == [PICTURES[place] for place in PLACES]
    assert all(p.name.startswith("xl/media/") for p in pictures)
    rows = calamine_rows(ledger_xlsx(), "台账")
    assert [rows[p.row][0] for p in pictures] == ["村4", "村5", "村5"]


def test_xlsx_sheet_without_drawing_has_nothing():
    notes = xlsx_extras(ledger_xlsx())["说明"]
    assert (notes.hidden_rows, notes.filtered, notes.pictures) == (set(), False, [])


def test_xlsx_table_with_filter_buttons_is_filtered():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for i, values in enumerate([HEADER, ["村4", "2025-03-05", "宣讲"]], start=3):
        for j, value in enumerate(values, start=1):
            sheet.cell(row=i, column=j, value=value)
    sheet.add_table(Table(displayName="台账表", ref="A3:C4"))
    out = io.BytesIO()
    workbook.save(out)
    assert xlsx_extras(out.getvalue())[sheet.title].filtered is True


def test_xlsx_picture_limits():
    big = png(250) + b"\0" * 2_000  # a PNG with trailing bytes, larger than the others
    data = ledger_xlsx({"H4": PICTURES["H4"], "H5": big, "I5": PICTURES["I5"]})
    small = xlsx_extras(data, picture_limit_bytes=1_000)["台账"].pictures
    assert [(p.row, p.column) for p in small] == [(3, 7), (4, 8)]
    assert len(xlsx_extras(data, max_pictures=2)["台账"].pictures) == 2


DRAWING = "xl/drawings/drawing1.xml"
DRAWING_RELS = "xl/drawings/_rels/drawing1.xml.rels"


@pytest.mark.parametrize(
    "replace",
    [
        {DRAWING: b"<xdr:wsDr xmlns:xdr='x'><xdr:oneCellAnchor><xdr:from><xdr:row>3"},  # cut short
        {DRAWING: b"\x89PNG not xml at all"},
        {DRAWING: None},
        {DRAWING_RELS: b"<Relationships"},
        {DRAWING_RELS: None},
    ],
    ids=["truncated", "binary", "drawing-missing", "rels-broken", "rels-missing"],
)
def test_xlsx_broken_drawing_costs_only_the_pictures(replace):
    extras = xlsx_extras(rezip(ledger_xlsx(), replace))["台账"]
    assert extras.pictures == []
    assert extras.hidden_rows == {5, 7}
    assert extras.filtered is True


def test_xlsx_missing_media_is_skipped():
    data = rezip(ledger_xlsx(), {"xl/media/image2.png": None})
    assert [(p.row, p.column) for p in xlsx_extras(data)["台账"].pictures] == [(3, 7), (4, 8)]


@pytest.mark.parametrize(
    "data",
    [b"not a zip", b"", rezip(ledger_xlsx(), {"xl/workbook.xml": None})],
    ids=["not-zip", "empty", "no-workbook-part"],
)
def test_xlsx_unreadable_workbook_raises_value_error(data):
    with pytest.raises(ValueError):
        xlsx_extras(data)


# ------------------------------------------------------------------------------- WPS cell images

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWINGML = "http://schemas.openxmlformats.org/drawingml/2006/main"
ETC = "http://www.wps.cn/officeDocument/2017/etCustomData"

WPS_PARTS = {
    "[Content_Types].xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="png" ContentType="image/png"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/cellimages.xml" ContentType="application/vnd.wps-officedocument.cellimage+xml"/>
</Types>""",
    "_rels/.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>""",
    "xl/workbook.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>""",
    "xl/_rels/workbook.xml.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://www.wps.cn/officeDocument/2020/cellImage" Target="cellimages.xml"/>
</Relationships>""",
    "xl/worksheets/sheet1.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>活动台账</t></is></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>单位</t></is></c><c r="F3" t="inlineStr"><is><t>照片</t></is></c></row>
<row r="4"><c r="A4" t="inlineStr"><is><t>村4</t></is></c>
<c r="F4"><f>_xlfn.DISPIMG("ID_ABC",1)</f><v>=DISPIMG("ID_ABC",1)</v></c></row>
<row r="5"><c r="A5" t="inlineStr"><is><t>村5</t></is></c><c r="F5"><f>_xlfn.DISPIMG("ID_GONE",1)</f></c></row>
</sheetData></worksheet>""",
    "xl/cellimages.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<etc:cellImages xmlns:xdr="{XDR}" xmlns:r="{REL}" xmlns:a="{DRAWINGML}" xmlns:etc="{ETC}">
<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="ID_ABC" descr="现场照片"/><xdr:cNvPicPr/></xdr:nvPicPr>
<xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>
<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="95250" cy="95250"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>
</xdr:pic></etc:cellImage>
</etc:cellImages>""",
    "xl/_rels/cellimages.xml.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/image" Target="media/image1.png"/>
</Relationships>""",
}


def wps_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in WPS_PARTS.items():
            archive.writestr(name, text.encode("utf-8"))
        archive.writestr("xl/media/image1.png", PICTURES["H4"])
    return out.getvalue()


def test_wps_workbook_still_read_by_calamine():
    rows = calamine_rows(wps_xlsx(), "台账")
    assert rows[0][0] == "活动台账"
    assert (rows[2][0], rows[2][5]) == ("单位", "照片")
    assert rows[3][0] == "村4"


def test_wps_cell_image_sits_in_the_cell_that_calls_dispimg():
    extras = xlsx_extras(wps_xlsx())["台账"]
    assert [(p.row, p.column, p.name, p.data) for p in extras.pictures] == [
        (3, 5, "xl/media/image1.png", PICTURES["H4"])
    ]
    assert (extras.hidden_rows, extras.filtered) == (set(), False)


def test_wps_broken_cell_images_part_costs_only_the_pictures():
    data = rezip(wps_xlsx(), {"xl/cellimages.xml": b"<etc:cellImages"})
    assert xlsx_extras(data)["台账"].pictures == []


# -------------------------------------------------------------------------------------------- ods

ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"'
)


def text_cell(value: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def frame(href: str) -> str:
    return (
        f'<draw:frame draw:name="照片" svg:width="2cm" svg:height="2cm"><draw:image xlink:href="{href}"/></draw:frame>'
    )


def row(cells: str, attrs: str = "") -> str:
    return f"<table:table-row {attrs}>{cells}</table:table-row>"


# Title row 0, empty rows 1-2 (one repeated row), header row 3, data rows 4-7: row 5 hidden by
# hand, row 6 filtered out, row 7 with a picture in column D after two repeated empty cells; then
# LibreOffice's run of collapsed empty rows to the sheet's end, and a page-anchored picture.
LEDGER_TABLE = (
    '<table:table table:name="活动 台账">'
    '<table:shapes><draw:frame draw:name="页面图" svg:width="1cm" svg:height="1cm">'
    '<draw:image xlink:href="Pictures/page.png"/></draw:frame></table:shapes>'
    '<table:table-column table:number-columns-repeated="4"/>'
    + row(text_cell("活动台账"))
    + row('<table:table-cell table:number-columns-repeated="4"/>', 'table:number-rows-repeated="2"')
    + row(text_cell("单位") + text_cell("日期") + text_cell("活动") + text_cell("照片"))
    + row(text_cell("村4") + text_cell("2025-03-05"))
    + row(text_cell("村5"), 'table:visibility="collapse"')
    + row(text_cell("村6"), 'table:visibility="filter"')
    + row(
        text_cell("村7")
        + '<table:table-cell table:number-columns-repeated="2"/>'
        + f"<table:table-cell>{frame('Pictures/photo.png')}</table:table-cell>"
    )
    + row(
        '<table:table-cell table:number-columns-repeated="1024"/>',
        'table:number-rows-repeated="1048568" table:visibility="collapse"',
    )
    + "</table:table>"
)
NOTES_TABLE = '<table:table table:name="说明">' + row(text_cell("填表说明")) + "</table:table>"
FILTER = (
    '<table:database-ranges><table:database-range table:name="__Anonymous_Sheet_DB__0" '
    "table:target-range-address=\"'活动 台账'.A4:'活动 台账'.D8\" table:display-filter-buttons=\"true\"/>"
    "</table:database-ranges>"
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods(tables: str, *, pictures: dict[str, bytes]) -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", MANIFEST)
        archive.writestr("content.xml", content.encode("utf-8"))
        for name, data in pictures.items():
            archive.writestr(name, data)
    return out.getvalue()


ODS_PICTURES = {"Pictures/photo.png": PICTURES["H5"], "Pictures/page.png": PICTURES["I5"]}


def ledger_ods(*, filtered: bool = True) -> bytes:
    return ods(LEDGER_TABLE + NOTES_TABLE + (FILTER if filtered else ""), pictures=ODS_PICTURES)


def test_calamine_ods_rows_and_columns_are_absolute():
    rows = calamine_rows(ledger_ods(), "活动 台账")
    assert rows[0][0] == "活动台账"
    assert rows[1] == rows[2] == ["", "", "", ""]
    assert rows[3] == ["单位", "日期", "活动", "照片"]
    assert [r[0] for r in rows[4:]] == ["村4", "村5", "村6", "村7"]  # the empty run below is not read


def test_calamine_ods_first_used_row_and_column_keep_their_place():
    empty_rows = row('<table:table-cell table:number-columns-repeated="3"/>', 'table:number-rows-repeated="2"')
    table = f'<table:table table:name="表">{empty_rows}{row("<table:table-cell/>" + text_cell("单位"))}</table:table>'
    rows = calamine_rows(ods(table, pictures={}), "表")
    assert rows[2][1] == "单位"  # row 3, column B


def test_ods_hidden_rows_filter_and_picture():
    extras = ods_extras(ledger_ods())
    assert list(extras) == ["活动 台账", "说明"]
    ledger = extras["活动 台账"]
    assert ledger.hidden_rows == {5, 6, *range(8, 8 + REPEAT_CAP)}
    assert ledger.filtered is True
    assert [(p.row, p.column, p.name, p.data) for p in ledger.pictures] == [
        (7, 3, "Pictures/photo.png", PICTURES["H5"])
    ]
    rows = calamine_rows(ledger_ods(), "活动 台账")
    assert [rows[i][0] for i in sorted(ledger.hidden_rows) if i < len(rows)] == ["村5", "村6"]
    assert (rows[7][0], rows[3][3]) == ("村7", "照片")
    notes = extras["说明"]
    assert (notes.hidden_rows, notes.filtered, notes.pictures) == (set(), False, [])


def test_ods_without_filter_buttons_is_not_filtered():
    assert ods_extras(ledger_ods(filtered=False))["活动 台账"].filtered is False


def test_ods_picture_limits_and_missing_picture():
    assert ods_extras(ledger_ods(), picture_limit_bytes=10)["活动 台账"].pictures == []
    assert ods_extras(ledger_ods(), max_pictures=0)["活动 台账"].pictures == []
    missing = ods(LEDGER_TABLE, pictures={})
    assert ods_extras(missing)["活动 台账"].pictures == []


@pytest.mark.parametrize(
    "data",
    [b"not a zip", ods("<table:table", pictures={}), rezip(ledger_ods(), {"content.xml": None})],
    ids=["not-zip", "broken-content", "no-content"],
)
def test_ods_unreadable_file_raises_value_error(data):
    with pytest.raises(ValueError):
        ods_extras(data)
