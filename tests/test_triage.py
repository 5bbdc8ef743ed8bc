"""疑点核查's view of the signals: narrowed by code and unit type, units and activities ranked, the list as exported."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from monitor.core.export import frame_xlsx
from monitor.evidence import triage
from monitor.evidence.signals import COLUMNS, EXTRA_COLUMNS, SIGNALS


def _frame(rows: list[tuple[str, str, str, int | None, str]]) -> pd.DataFrame:
    """Signals as monitor.evidence.signals gives them: (code, unit code, type, activity id, message)."""
    frame = pd.DataFrame(
        [
            {
                "code": code,
                "unit_code": unit,
                "unit_name": f"{unit}站",
                "town": "泥江口镇" if unit.startswith("NJK") else "兰溪镇",
                "month": "2025-06",
                "activity_id": activity,
                "message": message,
                "date": None if activity is None else f"2025-06-{activity % 28 + 1:02d}",
                "title": None if activity is None else f"活动{activity}",
                "unit_id": 1,
                "type": kind,
            }
            for code, unit, kind, activity, message in rows
        ],
        columns=COLUMNS + EXTRA_COLUMNS,
    )
    frame["activity_id"] = frame["activity_id"].astype("Int64")
    return frame


SIGNALLED = _frame(
    [
        ("photo_reused", "NJK-YCT", "station", 11, "照片与兰溪镇和平村 2025-06-03 的活动相同"),
        ("photo_date", "NJK-YCT", "station", 11, '=HYPERLINK("x")'),
        ("no_photo", "NJK-YCT", "station", 12, "无照片"),
        ("month_end_bunching", "NJK-YCT", "station", None, "月底集中"),
        ("no_photo", "LX-S", "institute", 21, "无照片"),
    ]
)


def test_all_codes_when_none_is_asked_and_units_and_activities_ranked():
    found = triage.narrow(SIGNALLED)
    assert len(found.signals) == 5
    assert list(found.units["unit_code"]) == ["NJK-YCT", "LX-S"] and list(found.units["signals"]) == [4, 1]
    assert list(found.activities["activity_id"]) == [11, 21, 12]  # 2 signals first, then by township
    assert list(found.activities["signals"]) == [2, 1, 1]
    assert found.activities["codes"].iloc[0] == "照片重复使用、拍摄日期不符"
    assert found.counts() == {
        **dict.fromkeys(SIGNALS, 0),
        "photo_reused": 1,
        "photo_date": 1,
        "no_photo": 2,
        "month_end_bunching": 1,
    }


def test_codes_and_unit_type_narrow_the_list():
    only = triage.narrow(SIGNALLED, codes=["no_photo"])
    assert list(only.signals["activity_id"]) == [12, 21]
    assert list(only.units["unit_code"]) == ["LX-S", "NJK-YCT"]  # one each: by township
    stations = triage.narrow(SIGNALLED, codes=["no_photo", "nonsense"], unit_type="station")
    assert list(stations.signals["unit_code"]) == ["NJK-YCT"]
    unit_months = triage.narrow(SIGNALLED, codes=["month_end_bunching"])
    assert len(unit_months.signals) == 1 and unit_months.activities.empty
    assert list(unit_months.activities.columns) == triage.ACTIVITY_COLUMNS


def test_no_signal_gives_empty_rankings():
    found = triage.narrow(_frame([]))
    assert found.signals.empty and found.units.empty and found.activities.empty
    assert list(triage.table(found.signals).columns) == list(triage.HEADINGS.values())


def test_the_exported_list_has_chinese_names_and_runs_no_formula():
    table = triage.table(triage.narrow(SIGNALLED).signals)
    assert list(table.columns) == ["疑点", "所属乡镇", "单位名称", "活动日期", "活动名称", "说明", "单位编码", "月份"]
    assert list(table["疑点"])[:2] == ["照片重复使用", "拍摄日期不符"]
    sheet = openpyxl.load_workbook(io.BytesIO(frame_xlsx(table, "疑点清单")))["疑点清单"]
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(cells) == 5
    assert '\'=HYPERLINK("x")' in [row[5] for row in cells]  # kept as text, not run
    ranked = triage.ranked(triage.narrow(SIGNALLED).units)
    assert list(ranked["排名"]) == [1, 2] and "疑点数" in ranked.columns
