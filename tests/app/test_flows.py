"""The flows a clerk and a reviewer go through, on screen: upload, interview, rollback."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from monitor.core.models import Activity, ImportBatch
from monitor.core.query import Query
from monitor.store.db import get_engine
from tests.factories import OPERATOR, activities_csv, load_roster

GOOD_AND_BAD = activities_csv(
    [
        ["NJK-YCT", "", "", "2025-03-05", "3月理论宣讲", "40"],
        ["", "泥江口镇", "和平村", "2025-03-06", "3月志愿服务", "25"],
        ["", "", "不存在村", "2025-03-07", "3月无主活动", "10"],
        ["NJK-S", "", "", "2025/3/32", "=1+1", "abc"],  # refused for its date; its count alone would not be
    ]
)


def _count(settings) -> int:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return int(s.exec(select(func.count()).select_from(Activity)).one())


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
    return settings


def _period(at, start="2025-01", end="2025-06"):  # type: ignore[no-untyped-def]
    at.session_state["f_start"], at.session_state["f_end"] = start, end
    return at


def test_upload_previews_then_imports_and_the_overview_moves(app_for, district):
    at = _period(app_for(district)).run()
    before = {m.label: m.value for m in at.metric}
    assert before["开展活动（场次）"] == "0"

    at.switch_page("app_pages/upload.py").run()
    at.file_uploader[0].set_value(("三月台账.csv", GOOD_AND_BAD, "text/csv")).run()
    assert not at.exception
    preview = {m.label: m.value for m in at.metric}
    assert (preview["读取行数"], preview["将新增"], preview["有问题（不导入）"]) == ("4", "2", "2")
    report = at.dataframe[-1].value
    assert list(zip(report["行号"], report["问题代码"], strict=True)) == [(4, "unknown_unit"), (5, "bad_date")]
    assert _count(district) == 0, "the preview stores nothing"

    [confirm] = [b for b in at.button if b.label == "确认导入"]
    confirm.click().run()
    assert not at.exception
    assert any("新增 2 场" in s.value for s in at.success)
    assert _count(district) == 2

    at.switch_page("app_pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["开展活动（场次）"] == "2"


def test_a_whole_file_error_is_shown_in_chinese(app_for, district):
    at = app_for(district).run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader[0].set_value(("空.csv", b"", "text/csv")).run()
    assert not at.exception
    assert any("文件是空的" in e.value for e in at.error)


def test_an_interview_recorded_shows_as_status(app_for, district):
    with Session(get_engine(district.database_url)) as s:
        from monitor.ingest.importer import import_activities

        import_activities(
            session=s,
            data=activities_csv([["NJK-HP", "", "", "2025-01-05", "1月活动", "9"]]),
            file_name="a.csv",
            settings=district,
            actor=OPERATOR,
        )
    at = _period(app_for(district), "2025-01", "2025-03").run()
    at.switch_page("app_pages/interviews.py").run()
    table = at.dataframe[0].value
    assert "油草塘村新时代文明实践站" in set(table["单位名称"])
    assert set(table["约谈状态"]) == {"未约谈"}

    form_unit = [s for s in at.selectbox if s.label == "约谈单位"][0]
    label = [o for o in form_unit.options if "NJK-YCT" in o][0]
    form_unit.set_value(label)
    [who] = [t for t in at.text_input if t.label == "约谈人"]
    who.input("区委宣传部 赵六")
    [save] = [b for b in at.button if b.label == "保存约谈记录"]
    save.click().run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["单位编码"] == "NJK-YCT"].iloc[0]
    assert row["约谈状态"].startswith("已约谈") and "赵六" in row["约谈状态"]


def test_a_rollback_restores_the_previous_figures(app_for, district):
    at = _period(app_for(district)).run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader[0].set_value(("三月台账.csv", GOOD_AND_BAD, "text/csv")).run()
    [b for b in at.button if b.label == "确认导入"][0].click().run()
    assert _count(district) == 2

    at.switch_page("app_pages/imports.py").run()
    [sure] = [c for c in at.checkbox if c.label.startswith("我确认撤销")]
    sure.check().run()
    [undo] = [b for b in at.button if b.label == "撤销这次导入"]
    undo.click().run()
    assert not at.exception
    assert _count(district) == 0
    with Session(get_engine(district.database_url)) as s:
        statuses = {b.kind: b.status for b in s.exec(select(ImportBatch)).all()}
    assert statuses["activities"] == "rolled_back" and statuses["rollback"] == "done"

    at.switch_page("app_pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["开展活动（场次）"] == "0"


def test_a_formula_in_a_title_comes_out_escaped(district):
    import io

    import openpyxl

    from monitor.ingest.importer import import_activities
    from monitor.reports.ledger import ledger_xlsx

    with Session(get_engine(district.database_url)) as s:
        import_activities(
            session=s,
            data=activities_csv(
                [["NJK-S", "", "", "2025-03-08", "=1+1", "5"], ["NJK-S", "", "", "2025-03-09", "@SUM(A1:A9)", "5"]]
            ),
            file_name="f.csv",
            settings=district,
            actor=OPERATOR,
        )
        data = ledger_xlsx(session=s, query=Query(actor=OPERATOR, settings=district, start="2025-03", end="2025-03"))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["明细"]
    titles = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == ["'=1+1", "'@SUM(A1:A9)"]
    assert all(c.data_type == "s" for c in sheet["E"])


def _unit(settings, code):  # type: ignore[no-untyped-def]
    from monitor.core.models import Unit

    with Session(get_engine(settings.database_url)) as s:
        return s.exec(select(Unit).where(Unit.code == code)).one()


def test_editing_a_unit_keeps_a_quota_typed_without_the_tick_and_shows_no_none(app_for, district):
    at = app_for(district).run()
    at.switch_page("app_pages/roster.py").run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert not shown.isna().any().any() and "None" not in shown.astype(str).to_numpy()

    [unit] = [s for s in at.selectbox if s.label == "选择单位"]
    unit.set_value([o for o in unit.options if "（NJK-HP）" in o][0]).run()
    [quota] = [n for n in at.number_input if n.label.startswith("本单位月度任务")]
    assert quota.value == 2
    quota.set_value(5)
    [phone] = [t for t in at.text_input if t.label == "联系电话"]
    phone.input("13900000000")
    [save] = [b for b in at.button if b.label == "保存"]
    save.click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    saved = _unit(district, "NJK-HP")
    assert saved.phone == "13900000000"
    shown = at.dataframe[0].value.set_index("单位编码")
    assert shown.at["NJK-HP", "月度任务"] == 5  # the roster now shows this month's own quota


def test_roster_import_previews_refused_rows_then_adds_the_good_ones(app_for, district):
    roster = "单位编码,单位名称,单位类型,所属乡镇\r\nNJK-XM,新民村,站,泥江口镇\r\nNJK-BAD,坏数据村,村委会,泥江口镇\r\n"
    at = app_for(district).run()
    at.switch_page("app_pages/roster.py").run()
    at.file_uploader[0].set_value(("名册.csv", roster.encode("utf-8"), "text/csv")).run()
    assert not at.exception
    preview = {m.label: m.value for m in at.metric}
    assert (preview["将新增"], preview["有问题"]) == ("1", "1")
    assert list(at.dataframe[-1].value["行号"]) == [3]
    assert "下载有问题的行（Excel）" in [b.label for b in at.get("download_button")]
    [confirm] = [b for b in at.button if b.label == "确认导入名册"]
    confirm.click().run()
    assert not at.exception
    assert _unit(district, "NJK-XM").town == "泥江口镇"


def test_roster_preview_shows_each_change_before_and_after_and_keeps_blank_cells(app_for, district):
    """A file with a new head and a blank phone: the head changes, the stored phone stays."""
    roster = (
        "单位编码,单位名称,单位类型,所属乡镇,负责人,联系电话\r\nNJK-YCT,油草塘村新时代文明实践站,站,泥江口镇,赵六,\r\n"
    )
    with Session(get_engine(district.database_url)) as s:
        from monitor.ingest.quotas import UnitChanges, update_unit
        from tests.factories import TODAY

        update_unit(
            session=s,
            actor=OPERATOR,
            settings=district,
            code="NJK-YCT",
            today=TODAY,
            changes=UnitChanges(quota=None, head="王五", phone="13800000009", active_from="", active_to=""),
        )
    at = app_for(district).run()
    at.switch_page("app_pages/roster.py").run()
    at.file_uploader[0].set_value(("名册.csv", roster.encode("utf-8"), "text/csv")).run()
    assert not at.exception
    changes = at.dataframe[-1].value
    assert changes[["单位编码", "项目", "原值", "新值"]].values.tolist() == [["NJK-YCT", "负责人", "王五", "赵六"]]
    [confirm] = [b for b in at.button if b.label == "确认导入名册"]
    confirm.click().run()
    saved = _unit(district, "NJK-YCT")
    assert (saved.head, saved.phone) == ("赵六", "13800000009")


def test_a_reviewer_picks_the_township_that_settles_a_village_name_found_in_two(app_for, district):
    """和平村 is a station of 泥江口镇 and of 兰溪镇: refused as ambiguous until the township is picked."""
    ledger = "村（社区）,活动时间,活动主题\r\n和平村,2026-06-11,理论宣讲\r\n".encode("gb18030")
    at = app_for(district).run()
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader[0].set_value(("台账.csv", ledger, "text/csv")).run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert (shown["将新增"], shown["有问题（不导入）"]) == ("0", "1")
    reading = "\n".join(m.value for m in at.markdown)
    assert "识别结果" in reading and "表头在第 1 行" in reading
    [town] = [s for s in at.selectbox if s.label == "代哪个乡镇（街道）上传"]
    town.set_value("兰溪镇").run()
    shown = {m.label: m.value for m in at.metric}
    assert (shown["将新增"], shown["有问题（不导入）"]) == ("1", "0")
    [confirm] = [b for b in at.button if b.label == "确认导入"]
    confirm.click().run()
    with Session(get_engine(district.database_url)) as s:
        from monitor.core.models import Unit

        codes = s.exec(select(Unit.code).join(Activity, Activity.unit_id == Unit.id)).all()
    assert codes == ["LX-HP"]
