"""Township ledgers, round two (SPEC §7 "(round two)"), through the import a user's upload takes.

Each file of tests/office/corpus2.py is imported on SQLite and PostgreSQL: exactly its expected
activities are stored, exactly its expected rows are refused (sheet, Excel row, code), rows that
are not activities are set aside with a reason and never refused, hidden rows are listed and not
stored, loose counts are read (or left empty) with the text as written kept, and pictures inside
the file are attached to their activity. The wording of reasons is the importer's own: these
tests compare names, rows and numbers, and only ask of a message that it is Chinese on one line.
"""

from __future__ import annotations

import json

import pytest
from factories import SMALL_ROSTER, load_roster
from sqlmodel import Session, col, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch, Photo, Unit
from monitor.ingest.batches import ImportResult
from tests.office.corpus import Key
from tests.office.corpus2 import ROUND_TWO_UNITS, TOWNS, Case, cases, pasted_photos, sections_and_continued, word_letter
from tests.office.test_office_files import chinese_line, compact, run

ROSTER2 = [*SMALL_ROSTER, *ROUND_TWO_UNITS]
CASES = cases()
# A preview must report what the import then does.
PREVIEWED = {
    "35_左右两表.xlsx",
    "37_筛选隐藏行.xlsx",
    "39_分节标题与续表.xlsx",
    "40_问卷星导出.xlsx",
    "48_全部习惯_赫山街道.xlsx",
    "49_全部习惯_泥江口镇.xls",
}


def _joined(*columns):  # type: ignore[no-untyped-def]
    return select(Unit.code, Activity.date, Activity.title, *columns).join(Unit, col(Activity.unit_id) == col(Unit.id))


def stored(session: Session) -> dict[Key, tuple[int | None, int | None, int | None]]:
    """Every stored activity as (unit code, ISO date, title) -> (participants, volunteers, photos column)."""
    rows = session.exec(_joined(Activity.participants, Activity.volunteers, Activity.photos)).all()
    return {(code, day.isoformat(), title): (people, vol, pics) for code, day, title, people, vol, pics in rows}


def as_written(session: Session) -> dict[Key, str]:
    """Activity.as_written of every stored activity (a JSON object of header -> text, or "")."""
    rows = session.exec(_joined(Activity.as_written)).all()
    return {(code, day.isoformat(), title): text for code, day, title, text in rows}


def photo_rows(session: Session) -> dict[Key, int]:
    """How many Photo rows each stored activity has (activities without any are left out)."""
    statement = (
        select(Unit.code, Activity.date, Activity.title, func.count(col(Photo.id)))
        .join(Activity, col(Photo.activity_id) == col(Activity.id))
        .join(Unit, col(Activity.unit_id) == col(Unit.id))
        .group_by(Unit.code, Activity.date, Activity.title)
    )
    return {(code, day.isoformat(), title): n for code, day, title, n in session.exec(statement).all()}


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def messages(result: ImportResult) -> list[str]:
    return [i.message for i in [*([result.file_error] if result.file_error else []), *result.errors, *result.warnings]]


def check_messages(result: ImportResult) -> None:
    for found in [*result.errors, *result.warnings]:
        assert chinese_line(found.message), found
        assert found.column is None or "\n" not in found.column, found
    for text in messages(result):
        assert not any(town + town in text for town in TOWNS), text  # 赫山街道赫山街道


def check_reading(reading: dict, case: Case, errors: set[tuple[str, int]]) -> None:
    sheets = reading["sheets"]
    listed = {(s["sheet"], s["row"]): s for s in reading["skipped_rows"]}
    assert all(chinese_line(s["reason"]) for s in reading["skipped_rows"]), reading["skipped_rows"]
    assert case.set_aside <= set(listed), sorted(set(listed))
    assert not (case.set_aside & errors), sorted(case.set_aside & errors)  # set aside, never refused
    for place, title in case.hidden.items():
        assert listed[place]["reason"].startswith("已隐藏的行"), listed[place]
        assert title in listed[place]["content"], listed[place]

    unmapped = {compact(h) for s in sheets for h in s["unmapped"]}
    assert case.unmapped <= unmapped, unmapped
    for name, letter in case.unused.items():
        notes = [u for s in sheets if s["name"] == name for u in s["unused"]]
        assert notes, sheets
        assert all(chinese_line(u) for u in notes), notes
        assert any(letter in u for u in notes), notes
    for name in case.blocks:
        both = [s for s in sheets if s["name"] == name or s["name"].startswith(f"{name}（")]
        assert [s.get("block", 0) for s in both] == [0, 1], both
    if case.pictures is not None:
        assert reading["photos"] == case.pictures, reading.get("photos")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_round_two_file_is_read_as_a_person_reads_it(session: Session, settings: Settings, case: Case) -> None:
    load_roster(session, settings, ROSTER2)
    result = run(session, settings, case)
    assert result.file_error is None, result.file_error

    rows = stored(session)
    assert set(rows) == case.stored, (sorted(set(rows) - case.stored), sorted(case.stored - set(rows)))
    refused = {(e.sheet, e.row, e.code): e for e in result.errors}
    assert set(refused) == case.refused, [e.to_json() for e in result.errors]
    for where, fragment in case.message_has.items():
        assert fragment in refused[where].message, refused[where].message
    assert result.duplicates == case.duplicates
    for key, people in case.counts.items():
        assert rows[key][0] == people, (key, rows[key])
    for key, volunteers in case.volunteers.items():
        assert rows[key][1] == volunteers, (key, rows[key])
    for key, pics in case.photo_count.items():
        assert rows[key][2] == pics, (key, rows[key])
    check_messages(result)

    loose = [w for w in result.warnings if w.code == "loose_number"]
    if case.loose_columns is not None:  # one warning per column, however many rows
        assert sorted(compact(w.column or "") for w in loose) == sorted(case.loose_columns), [
            w.to_json() for w in loose
        ]
    typed = {(w.sheet, w.row) for w in result.warnings if w.code == "date_as_typed"}
    assert case.typed_dates <= typed, sorted(typed)
    assert not (case.not_typed & typed), sorted(case.not_typed & typed)

    reading = result.to_json()["reading"]
    assert isinstance(reading, dict)
    check_reading(reading, case, {(e.sheet, e.row) for e in result.errors if e.row is not None})

    if case.written or case.plain:
        written = as_written(session)
        for key, texts in case.written.items():
            doc = json.loads(written[key])
            for header, text in texts.items():
                assert doc[header] == text, (key, doc)
        for key in case.plain:
            assert written[key] == "", (key, written[key])
    assert photo_rows(session) == case.photos


def test_rows_that_are_not_activities_do_not_stop_a_strict_import(session: Session, settings: Settings) -> None:
    """Headings, 小计, 续表 and notes are set aside, not refused: --strict stores every activity."""
    case = sections_and_continued()
    load_roster(session, settings, ROSTER2)
    result = run(session, settings, case, strict=True)
    assert (result.file_error, result.errors) == (None, [])
    assert result.exit_code == 0
    assert set(stored(session)) == case.stored
    assert result.imported == len(case.stored)
    listed = {(s["sheet"], s["row"]) for s in result.to_json()["reading"]["skipped_rows"]}  # type: ignore[index]
    assert case.set_aside <= listed, sorted(listed)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in PREVIEWED], ids=sorted(PREVIEWED))
def test_a_preview_stores_nothing_and_foretells_the_import(session: Session, settings: Settings, case: Case) -> None:
    load_roster(session, settings, ROSTER2)
    preview = run(session, settings, case, dry_run=True)
    assert preview.file_error is None, preview.file_error
    assert stored(session) == {}
    kinds = session.exec(select(func.count()).select_from(ImportBatch).where(ImportBatch.kind == "activities")).one()
    assert kinds == 0

    done = run(session, settings, case)
    assert preview.imported == done.imported == len(case.stored)
    assert preview.duplicates == done.duplicates == case.duplicates
    assert {(e.sheet, e.row, e.code) for e in preview.errors} == {(e.sheet, e.row, e.code) for e in done.errors}
    assert preview.to_json()["reading"] == done.to_json()["reading"]


def test_a_word_file_without_a_ledger_says_it_is_a_word_file(session: Session, settings: Settings) -> None:
    case = word_letter()
    load_roster(session, settings, ROSTER2)
    result = run(session, settings, case)
    assert result.file_error is not None
    assert result.file_error.code == "no_header", result.file_error
    assert chinese_line(result.file_error.message), result.file_error.message
    assert "Word 文档" in result.file_error.message, result.file_error.message
    assert "Excel" not in result.file_error.message, result.file_error.message
    assert stored(session) == {}


def test_photos_pasted_in_a_workbook_are_foretold_attached_and_never_twice(
    session: Session, settings: Settings
) -> None:
    case = pasted_photos()
    load_roster(session, settings, ROSTER2)
    preview = run(session, settings, case, dry_run=True)
    assert preview.file_error is None, preview.file_error
    assert preview.to_json()["reading"]["photos"] == {"pictures": 16, "activities": 8}  # type: ignore[index]
    assert (count(session, Activity), count(session, Photo)) == (0, 0)

    first = run(session, settings, case)
    assert (first.errors, first.imported) == ([], 8)
    assert photo_rows(session) == dict.fromkeys(case.stored, 2)

    again = run(session, settings, case)
    assert (again.errors, again.imported, again.duplicates) == ([], 0, 8)
    assert photo_rows(session) == dict.fromkeys(case.stored, 2)
    assert count(session, Photo) == 16
