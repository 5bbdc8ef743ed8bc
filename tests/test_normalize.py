"""Cells as town offices write them: dates in every spelling, counts, unit and town names."""

from datetime import date

import pandas as pd
import pytest

from monitor.core.normalize import (
    clean,
    map_unique_text,
    parse_count,
    parse_date,
    parse_month,
    short_unit_name,
    title_key,
    town_key,
)

MARCH_5 = date(2025, 3, 5)


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-05",
        "2025-3-5",
        "2025/3/5",
        "2025/03/05",
        "2025.3.5",
        "2025年3月5日",
        "2025年03月05日",
        "2025 年 3 月 5 日",
        "20250305",
        "2025-03-05 14:30",
        "2025-03-05 14:30:00",
        "2025/3/5 9:05",
        "2025-03-05T09:00:00",
        "2025年3月5日 14:30",
        "20250305 1430",
        "45721",
        "45721.0",
        "45721.625",
        "  2025-03-05  ",
    ],
)
def test_every_spelling_of_a_date(text):
    assert parse_date(text) == MARCH_5


@pytest.mark.parametrize("text", ["２０２５－０３－０５", "２０２５年３月５日", "　2025/3/5　", "２０２５０３０５"])
def test_full_width_dates_after_cleaning(text):
    assert parse_date(clean(text)) == MARCH_5


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "三月五日",
        "2025-02-30",
        "2025-13-01",
        "2025-00-10",
        "2025-03",
        "3/5/2025",
        "05.03.2025",
        "2025-03-05-01",
        "20251305",
        "2025",
        "12345",
        "100000",
        "-45721",
    ],
)
def test_what_is_not_a_date(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2025-03", "2025-03"),
        ("2025-3", "2025-03"),
        ("2025/3", "2025-03"),
        ("2025年3月", "2025-03"),
        ("2025.03", "2025-03"),
        ("２０２５－０３", "2025-03"),
        ("2025-03-05", "2025-03"),
        ("2025-13", None),
        ("2025-00", None),
        ("三月", None),
        ("", None),
    ],
)
def test_months(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "count"),
    [("0", 0), ("12", 12), ("12.0", 12), ("1,234", 1234), (" 12 ", 12), ("12人", 12), ("8张", 8)],
)
def test_counts(text, count):
    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "", "十二", "nan", "inf", "12个"])
def test_what_is_not_a_count(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_clean_makes_full_width_half_width_and_trims():
    assert clean("　ＮＪＫ－ＹＣＴ　") == "NJK-YCT"
    assert clean("宣讲　活动") == "宣讲 活动"
    assert clean(None) == ""
    assert clean(float("nan")) == ""
    assert clean(12) == "12"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("油草塘村新时代文明实践站", "油草塘村"),
        ("油草塘村", "油草塘村"),
        ("油草塘村 新时代文明实践站", "油草塘村"),
        ("油草塘村文明实践站", "油草塘村"),
        ("泥江口镇新时代文明实践所", "泥江口镇"),
        ("区新时代文明实践服务中心", "区"),
        ("和平社区新时代文明实践站", "和平社区"),
    ],
)
def test_short_unit_name(name, short):
    assert short_unit_name(name) == short


@pytest.mark.parametrize(
    ("town", "key"),
    [
        ("泥江口镇", "泥江口"),
        ("泥江口", "泥江口"),
        ("资江街道", "资江"),
        ("资江街道办事处", "资江"),
        ("马迹塘乡", "马迹塘"),
        (" 泥江口 镇 ", "泥江口"),
        ("镇", "镇"),
    ],
)
def test_town_key(town, key):
    assert town_key(town) == key


def test_titles_that_differ_only_in_spaces_and_case_are_one_activity():
    assert title_key("Happy 宣讲 活动") == title_key("happy宣讲活动") == "happy宣讲活动"
    assert title_key("宣讲活动") != title_key("宣讲活动二")


@pytest.mark.parametrize(
    "cells",
    [
        ["荷阳街道", "新港街道", "荷阳街道"],  # clean already: the column is kept as read
        ["  荷阳街道", "ＡＢ１２", "荷阳街道", None, "新港\u200b街道\t"],  # padded, full-width, empty, control
    ],
)
def test_a_text_column_is_cleaned_cell_by_cell_alike_however_it_is_built(cells):
    column = pd.Series(cells, dtype="str")
    cleaned = map_unique_text(column, clean)
    assert list(cleaned) == [clean(c) for c in cells]
    assert cleaned.dtype == "str"
