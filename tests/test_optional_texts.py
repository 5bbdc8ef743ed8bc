"""SPEC §7 round two: only unit, date and title can refuse a row. An optional text over its limit
(活动类型 20, 活动地点 200, 备注 2,000 characters) is stored cut to the limit, the whole text kept as
written, with one warning for the column; a title over 200 characters still refuses its row."""

from __future__ import annotations

import json

from factories import OPERATOR, TODAY, activities_csv, load_roster
from sqlmodel import Session, select

from monitor.core.config import Settings
from monitor.core.models import Activity
from monitor.ingest.importer import import_activities

HEADER = ["单位编码", "活动日期", "活动名称", "活动类型", "活动地点", "备注"]


def test_a_long_optional_text_is_kept_cut_and_its_row_stored(session: Session, settings: Settings) -> None:
    load_roster(session, settings)
    notes = "活动过程" + "群众踊跃参加。" * 400  # 2,804 characters
    rows = [
        ("NJK-YCT", "2025-06-03", "理论宣讲", "理论宣讲与移风易俗相结合的综合性志愿服务活动", "村部", notes),
        ("NJK-YCT", "2025-06-04", "读书会", "文体活动", "村" * 250, ""),
        ("NJK-YCT", "2025-06-05", "讲" * 201, "其他", "村部", ""),
    ]
    result = import_activities(
        session=session,
        actor=OPERATOR,
        data=activities_csv(rows, header=HEADER),
        file_name="台账.csv",
        settings=settings,
        today=TODAY,
    )
    assert [(e.row, e.column, e.code) for e in result.errors] == [(4, "活动名称", "too_long")]
    cut = {(w.column, w.row) for w in result.warnings if w.code == "cut_text"}
    assert cut == {("活动类型", 2), ("活动地点", 3), ("备注", 2)}
    stored = {a.title: a for a in session.exec(select(Activity)).all()}
    assert set(stored) == {"理论宣讲", "读书会"}
    first, second = stored["理论宣讲"], stored["读书会"]
    assert (len(first.category), len(first.notes), len(second.location)) == (20, 2000, 200)
    assert first.notes == notes[:2000] and second.location == "村" * 200
    assert json.loads(first.as_written) == {"活动类型": rows[0][3], "备注": notes}
    assert json.loads(second.as_written) == {"活动地点": "村" * 250}
