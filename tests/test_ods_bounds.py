"""An .ods whose repeat counts declare more cells than it holds is refused before calamine expands it;
the empty runs LibreOffice writes to the sheet's end are not held against it."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from factories import OPERATOR, TODAY, load_roster
from sqlmodel import Session, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity
from monitor.ingest.importer import import_activities
from tests.office.corpus import Sheet
from tests.office.corpus2 import ODS_NS, ods


def bomb(rows: int, columns: int) -> bytes:
    cell = (
        f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell>"
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="台账">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>单位名称</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>活动日期</text:p></table:table-cell></table:table-row>'
        f'<table:table-row table:number-rows-repeated="{rows}">{cell}</table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.mark.parametrize(("rows", "columns"), [(1_000_000, 16_384), (1, 5_000), (100_000, 100)])
def test_an_ods_that_declares_too_many_cells_is_refused_before_it_is_read(
    session: Session, settings: Settings, rows: int, columns: int
) -> None:
    load_roster(session, settings)
    tracemalloc.start()
    result = import_activities(
        session=session, actor=OPERATOR, data=bomb(rows, columns), file_name="台账.ods", settings=settings, today=TODAY
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.file_error is not None and result.file_error.code == "too_large", result.file_error
    assert "上限" in result.file_error.message
    assert peak < 64 * 1024 * 1024
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def test_empty_runs_to_the_sheets_end_do_not_count(session: Session, settings: Settings) -> None:
    sheet = Sheet("台账")
    sheet.add("单位名称", "活动日期", "活动名称")
    sheet.add("油草塘村", "2026-06-03", "理论宣讲")
    data = ods(sheet)
    tail = (
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read("content.xml").decode().replace("</table:table>", tail + "</table:table>")
        parts = {name: archive.read(name) for name in archive.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, content if name == "content.xml" else body)
    load_roster(session, settings)
    result = import_activities(
        session=session, actor=OPERATOR, data=out.getvalue(), file_name="台账.ods", settings=settings, today=TODAY
    )
    assert (result.file_error, result.errors, result.imported) == (None, [], 1)
