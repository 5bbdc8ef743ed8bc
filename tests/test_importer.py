"""Activity import: row errors as the clerk sees them, duplicates stored once, one transaction per file."""

import hashlib
import io
import json
from collections import Counter
from datetime import UTC, date, datetime

import openpyxl
import pytest
from conftest import TODAY
from factories import ACTIVITY_HEADER, OPERATOR, RULES, activities_csv, csv_bytes, load_roster
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import delete, select

from monitor.core.models import Activity, ImportBatch, MonthLock, TownMonth, Unit, UnitMonth
from monitor.core.normalize import title_key
from monitor.core.permissions import Actor
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.ingest import importer, inserts
from monitor.ingest.importer import import_activities
from monitor.store.db import data_version


@pytest.fixture
def district(session, settings):
    load_roster(session, settings)
    return session


def run(session, settings, data: bytes, *, file_name: str = "台账.csv", **options):
    options.setdefault("actor", OPERATOR)
    return import_activities(
        session=session, data=data, file_name=file_name, settings=settings, today=options.pop("today", TODAY), **options
    )


def found(result) -> list[tuple]:
    return [(e.row, e.column, e.code) for e in result.errors]


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def stored(session) -> list[tuple[str, date, str]]:
    rows = session.exec(select(Unit.code, Activity.date, Activity.title).join(Unit, Unit.id == Activity.unit_id))
    return sorted(rows.all())


def batches(session) -> list[ImportBatch]:
    return list(session.exec(select(ImportBatch).where(ImportBatch.kind == "activities").order_by(ImportBatch.id)))


GOOD = ("NJK-YCT", "", "", "2025-03-01", "理论宣讲", "20")
UNKNOWN = ("", "", "无名村", "2025-03-05", "宣讲", "")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("", "", "油草堂村", "2025-03-05", "宣讲", ""), [("单位名称", "unknown_unit")]),
        (("XX-9", "", "", "2025-03-05", "宣讲", ""), [("单位编码", "unknown_unit")]),
        (("", "兰溪镇", "油草塘村", "2025-03-05", "宣讲", ""), [("单位名称", "unknown_unit")]),
        (("", "", "和平村", "2025-03-05", "宣讲", ""), [("单位名称", "ambiguous_unit")]),
        (("", "", "和平村新时代文明实践站", "2025-03-05", "宣讲", ""), [("单位名称", "ambiguous_unit")]),
        (("NJK-YCT", "", "", "2025-02-30", "宣讲", ""), [("活动日期", "bad_date")]),
        (("NJK-YCT", "", "", "下周三", "宣讲", ""), [("活动日期", "bad_date")]),
        (("NJK-YCT", "", "", "2026-11-27", "宣讲", ""), [("活动日期", "future_date")]),
        (("LX-XJ", "", "", "2025-02-28", "宣讲", ""), [("活动日期", "inactive_unit")]),
        (("LX-XJ", "", "", "2025-07-01", "宣讲", ""), [("活动日期", "inactive_unit")]),
        (("", "", "", "2025-03-05", "宣讲", ""), [("单位名称", "missing_value")]),
        (("NJK-YCT", "", "", "", "宣讲", ""), [("活动日期", "missing_value")]),
        (("NJK-YCT", "", "", "2025-03-05", "", ""), [("活动名称", "missing_value")]),
        (("NJK-YCT", "", "", "2025-03-05", "　", ""), [("活动名称", "missing_value")]),
        (("NJK-YCT", "", "", "2025-01-15", "宣讲", ""), [("活动日期", "locked_month")]),
        (
            ("", "", "无名村", "2025-13-01", "", "x"),
            [
                ("单位名称", "unknown_unit"),
                ("活动日期", "bad_date"),
                ("活动名称", "missing_value"),
            ],
        ),
        (
            ("LX-XJ", "", "", "2025-01-15", "宣讲", "-3"),
            [("活动日期", "inactive_unit"), ("活动日期", "locked_month")],
        ),
    ],
)
def test_a_bad_row_is_refused_with_its_excel_row_and_column(district, settings, row, expected):
    district.add(MonthLock(month="2025-01", locked_by="审核员", locked_at=datetime.now(UTC)))
    district.commit()
    result = run(district, settings, activities_csv([GOOD, row]))
    assert found(result) == [(3, column, code) for column, code in expected]
    assert all(e.message for e in result.errors)
    assert (result.rows, result.imported, result.rejected, result.exit_code) == (2, 1, 1, 1)
    assert stored(district) == [("NJK-YCT", date(2025, 3, 1), "理论宣讲")]


@pytest.mark.parametrize(("written", "participants"), [("-1", None), ("1.5", None), ("十二", 12)])
def test_a_count_that_is_not_a_whole_number_is_stored_as_read_with_a_warning(district, settings, written, participants):
    """SPEC §7 round two: only unit, date and title refuse a row; a count is read as a person reads
    it (十二 → 12) or left empty (-1, 1.5), the text as written kept, one loose_number warning."""
    row = ("NJK-YCT", "", "", "2025-03-05", "宣讲", written)
    result = run(district, settings, activities_csv([GOOD, row]))
    assert found(result) == []
    assert (result.rows, result.imported, result.rejected, result.exit_code) == (2, 2, 0, 0)
    assert [(w.row, w.column, w.code, w.value) for w in result.warnings] == [(3, "参与人数", "loose_number", written)]
    assert written in result.warnings[0].message
    kept = district.exec(
        select(Activity.participants, Activity.as_written).where(Activity.date == date(2025, 3, 5))
    ).one()
    assert (kept.participants, json.loads(kept.as_written)) == (participants, {"参与人数": written})
    assert stored(district) == [("NJK-YCT", date(2025, 3, 1), "理论宣讲"), ("NJK-YCT", date(2025, 3, 5), "宣讲")]


def test_today_itself_is_not_in_the_future(district, settings):
    result = run(district, settings, activities_csv([("NJK-YCT", "", "", TODAY.isoformat(), "宣讲", "")]))
    assert (found(result), result.imported) == ([], 1)


def test_a_real_bad_file_reports_every_row(district, settings):
    rows = [
        GOOD,
        ("", "", "油草堂村", "2025-03-05", "宣讲", ""),
        ("", "", "和平村", "2025-03-05", "宣讲", ""),
        ("NJK-YCT", "", "", "2025.3.32", "宣讲", ""),
        ("", "", "", "", "", ""),  # a blank line keeps the numbering
        ("NJK-YCT", "", "", "2027-01-01", "宣讲", ""),
        ("LX-XJ", "", "", "2025-08-01", "宣讲", ""),
        ("NJK-HP", "", "", "2025-03-05", "宣讲", "三十"),
        ("LX-HP", "", "", "2025-03-05", "宣讲", "30"),
    ]
    result = run(district, settings, activities_csv(rows))
    assert found(result) == [
        (3, "单位名称", "unknown_unit"),
        (4, "单位名称", "ambiguous_unit"),
        (5, "活动日期", "bad_date"),
        (7, "活动日期", "future_date"),
        (8, "活动日期", "inactive_unit"),
    ]
    assert (result.rows, result.imported, result.duplicates, result.rejected) == (8, 3, 0, 5)
    # 三十 is no reason to refuse the row (SPEC §7 round two): stored as 30, with one warning.
    assert [(w.row, w.column, w.code) for w in result.warnings] == [(9, "参与人数", "loose_number")]
    worded = district.exec(
        select(Activity.participants, Activity.as_written)
        .join(Unit, Unit.id == Activity.unit_id)
        .where(Unit.code == "NJK-HP")
    ).one()
    assert (worded.participants, json.loads(worded.as_written)) == (30, {"参与人数": "三十"})
    messages = {e.code: e.message for e in result.errors}
    assert "泥江口镇油草塘村" in messages["unknown_unit"]
    assert "兰溪镇" in messages["ambiguous_unit"] and "泥江口镇" in messages["ambiguous_unit"]
    assert "2025-03" in messages["inactive_unit"] and "2025-06" in messages["inactive_unit"]
    assert "nan" not in messages["inactive_unit"]


@pytest.mark.parametrize(
    ("active", "text"),
    [({"active_from": "2025-03"}, "2025-03 起启用"), ({"active_to": "2024-12"}, "启用至 2024-12")],
)
def test_an_inactive_unit_says_when_it_is_active(session, settings, active, text):
    load_roster(session, settings, [{"code": "A", "name": "甲村", "type": "站", "town": "甲镇", **active}])
    result = run(session, settings, activities_csv([("A", "", "", "2025-01-10", "宣讲", "")]))
    assert found(result) == [(2, "活动日期", "inactive_unit")]
    assert text in result.errors[0].message
    assert "nan" not in result.errors[0].message


def test_units_named_with_or_without_suffix_by_code_or_by_town(district, settings):
    rows = [
        ("", "", "油草塘村", "2025-03-01", "宣讲", ""),
        ("", "", "油草塘村新时代文明实践站", "2025-03-02", "宣讲", ""),
        ("NJK-YCT", "", "", "2025-03-03", "宣讲", ""),
        ("njk-yct", "", "", "2025-03-04", "宣讲", ""),
        ("", "泥江口镇", "和平村", "2025-03-05", "宣讲", ""),
        ("", "兰溪", "和平村新时代文明实践站", "2025-03-05", "宣讲", ""),
        ("", "", "泥江口镇和平村", "2025-03-06", "宣讲", ""),
        ("", "", "区新时代文明实践服务中心", "2025-03-07", "宣讲", ""),
        ("", "", "兰溪镇新时代文明实践所", "2025-03-08", "宣讲", ""),
    ]
    result = run(district, settings, activities_csv(rows))
    assert (found(result), result.imported) == ([], 9)
    assert [(code, day.day) for code, day, _ in stored(district)] == [
        ("LX-HP", 5),
        ("LX-S", 8),
        ("NJK-HP", 5),
        ("NJK-HP", 6),
        ("NJK-YCT", 1),
        ("NJK-YCT", 2),
        ("NJK-YCT", 3),
        ("NJK-YCT", 4),
        ("ZX", 7),
    ]


def test_a_code_wins_over_a_name(district, settings):
    result = run(district, settings, activities_csv([("NJK-YCT", "", "和平村", "2025-03-01", "宣讲", "")]))
    assert found(result) == []
    assert [code for code, *_ in stored(district)] == ["NJK-YCT"]


def test_a_code_of_another_township_than_the_row_says_is_refused(district, settings):
    """NJK-YCT is 泥江口镇's; a row saying 兰溪镇 beside it is a contradiction, not a silent choice."""
    result = run(district, settings, activities_csv([("NJK-YCT", "兰溪镇", "", "2025-03-01", "宣讲", "")]))
    assert found(result) == [(2, "所属乡镇", "town_mismatch")]
    assert "泥江口镇" in result.errors[0].message and "兰溪镇" in result.errors[0].message
    assert stored(district) == []


FILE = activities_csv(
    [
        ("NJK-YCT", "", "", "2025-03-01", "理论宣讲", "20"),
        ("NJK-YCT", "", "", "2025-03-02", "志愿服务", "15"),
        ("LX-HP", "", "", "2025-03-03", "文体活动", "40"),
    ]
)


def test_the_same_file_twice_is_stored_once(district, settings):
    first = run(district, settings, FILE)
    second = run(district, settings, FILE)
    assert (first.rows, first.imported, first.duplicates, first.exit_code) == (3, 3, 0, 0)
    assert (second.rows, second.imported, second.duplicates, second.exit_code) == (3, 0, 3, 0)
    assert count(district, Activity) == 3


def test_an_overlapping_file_imports_only_the_new_rows(district, settings):
    run(district, settings, FILE)
    overlap = activities_csv(
        [
            ("", "", "油草塘村新时代文明实践站", "2025/3/1", "理论 宣讲", "20"),  # the same activity, spelled otherwise
            ("LX-HP", "", "", "20250303", "文体活动", ""),
            ("LX-HP", "", "", "2025-03-04", "文体活动", ""),
            ("LX-S", "", "", "2025-03-04", "法治宣传", ""),
        ]
    )
    result = run(district, settings, overlap)
    assert (result.rows, result.imported, result.duplicates, result.rejected) == (4, 2, 2, 0)
    assert count(district, Activity) == 5


def test_duplicates_within_one_file_are_counted(district, settings):
    rows = [
        ("NJK-YCT", "", "", "2025-03-01", "理论宣讲", ""),
        ("NJK-YCT", "", "", "2025-03-01", "理论宣讲", ""),
        ("", "", "油草塘村", "2025年3月1日", "理论宣讲 ", ""),
        ("NJK-YCT", "", "", "2025-03-02", "理论宣讲", ""),
    ]
    result = run(district, settings, activities_csv(rows))
    assert (result.rows, result.imported, result.duplicates) == (4, 2, 2)
    assert count(district, Activity) == 2


def test_a_file_out_of_order_stores_the_first_row_of_each_activity_as_written(district, settings):
    rows = [
        ("LX-HP", "", "", "2025-03-09", "文体活动", "40"),
        ("NJK-YCT", "", "", "2025-03-02", "理论 宣讲", "20"),
        ("LX-HP", "", "", "2025-03-01", "科普宣传", "12"),
        ("NJK-YCT", "", "", "2025-03-02", "理论宣讲", "99"),  # the same activity again, spelled otherwise
        ("NJK-YCT", "", "", "2025-03-01", "志愿服务", "7"),
        ("LX-HP", "", "", "2025-03-09", "文体活动", "41"),  # and again
    ]
    result = run(district, settings, activities_csv(rows))
    assert (result.rows, result.imported, result.duplicates) == (6, 4, 2)
    stored = {
        (code, a.date.isoformat()): (a.title, a.participants)
        for a, code in district.exec(select(Activity, Unit.code).join(Unit, Unit.id == Activity.unit_id)).all()
    }
    assert stored == {
        ("LX-HP", "2025-03-09"): ("文体活动", 40),
        ("NJK-YCT", "2025-03-02"): ("理论 宣讲", 20),
        ("LX-HP", "2025-03-01"): ("科普宣传", 12),
        ("NJK-YCT", "2025-03-01"): ("志愿服务", 7),
    }


def test_strict_stores_nothing_when_a_row_is_bad(district, settings):
    data = activities_csv(
        [
            GOOD,
            ("NJK-YCT", "", "", "2025-13-45", "宣讲", ""),
            ("LX-HP", "", "", "2025-03-03", "宣讲", ""),
        ]
    )
    result = run(district, settings, data, strict=True)
    assert found(result) == [(3, "活动日期", "bad_date")]
    assert (result.imported, result.exit_code) == (0, 1)
    assert count(district, Activity) == 0
    assert [b.status for b in batches(district)] == ["refused"]


def test_strict_stores_a_clean_file(district, settings):
    result = run(district, settings, FILE, strict=True)
    assert (result.imported, result.exit_code) == (3, 0)


def _fail_on_second_chunk(monkeypatch):
    monkeypatch.setattr(inserts, "CHUNK", 1)
    calls = []

    def progress(fraction, text):
        calls.append(text)
        if calls.count("写入数据库") == 2:
            raise RuntimeError("disk full")

    return {"progress": progress}


def _fail_after_writing(monkeypatch):
    def boom(session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "bump_version", boom)
    return {}


@pytest.mark.parametrize("fail", [_fail_on_second_chunk, _fail_after_writing], ids=["midway", "before-commit"])
def test_a_failed_import_leaves_the_database_as_it_was(district, settings, monkeypatch, fail):
    run(district, settings, FILE)
    before = (stored(district), count(district, ImportBatch), data_version(district))
    more = activities_csv([("LX-S", "", "", f"2025-04-{d:02d}", "宣讲", "") for d in range(1, 6)])
    with pytest.raises(RuntimeError):
        run(district, settings, more, **fail(monkeypatch))
    assert (stored(district), count(district, ImportBatch), data_version(district)) == before
    monkeypatch.undo()
    assert run(district, settings, more).imported == 5


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        ("单位名称,活动名称\r\n油草塘村,宣讲\r\n".encode(), "missing_column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unknown_format"),
        ("甲,乙\r\n1,2\r\n".encode(), "no_header"),
    ],
)
def test_a_file_refused_as_a_whole_stores_nothing(district, settings, data, code):
    result = run(district, settings, data)
    assert (result.file_error.code, result.exit_code, result.imported) == (code, 2, 0)
    assert result.to_json()["errors"][0]["code"] == code
    assert count(district, Activity) == 0
    (batch,) = batches(district)
    assert (batch.status, batch.message) == ("refused", result.file_error.message)


@pytest.mark.parametrize(
    ("data", "options", "status", "counts"),
    [
        (FILE, {}, "imported", (3, 3, 0, 0)),
        (activities_csv([GOOD, GOOD, UNKNOWN]), {}, "imported", (3, 1, 1, 1)),
        (activities_csv([GOOD, UNKNOWN]), {"strict": True}, "refused", (2, 0, 0, 1)),
        ("活动日期,活动名称\r\n2025-03-05,宣讲\r\n".encode(), {}, "refused", (0, 0, 0, 0)),
    ],
    ids=["clean", "with-errors", "strict", "whole-file"],
)
def test_every_import_is_recorded(district, settings, data, options, status, counts):
    clerk = Actor(name="town-clerk", role="reviewer")
    result = run(district, settings, data, file_name="泥江口镇3月台账.csv", actor=clerk, **options)
    (batch,) = batches(district)
    assert batch.id == result.batch_id
    assert (batch.user, batch.file_name, batch.sha256, batch.size) == (
        "town-clerk",
        "泥江口镇3月台账.csv",
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
    assert batch.status == status
    assert (batch.rows, batch.imported, batch.duplicates, batch.rejected) == counts
    assert batch.created_at is not None
    assert result.sha256 == batch.sha256


def uploads(settings) -> set[str]:
    return {p.name for p in settings.uploads_dir.iterdir()}


def test_the_original_file_is_kept_under_its_hash(district, settings):
    before = uploads(settings)
    result = run(district, settings, FILE)
    kept = settings.uploads_dir / f"{result.sha256}.csv"
    assert kept.read_bytes() == FILE
    assert uploads(settings) - before == {kept.name}


def test_a_refused_file_is_kept_too(district, settings):
    data = b"\x89PNG\r\n\x1a\n\x00\x00"
    result = run(district, settings, data)
    assert (settings.uploads_dir / f"{result.sha256}.bin").read_bytes() == data


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\..\\etc\\passwd.csv", "/etc/passwd.csv"])
def test_an_uploaded_name_never_becomes_a_path(district, settings, tmp_path, name):
    before = uploads(settings)
    result = run(district, settings, FILE, file_name=name)
    (batch,) = batches(district)
    assert batch.file_name == "passwd.csv"
    assert uploads(settings) - before == {f"{result.sha256}.csv"}
    assert not (tmp_path / "etc").exists()
    assert not (settings.data_dir / "etc").exists()


def test_a_dry_run_reports_what_an_import_would_do_and_stores_nothing(district, settings):
    run(district, settings, FILE)
    version, kept = data_version(district), sorted(settings.uploads_dir.iterdir())
    data = activities_csv(
        [
            ("NJK-YCT", "", "", "2025-03-01", "理论宣讲", "20"),  # stored before
            ("NJK-HP", "", "", "2025-04-01", "宣讲", ""),
            ("NJK-HP", "", "", "2025-04-01", "宣讲", ""),  # twice in the file
            ("NJK-HP", "", "", "2025-04-02", "宣讲", ""),
            ("", "", "无名村", "2025-04-03", "宣讲", ""),
        ]
    )
    dry = run(district, settings, data, dry_run=True)
    assert (count(district, Activity), count(district, ImportBatch) - 1, data_version(district)) == (3, 1, version)
    assert sorted(settings.uploads_dir.iterdir()) == kept
    real = run(district, settings, data)
    summary = [(r.rows, r.imported, r.duplicates, r.rejected, found(r)) for r in (dry, real)]
    assert summary[0] == summary[1] == (5, 2, 2, 1, [(6, "单位名称", "unknown_unit")])
    assert count(district, Activity) == 5


def test_rejected_rows_carry_a_问题说明_column(district, settings):
    data = activities_csv([GOOD, ("", "", "无名村", "2025-13-01", "", "x"), ("NJK-YCT", "", "", "", "宣讲", "")])
    frame = run(district, settings, data).rejected_rows
    assert list(frame.columns) == [
        "行号",
        *ACTIVITY_HEADER,
        "活动类型",
        "志愿者人数",
        "活动地点",
        "图片数",
        "备注",
        "问题说明",
    ]
    assert frame["行号"].tolist() == [3, 4]
    assert frame["单位名称"].tolist() == ["无名村", ""]
    first, second = frame["问题说明"].tolist()
    assert first.count("；") == 2 and "无名村" in first and "2025-13-01" in first and "活动名称" in first
    assert "参与人数" not in first  # a count refuses nothing (SPEC §7 round two): its text stays in the row
    assert frame["参与人数"].tolist() == ["x", ""]
    assert second == "“活动日期”不能为空。"


def test_warnings_for_a_total_row_and_an_unknown_category(district, settings):
    header = [*ACTIVITY_HEADER, "活动类型"]
    rows = [
        (*GOOD, "广场舞"),
        ("LX-HP", "", "", "2025-03-02", "宣讲", "", "志愿服务"),
        ("合计", "", "", "", "2", "", ""),
    ]
    result = run(district, settings, csv_bytes(header, rows))
    assert (found(result), result.imported, result.exit_code) == ([], 2, 0)
    assert [(w.row, w.column, w.code) for w in result.warnings] == [
        (4, None, "skipped_row"),
        (2, "活动类型", "unknown_category"),
    ]


def test_an_xlsx_log_with_date_cells(district, settings):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["单位名称", "活动日期", "活动名称", "参与人数"])
    sheet.append(["油草塘村", date(2025, 3, 5), "宣讲", 12])
    sheet.append(["油草塘村", datetime(2025, 3, 6, 9, 30), "宣讲", 12.0])
    sheet.append(["油草塘村", 45723, "宣讲", None])
    out = io.BytesIO()
    workbook.save(out)
    result = run(district, settings, out.getvalue(), file_name="台账.xlsx")
    assert (found(result), result.imported) == ([], 3)
    assert [d for _, d, _ in stored(district)] == [date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 7)]
    assert (settings.uploads_dir / f"{result.sha256}.xlsx").exists()


# Property: import, then the report counts exactly the distinct activities generated.

NAMINGS = {
    "ZX": [("ZX", "", ""), ("", "", "区新时代文明实践服务中心")],
    "NJK-S": [("NJK-S", "", ""), ("", "", "泥江口镇新时代文明实践所")],
    "NJK-YCT": [("NJK-YCT", "", ""), ("", "", "油草塘村"), ("", "", "油草塘村新时代文明实践站"), ("nJK-yct", "", "")],
    "NJK-HP": [("NJK-HP", "", ""), ("", "泥江口镇", "和平村"), ("", "", "泥江口镇和平村新时代文明实践站")],
    "LX-HP": [("LX-HP", "", ""), ("", "兰溪镇", "和平村"), ("", "兰溪", "和平村新时代文明实践站")],
}
DATE_FORMATS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: str((d - date(1899, 12, 30)).days),
]
TITLES = ["理论宣讲", "理论 宣讲", "志愿服务", "Happy Day", "happy day", "文体活动进社区"]

activity = st.tuples(
    st.sampled_from(sorted(NAMINGS)),
    st.integers(min_value=0, max_value=9),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(min_value=0, max_value=len(DATE_FORMATS) - 1),
    st.sampled_from(TITLES),
)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activities=st.lists(activity, min_size=1, max_size=40))
def test_report_counts_exactly_the_distinct_activities_imported(district, settings, activities):
    district.exec(delete(Activity))
    district.exec(delete(UnitMonth))  # the counts go with the rows this reset deletes
    district.exec(delete(TownMonth))  # and so do their township sums
    district.exec(delete(ImportBatch))
    district.commit()
    rows = []
    for code, naming, day, fmt, title in activities:
        code_cell, town, name = NAMINGS[code][naming % len(NAMINGS[code])]
        rows.append((code_cell, town, name, DATE_FORMATS[fmt](day), title, ""))
    result = run(district, settings, activities_csv(rows))
    distinct = {(code, day, title_key(title)) for code, _, day, _, title in activities}
    assert (found(result), result.imported, result.duplicates) == ([], len(distinct), len(rows) - len(distinct))
    expected = Counter(day.strftime("%Y-%m") for _, day, _ in distinct)
    by_month = metrics.report(
        session=district, query=Query(actor=OPERATOR, settings=RULES, start="2025-01", end="2025-12")
    ).to_json()["by_month"]
    assert {m["month"]: m["held"] for m in by_month} == {
        f"2025-{m:02d}": expected[f"2025-{m:02d}"] for m in range(1, 13)
    }
