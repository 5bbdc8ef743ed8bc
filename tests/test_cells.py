"""Cells as people write them: counts in words, dates among words and times, unit names, suggestions."""

from datetime import date

import pytest

from monitor.core.normalize import clean, parse_date
from monitor.files.cells import DateRead, read_count, read_date, suggest, unit_key

LONG = 32_767  # the most characters an Excel cell holds

# --- counts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("12", 12),
        ("12.0", 12),
        ("1,234", 1234),
        ("1,234.00", 1234),
        (" 12 ", 12),
        ("１２", 12),  # full-width, as a raw cell: read_count cleans it too
        ("12人", 12),
        ("12 人", 12),
        ("5张", 5),
        ("100000", 100000),
    ],
)
def test_a_plain_count_is_exact(text, value):
    assert read_count(text) == (value, True)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30余人", 30),
        ("5名", 5),
        ("10人次", 10),
        ("3个", 3),
        ("4位", 4),
        ("6户", 6),
        ("30多人", 30),
        ("约40人", 40),
        ("大约40人", 40),
        ("近50人", 50),
        ("共30人", 30),
        ("40人左右", 40),
        ("40-50人", 40),
        ("40~50", 40),
        ("40～50", 40),
        ("40至50人", 40),
        ("40—50", 40),
        ("100+", 100),
        ("100＋", 100),
        ("30人（其中党员12人）", 30),
        ("30(其中党员12人)", 30),
        ("30（含志愿者）", 30),
        ("30人，其中党员12人", 30),
        ("30名群众", 30),
        ("三十人", 30),
        ("二十余人", 20),
        ("一百二十人", 120),
        ("十五人", 15),
        ("两人", 2),
        ("一百零五人", 105),
        ("三百五", 350),
        ("两千零五", 2005),
        ("九千九百九十九", 9999),
        ("三十至四十人", 30),
    ],
)
def test_a_count_read_as_a_person_would(text, value):
    assert read_count(text) == (value, False)


@pytest.mark.parametrize(
    "text",
    [
        "全体党员",
        "若干",
        "见附件",
        "-5",
        "1.5",
        "100001",
        "200000",
        "2026-06-03",
        "2026-06",  # 6 to 2026 people is a month, not a range
        "2026年6月",
        "12月",
        "1,2",
        "一二三",
        "一万",
        "abc",
        "1" * LONG,
        "约" * LONG,
    ],
)
def test_a_count_nobody_can_read(text):
    assert read_count(text) == (None, False)


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_an_empty_count_is_nothing_to_warn_about(text):
    assert read_count(text) == (None, True)


def test_a_long_explanation_after_a_count_still_reads():
    assert read_count("30人（" + "其中" * LONG + "）") == (30, False)


# --- dates -------------------------------------------------------------------------------------

MARCH_5 = DateRead(2025, 3, 5, "")


@pytest.mark.parametrize(
    "text",
    [
        # SPEC §3, with and without a time
        "2025-03-05",
        "2025/3/5",
        "2025.3.5",
        "2025年3月5日",
        "20250305",
        "2025-03-05 14:30",
        "2025-03-05 14:30:00",
        "2025-03-05T09:00:00",
        "2025/3/5 9:05",
        "2025年3月5日 14:30",
        "20250305 1430",
        # an Excel serial number, full-width forms, stray spaces
        "45721",
        "45721.625",
        "２０２５－０３－０５",
        "２０２５年３月５日",
        "　2025/3/5　",
        "  2025-03-05  ",
    ],
)
def test_every_plain_form_reads_with_no_note(text):
    assert read_date(text) == MARCH_5


@pytest.mark.parametrize("text", ["2026.6.3 14:30", "2026-06-03 14:30", "2026年6月3日", "2026-06-03T14:30:00"])
def test_what_parse_date_reads_needs_no_note(text):
    found = parse_date(clean(text))
    assert found is not None
    assert read_date(text) == DateRead(found.year, found.month, found.day, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6月3日", DateRead(None, 6, 3, "")),
        ("6月3号", DateRead(None, 6, 3, "")),
        ("6/3", DateRead(None, 6, 3, "")),
        ("6-3", DateRead(None, 6, 3, "")),
        ("6.24", DateRead(None, 6, 24, "")),
        ("6.3", DateRead(None, 6, 3, "", unsure=True)),
        ("6.1", DateRead(None, 6, 1, "", unsure=True)),
        ("6.10", DateRead(None, 6, 10, "")),
        ("2月29日", DateRead(None, 2, 29, "")),  # some year has it: the year decides later
    ],
)
def test_a_date_without_its_year(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # time of day
        ("2026年6月3日上午", DateRead(2026, 6, 3, "去掉了“上午”")),
        ("2026年6月3日下午", DateRead(2026, 6, 3, "去掉了“下午”")),
        ("2026年6月3日晚上", DateRead(2026, 6, 3, "去掉了“晚上”")),
        ("2026年6月3日早上", DateRead(2026, 6, 3, "去掉了“早上”")),
        ("2026年6月3日中午", DateRead(2026, 6, 3, "去掉了“中午”")),
        ("2026年6月3日傍晚", DateRead(2026, 6, 3, "去掉了“傍晚”")),
        ("2026年6月3日凌晨", DateRead(2026, 6, 3, "去掉了“凌晨”")),
        ("2026年6月3日全天", DateRead(2026, 6, 3, "去掉了“全天”")),
        ("2026年6月3日晚", DateRead(2026, 6, 3, "去掉了“晚”")),
        ("20260603上午", DateRead(2026, 6, 3, "去掉了“上午”")),
        ("6.3下午", DateRead(None, 6, 3, "去掉了“下午”")),
        ("6月3日下午3点", DateRead(None, 6, 3, "去掉了时间 3点；去掉了“下午”")),
        ("2026年6月3日晚7点", DateRead(2026, 6, 3, "去掉了时间 7点；去掉了“晚”")),
        # clock times and time ranges
        ("2026-06-03 9:00-11:30", DateRead(2026, 6, 3, "去掉了时间 9:00-11:30")),
        ("6月3日 9：00—11：00", DateRead(None, 6, 3, "去掉了时间 9:00—11:00")),
        ("6月3日3点半", DateRead(None, 6, 3, "去掉了时间 3点半")),
        ("6月3日 9-11点", DateRead(None, 6, 3, "去掉了时间 9-11点")),
        ("2026年6月3日14时30分", DateRead(2026, 6, 3, "去掉了时间 14时30分")),
        ("2026.6.3-14:30", DateRead(2026, 6, 3, "去掉了时间 14:30")),
        ("上午9:00 6/3", DateRead(None, 6, 3, "去掉了时间 9:00；去掉了“上午”")),
        ("9:10-11:30 6月3日", DateRead(None, 6, 3, "去掉了时间 9:10-11:30")),
        # weekdays
        ("2026年6月4日（周四）", DateRead(2026, 6, 4, "去掉了星期")),
        ("2026-06-04 星期四", DateRead(2026, 6, 4, "去掉了星期")),
        ("6月4日(礼拜四)", DateRead(None, 6, 4, "去掉了星期")),
        ("6月7日 周日", DateRead(None, 6, 7, "去掉了星期")),
        # words around the date
        ("于2026年6月3日开展", DateRead(2026, 6, 3, "去掉了“于”“开展”")),
        ("2026年6月3日举行", DateRead(2026, 6, 3, "去掉了“举行”")),
        ("6月3日开展", DateRead(None, 6, 3, "去掉了“开展”")),
        ("时间:6/3", DateRead(None, 6, 3, "去掉了“时间”")),
        ("日期：26日", DateRead(None, None, 26, "只有日，年月按上下文补全；去掉了“日期”")),
        (
            "活动时间：2026年6月3日（星期三）上午9:00-11:30",
            DateRead(2026, 6, 3, "去掉了星期；去掉了时间 9:00-11:30；去掉了“活动时间”“上午”"),
        ),
        # ranges take their first day
        ("2026.10.9-10.10", DateRead(2026, 10, 9, "日期范围，取第一天")),
        ("2026年6月26日至28日", DateRead(2026, 6, 26, "日期范围，取第一天")),
        ("6月26日-6月28日", DateRead(None, 6, 26, "日期范围，取第一天")),
        ("2026/6/26~2026/6/28", DateRead(2026, 6, 26, "日期范围，取第一天")),
        ("2026-06-26 至 2026-06-28", DateRead(2026, 6, 26, "日期范围，取第一天")),
        ("6.3-6.5", DateRead(None, 6, 3, "日期范围，取第一天")),
        ("26日至28日", DateRead(None, None, 26, "日期范围，取第一天；只有日，年月按上下文补全")),
        # a day alone
        ("3日", DateRead(None, None, 3, "只有日，年月按上下文补全")),
        ("26号", DateRead(None, None, 26, "只有日，年月按上下文补全")),
        ("26日上午", DateRead(None, None, 26, "只有日，年月按上下文补全；去掉了“上午”")),
    ],
)
def test_a_date_among_what_people_type_around_it(text, expected):
    assert read_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "3",  # a bare number is not a date
        "26",
        "12345",
        "全天",
        "待定",
        "3点半",
        "2026年6月",  # a month alone
        "2026-06",
        "2026-02-30",
        "2026年2月30日",
        "2026-13-01",
        "2月30日",
        "13月1日",
        "32日",
        "6/3/2026",
        "6.3.5",
        # a date that does not say it is one (no year, no 月) among other words is no date
        "共3日",
        "3号楼",
        "第1.2期",
        "6/3开展",
        "6月份3日",
        "x" * LONG,
    ],
)
def test_what_is_not_a_date(text):
    assert read_date(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "1" * LONG,
        "9:" * (LONG // 2),
        "6月" * (LONG // 2),
        "1-" * (LONG // 2),
        "2026年6月3日" + "上午" * LONG,
        "(" * LONG,
        "周" * LONG,
    ],
)
def test_a_cell_of_the_largest_size_returns(text):
    found = read_date(text)
    assert found is None or isinstance(found, DateRead)
    value, _ = read_count(text)
    assert value is None or isinstance(value, int)
    assert isinstance(unit_key(text), str)


def test_only_the_head_of_a_long_cell_is_searched():
    assert read_date("2026年6月3日" + "开展理论宣讲" * LONG) == DateRead(
        2026, 6, 3, "去掉了“开展理论宣讲开展理论宣讲…”"
    )
    assert read_date("x" * 100 + "2026年6月3日") is None


def test_a_read_date_is_a_calendar_date():
    found = read_date("于2026年6月3日开展")
    assert found is not None and found.year is not None and found.month is not None
    assert date(found.year, found.month, found.day) == date(2026, 6, 3)


# --- unit names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "油草塘村",
        "油草塘村新时代文明实践站",
        "油草塘村 新时代文明实践站",
        "油草塘村文明实践站",
        "油草塘村实践站",
        "油草塘村委会",
        "油草塘村民委员会",
        "油草塘村村委会",
        "油草塘村村民委员会",
        "油草塘村委会新时代文明实践站",
        "油草塘村党群服务中心",
        "油草塘村（新时代文明实践站）",
        "油草塘村(新时代文明实践站)",
        "油草塘村[新时代文明实践站]",
        "（油草塘村）",
        "【油草塘村】",
        "油草塘村(站)",
        "油草塘村（村委会）",
        "油草塘村新時代文明實踐站",
        "油草塘村\u200b",
        "　油草塘村　",
    ],
)
def test_every_way_of_writing_a_village_is_the_village(name):
    assert unit_key(name) == "油草塘村"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("江南社区", "江南社区"),
        ("江南社区居委会", "江南社区"),
        ("江南社区居民委员会", "江南社区"),
        ("江南居委会", "江南社区"),
        ("江南居民委员会", "江南社区"),
        ("江南社区新时代文明实践站", "江南社区"),
        ("新华村（一组）", "新华村一组"),
        ("新华村（一组）新时代文明实践站", "新华村一组"),
        ("泥江口镇新时代文明实践所", "泥江口镇"),
        ("区新时代文明实践服务中心", "区"),
        ("镇新时代文明实践所", "镇"),  # the township's institute keeps its place word
        ("新时代文明实践站", "新时代文明实践站"),  # only an ending: kept as written, never empty
        ("党群服务中心", "党群服务中心"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_unit_keys(name, key):
    assert unit_key(name) == key


def test_distinct_places_stay_distinct():
    assert unit_key("新华村") != unit_key("新华社区")
    assert unit_key("新华村委会") != unit_key("新华社区居委会")
    assert unit_key("新华村") != unit_key("新华村（一组）")
    assert unit_key("油草塘村") != unit_key("泥江口镇油草塘村")


# --- suggestions -------------------------------------------------------------------------------

LABELS = ["泥江口镇新华村", "泥江口镇油草塘村", "桃花江镇花园社区", "泥江口镇油草塘村", "马迹塘镇油溪村"]


def test_a_one_character_typo_finds_its_village_first():
    found = suggest("油草糖村", LABELS)
    assert found[0] == "泥江口镇油草塘村"
    assert len(found) == len(set(found)) <= 3


def test_a_wrong_character_ranks_above_a_missing_one():
    assert suggest("油草糖村", ["泥江口镇油草村", "泥江口镇油草塘村"]) == ["泥江口镇油草塘村", "泥江口镇油草村"]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("油草糖村新时代文明实践站", "泥江口镇油草塘村"),
        ("油草塘村委会", "泥江口镇油草塘村"),
        ("油草塘", "泥江口镇油草塘村"),
        ("新華村", "泥江口镇新华村"),
        ("花园社区居委会", "桃花江镇花园社区"),
    ],
)
def test_suggestions_compare_names_as_written(name, first):
    assert suggest(name, LABELS)[0] == first


def test_a_label_named_inside_a_longer_one_is_found():
    assert suggest("油草塘村", ["泥江口油草塘村", "新华村"]) == ["泥江口油草塘村"]


def test_suggestions_are_each_label_once_best_first_at_most_limit():
    labels = ["油草塘村", "油草塘村", "油草塘村新时代文明实践站", "油草堂村", "油草塘"]
    assert suggest("油草塘村", labels) == ["油草塘村", "油草塘村新时代文明实践站", "油草堂村"]
    assert suggest("油草塘村", labels, limit=1) == ["油草塘村"]
    assert suggest("油草塘村", labels, limit=0) == []


@pytest.mark.parametrize(("name", "labels"), [("", LABELS), ("油草塘村", []), ("完全无关的名字", LABELS)])
def test_no_suggestion(name, labels):
    assert suggest(name, labels) == []
