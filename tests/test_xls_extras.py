"""Rows hidden in a legacy .xls (by hand, or by a filter WPS wrote) are not activities: never stored
without a word, as in an .xlsx."""

from __future__ import annotations

import io

import xlwt
from factories import OPERATOR, TODAY, load_roster
from python_calamine import CalamineWorkbook
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.models import Activity
from monitor.files.xls_extras import xls_extras
from monitor.ingest.importer import import_activities


def workbook(hidden: list[int]) -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("台账")
    sheet.write(0, 0, "泥江口镇2026年6月新时代文明实践活动台账")
    for j, header in enumerate(["单位名称", "活动日期", "活动名称", "备注"]):
        sheet.write(1, j, header)
    titles = ["理论宣讲", "读书分享会", "端午包粽子", "义诊进村"]
    for i, title in enumerate(titles):
        sheet.write(2 + i, 0, "油草塘村")
        sheet.write(2 + i, 1, f"2026-06-{3 + i:02d}")
        sheet.write(2 + i, 2, title)
        sheet.write(2 + i, 3, "作废" if 2 + i in hidden else "")
    for row in hidden:
        sheet.row(row).hidden = True
    book.add_sheet("Sheet2").write(0, 0, "空")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_hidden_rows_are_read_by_sheet_where_calamine_numbers_them() -> None:
    data = workbook([3, 5])
    extras = xls_extras(data)
    assert extras["台账"].hidden_rows == {3, 5}
    assert extras["Sheet2"].hidden_rows == set()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("台账").to_python(skip_empty_area=False)
    assert [rows[r][2] for r in (3, 5)] == ["读书分享会", "义诊进村"]


def test_an_unreadable_stream_gives_no_extras() -> None:
    assert xls_extras(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100) == {}


def test_a_hidden_xls_row_is_listed_and_not_stored(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    result = import_activities(
        session=session, actor=OPERATOR, data=workbook([3]), file_name="台账.xls", settings=settings, today=TODAY
    )
    assert (result.file_error, result.errors) == (None, [])
    titles = set(session.exec(select(Activity.title)).all())
    assert titles == {"理论宣讲", "端午包粽子", "义诊进村"}
    listed = [r for r in result.to_json()["reading"]["skipped_rows"] if r["row"] == 4]  # type: ignore[index]
    assert len(listed) == 1 and listed[0]["reason"].startswith("已隐藏的行")
    assert "读书分享会" in listed[0]["content"]
