"""Rows and tables a person sees through (SPEC §7 round two): where a second table begins, which rows
are headings or notes and not activities, form headers, and unit names with suggestions."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.files.layout_blocks import block_starts
from monitor.files.layout_header import header_forms, is_form_system, look_up, vocabulary
from monitor.files.layout_rows import HEADER_AGAIN, MERGED_TEXT, NOTE, SECTION, TITLE_AGAIN, reason_for
from monitor.ingest.validate import ACTIVITY_COLUMNS, UNIT_ANCHORS
from monitor.roster.unit_index import UnitIndex

LOOKUP = vocabulary(ACTIVITY_COLUMNS)


def field_of(cell: object) -> str | None:
    column = look_up(LOOKUP, cell)
    return column.key if column is not None else None


def starts(header: list[str]) -> list[int]:
    return block_starts(header, field_of=field_of, anchors=UNIT_ANCHORS, number=lambda c: c == "序号")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["序号", "单位名称", "活动日期", "活动名称", "参与人数"], [0]),
        (["序号", "单位名称", "活动日期", "活动名称", "", "序号", "单位名称", "活动日期", "活动名称"], [0, 5]),
        (["单位名称", "活动日期", "活动名称", "单位名称", "活动日期", "活动名称"], [0, 3]),
        # two date columns (日期 and 时间) are one table, not two
        (["单位名称", "日期", "时间", "活动名称", "地点"], [0]),
        (["序号", "单位", "时间", "主题", "序号", "单位", "时间", "主题", "序号", "单位", "时间", "主题"], [0, 4, 8]),
    ],
)
def test_a_header_repeated_to_the_right_starts_a_second_table(header: list[str], expected: list[int]) -> None:
    assert starts(header) == expected


def never_header(cells: list[str]) -> bool:
    return False


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["一、镇新时代文明实践所"] * 6, SECTION),
        (["二、村（社区）新时代文明实践站", "", "", "", "", ""], SECTION),
        (["（一）理论宣讲类", "", ""], SECTION),
        (["泥江口镇2026年6月新时代文明实践活动台账（续表）"] * 6, TITLE_AGAIN),
        (["以下为6月份补报活动"] * 6, NOTE),
        (["注：活动照片已另行报送", "", ""], NOTE),
        (["油草塘村"] * 5, MERGED_TEXT),
        # an activity with its date missing is an activity: checked, and refused if it must be
        (["油草塘村", "", "端午包粽子", "30"], ""),
        (["油草塘村", "", "", ""], ""),
        (["", "", ""], ""),
    ],
)
def test_an_undated_row_is_set_aside_only_when_it_is_no_activity(cells: list[str], reason: str) -> None:
    assert reason_for(cells, is_header=never_header) == reason


def test_a_header_repeated_after_a_page_break_is_set_aside() -> None:
    row = ["序号", "单位名称", "活动日期", "活动名称"]

    def is_header(cells: list[str]) -> bool:
        return len({field_of(c) for c in cells if c} - {None}) >= 2

    assert reason_for(row, is_header=is_header) == HEADER_AGAIN


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("3、活动时间：", "date"),
        ("1、所属乡镇（街道）：", "town"),
        ("2、村（社区）名称：", "name"),
        ("Q4.活动主题", "title"),
        ("(5)参与人数", "participants"),
        ("*活动开展日期", "date"),
        ("参加人数（人）", "participants"),
        ("活动名称（必填）", "title"),
    ],
)
def test_an_online_form_question_is_read_as_its_field(written: str, field: str) -> None:
    assert field_of(written) == field, header_forms(written)


@pytest.mark.parametrize("written", ["提交答卷时间", "提交时间（自动）", "来自IP", "提交者（自动）", "所用时间"])
def test_a_form_systems_own_column_is_never_the_activity_date(written: str) -> None:
    assert field_of(written) is None
    assert is_form_system(written)


ROSTER = pd.DataFrame(
    [
        (1, "HS-S", "赫山街道新时代文明实践所", "赫山街道", "赫山街道", "institute"),
        (2, "HS-THL", "桃花仑社区新时代文明实践站", "桃花仑社区", "赫山街道", "station"),
        (3, "HS-ZJW", "赵家湾村新时代文明实践站", "赵家湾村", "赫山街道", "station"),
        (4, "NJK-S", "泥江口镇新时代文明实践所", "泥江口镇", "泥江口镇", "institute"),
        (5, "NJK-YCT", "油草塘村新时代文明实践站", "油草塘村", "泥江口镇", "station"),
        (6, "LX-THL", "桃花村新时代文明实践站", "桃花村", "兰溪镇", "station"),
    ],
    columns=["id", "code", "name", "short_name", "town", "type"],
).assign(active_from=None, active_to=None)


@pytest.mark.parametrize(
    ("name", "town", "unit"),
    [
        ("油草塘村委会", "", 5),
        ("油草塘村村民委员会", "", 5),
        ("（油草塘村）", "", 5),
        ("油草塘村(新时代文明实践站)", "", 5),
        ("油草塘村新時代文明實踐站", "", 5),
        ("趙家灣村", "", 3),
        ("桃花仑社区居委会", "", 2),
        ("桃花仑居委会", "", 2),
        ("桃花仑社区党群服务中心", "", 2),
        ("街道新时代文明实践所", "赫山街道", 1),
        ("镇新时代文明实践所", "泥江口镇", 4),
    ],
)
def test_a_unit_is_found_as_offices_write_its_name(name: str, town: str, unit: int) -> None:
    assert UnitIndex.build(ROSTER).resolve("", town, name) == (unit, None, "")


def test_suggestions_come_from_the_files_township_first_each_named_once() -> None:
    index = UnitIndex.build(ROSTER)
    _, code, hint = index.resolve("", "赫山街道", "桃花仑社")
    assert code == "unknown_unit"
    assert hint.startswith("是否为：赫山街道桃花仑社区")  # not 兰溪镇桃花村, which is as close
    assert "赫山街道赫山街道" not in hint
    named = hint.removeprefix("是否为：").removesuffix("？").split("、")
    assert len(named) == len(set(named))
