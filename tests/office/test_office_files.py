"""Township ledgers as offices really keep them (issue 8, SPEC §7), through the import a user's upload takes.

Each file of tests/office/corpus.py is imported on SQLite and PostgreSQL: exactly its expected
activities are stored, exactly its expected rows are refused (sheet, Excel row, code), the
messages are Chinese on one line, and the reading summary (识别结果) says how the file was read.
The summary's wording is the importer's own: these tests compare names, rows and numbers, and
only ask of a reason that it is Chinese text.
"""

from __future__ import annotations

import re
from typing import Protocol

import pytest
from factories import OPERATOR, SMALL_ROSTER, TODAY, load_roster
from sqlmodel import Session, col, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity, ImportBatch, Unit
from monitor.ingest.batches import ImportResult
from monitor.ingest.importer import import_activities
from tests.office.corpus import EXTRA_UNITS, TEMPLATE_HEADER, Case, Key, cases, template

ROSTER = [*SMALL_ROSTER, *EXTRA_UNITS]
CASES = cases()
CJK = re.compile(r"[\u4e00-\u9fff]")
SPACE = re.compile(r"\s+")
# A preview must report what the import then does: one file of each kind of trouble.
PREVIEWED = {
    "01_合并单元格.xlsx",
    "11_标题行两行表头.xls",
    "15_合计与签字.csv",
    "22_同名村_未定乡镇.xlsx",
    "27_全部习惯.xlsx",
    "28_全部习惯.xls",
}


class Uploaded(Protocol):
    """A file of either corpus, as the upload takes it."""

    data: bytes
    name: str
    town: str | None


def run(
    session: Session, settings: Settings, case: Uploaded, *, dry_run: bool = False, strict: bool = False
) -> ImportResult:
    return import_activities(
        session=session,
        actor=OPERATOR,
        data=case.data,
        file_name=case.name,
        settings=settings,
        today=TODAY,
        town=case.town,
        dry_run=dry_run,
        strict=strict,
    )


def stored(session: Session) -> dict[Key, tuple[int | None, int | None]]:
    """Every stored activity as (unit code, ISO date, title) -> (participants, volunteers)."""
    rows = session.exec(
        select(Unit.code, Activity.date, Activity.title, Activity.participants, Activity.volunteers).join(
            Unit, col(Activity.unit_id) == col(Unit.id)
        )
    ).all()
    return {(code, day.isoformat(), title): (people, volunteers) for code, day, title, people, volunteers in rows}


def compact(text: str) -> str:
    return SPACE.sub("", text)


def chinese_line(text: object) -> bool:
    return isinstance(text, str) and bool(CJK.search(text)) and "\n" not in text and "\r" not in text


def month_of(value: object) -> int:
    """6 from 6, "6", "06" or "2026-06"."""
    return int(str(value)[-2:].lstrip("-"))


def check_reading(reading: dict, case: Case) -> None:
    sheets = reading["sheets"]
    by_name = {s["name"]: s for s in sheets}
    if case.sheets is None:  # a CSV: one table, whatever its sheet is called
        assert len(sheets) == 1, sheets
    else:
        assert set(by_name) == case.sheets
        assert {s["name"] for s in sheets if s["unit_from_sheet"]} == case.unit_from_sheet
    for name, rows in case.header_rows.items():
        sheet = sheets[0] if case.sheets is None else by_name[name]
        assert sheet["header_rows"] == rows, (name, sheet["header_rows"])

    assert {s["name"] for s in reading["skipped_sheets"]} == case.skipped_sheets
    assert all(chinese_line(s["reason"]) for s in reading["skipped_sheets"]), reading["skipped_sheets"]

    columns = {(compact(c["header"]), c["field"]) for s in sheets for c in s["columns"]}
    for header, field in case.columns:
        assert any(header in written and f == field for written, f in columns), (header, field, columns)
    unmapped = {compact(h) for s in sheets for h in s["unmapped"]}
    assert case.unmapped <= unmapped, unmapped

    if case.sheets is None:
        listed = {("", s["row"]) for s in reading["skipped_rows"]}
    else:
        listed = {(s["sheet"], s["row"]) for s in reading["skipped_rows"]}
    assert case.skipped_rows <= listed, listed
    assert all(chinese_line(s["reason"]) for s in reading["skipped_rows"]), reading["skipped_rows"]

    context = reading["context"]
    if "year" in case.context:
        assert str(context["year"])[:4] == str(case.context["year"]), context
    if "month" in case.context:
        assert context["month"] and month_of(context["month"]) == case.context["month"], context
    if "town" in case.context:
        assert context["town"] == case.context["town"], context
        assert context["source"], context


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_office_file_is_read_as_a_person_reads_it(session: Session, settings: Settings, case: Case) -> None:
    load_roster(session, settings, ROSTER)
    result = run(session, settings, case)
    assert result.file_error is None, result.file_error

    assert set(stored(session)) == case.stored
    refused = {(e.sheet, e.row, e.code): e for e in result.errors}
    assert set(refused) == case.refused, [e.to_json() for e in result.errors]
    for where, column in case.column_of.items():
        assert refused[where].column == column, refused[where]
    for where, fragment in case.message_has.items():
        assert fragment in refused[where].message, refused[where].message
    counts = stored(session)
    for key, (people, volunteers) in case.counts.items():
        assert counts[key][0] == people, (key, counts[key])
        if volunteers is not None:
            assert counts[key][1] == volunteers, (key, counts[key])

    warned = {(w.sheet, w.row, w.code): w for w in result.warnings}
    for where, column in case.warned.items():
        assert where in warned, [w.to_json() for w in result.warnings]
        assert warned[where].column == column and column in warned[where].message, warned[where]

    for found in [*result.errors, *result.warnings]:
        assert chinese_line(found.message), found
        assert found.column is None or "\n" not in found.column, found
    skipped = {(w.sheet, w.row) for w in result.warnings if w.code == "skipped_row"}
    assert case.skipped_rows <= skipped, sorted(skipped)
    if case.guessed_dates:  # a date whose year was taken from elsewhere is a warning, not silence
        assert any(w.code != "skipped_row" and "年" in w.message for w in result.warnings), result.warnings

    check_reading(result.to_json()["reading"], case)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in PREVIEWED], ids=sorted(PREVIEWED))
def test_a_preview_stores_nothing_and_foretells_the_import(session: Session, settings: Settings, case: Case) -> None:
    load_roster(session, settings, ROSTER)
    preview = run(session, settings, case, dry_run=True)
    assert stored(session) == {}
    kinds = session.exec(select(func.count()).select_from(ImportBatch).where(ImportBatch.kind == "activities")).one()
    assert kinds == 0

    done = run(session, settings, case)
    assert preview.imported == done.imported == len(case.stored)
    assert {(e.sheet, e.row, e.code) for e in preview.errors} == {(e.sheet, e.row, e.code) for e in done.errors}
    assert preview.to_json()["reading"] == done.to_json()["reading"]


def test_the_template_layout_is_read_exactly_as_before(session: Session, settings: Settings) -> None:
    """No town picked, no title: the file every existing test uploads."""
    case = template("csv")
    load_roster(session, settings, ROSTER)
    result = import_activities(
        session=session, actor=OPERATOR, data=case.data, file_name=case.name, settings=settings, today=TODAY
    )
    assert (result.file_error, result.errors, result.warnings) == (None, [], [])
    assert (result.rows, result.imported) == (len(case.stored), len(case.stored))
    assert stored(session) == case.counts

    reading = result.to_json()["reading"]
    assert len(reading["sheets"]) == 1
    sheet = reading["sheets"][0]
    assert sheet["header_rows"] == [1]
    assert {c["header"]: c["field"] for c in sheet["columns"]} == {h: h for h in TEMPLATE_HEADER}
    assert (sheet["unmapped"], sheet["unit_from_sheet"]) == ([], False)
    assert (reading["skipped_sheets"], reading["skipped_rows"]) == ([], [])
