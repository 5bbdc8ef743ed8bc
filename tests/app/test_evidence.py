"""认定 on screen: a reviewer decides on 活动认定, the township answers on 活动反馈 with photos, the figures
follow; 疑点核查 on the demo lists signals and downloads them.

The district is the small roster of tests/factories.py; every figure is worked out by hand from the
activities each test stores.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlmodel import Session, col, select

from monitor.core.export import frame_xlsx
from monitor.core.models import AuditEvent, Feedback, Photo, Review
from monitor.core.query import Query
from monitor.evidence import signals, triage
from monitor.evidence.review import decide
from monitor.store.db import get_engine
from tests.factories import TODAY, count_by_hand, hold, load_roster
from tests.test_gallery import REVIEWER, attach, ids_of, photo

JUNE = "2025-06"


@pytest.fixture
def june(settings):  # type: ignore[no-untyped-def]
    """June 2025: 油草塘村 3 activities (days 1-3, the first with two photos), 和平村 2, 兰溪镇和平村 1."""
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
        hold(s, settings, {("NJK-YCT", JUNE): 3, ("NJK-HP", JUNE): 2, ("LX-HP", JUNE): 1}, today=TODAY)
        first = ids_of(s, "NJK-YCT", JUNE)[0]
        attach(s, settings, first, 1, "2025:06:01 09:30:00")
        attach(s, settings, first, 2)
    return settings


def _held(settings, town: str = "泥江口镇") -> int:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return sum(r.held for r in count_by_hand(s, [JUNE], town=town))


def _review(settings, activity_id: int):  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        found = s.get(Review, activity_id)
        return None if found is None else (found.decision, found.reason, found.reviewer)


def _button(at, label: str):  # type: ignore[no-untyped-def]
    [found] = [b for b in at.button if b.label == label]
    return found


def _reason(at):  # type: ignore[no-untyped-def]
    [found] = [t for t in at.text_input if t.label == "理由（不予认定必填）"]
    return found


def _open_review(app_for, settings, code: str = "NJK-YCT"):  # type: ignore[no-untyped-def]
    at = app_for(settings, role="reviewer", name="审核员甲")
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.session_state["rv_unit"] = code
    at.run()
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, [x.stack_trace[-1:] or x.value for x in at.exception]
    return at


def test_a_reviewer_rejects_with_a_reason_and_changes_it_back(app_for, june):
    first = ids_of_june(june)[0]
    assert _held(june) == 3 + 2  # 油草塘村 3 and 和平村 2 in June
    at = _open_review(app_for, june)
    assert any(c.startswith(f"{JUNE} · 全区：3 个单位共 6 项活动；待认定 6 项") for c in (c.value for c in at.caption))
    assert any("第 **1** / 3 项" in m.value for m in at.markdown)
    assert any(m.value.startswith("#### 2025-06-01 活动1") for m in at.markdown)
    assert any(c.value == "拍摄 2025-06-01 09:30" for c in at.caption), "the photos with their EXIF times"
    assert any(c.value == "无拍摄时间（照片未记录）" for c in at.caption)

    _button(at, "不予认定").click().run()  # no reason
    assert any("不予认定须写明理由" in e.value for e in at.error), [e.value for e in at.error]
    assert _review(june, first) is None and _held(june) == 5

    _reason(at).input("照片与活动内容不符")
    _button(at, "不予认定").click().run()
    assert not at.exception and not at.error
    assert _review(june, first) == ("rejected", "照片与活动内容不符", "审核员甲")
    assert _held(june) == 4  # one fewer held in 泥江口镇's June
    assert any(
        c.startswith(f"{JUNE} · 全区：3 个单位共 6 项活动；待认定 5 项，不予认定 1 项")
        for c in (c.value for c in at.caption)
    )
    assert any("第 **2** / 3 项" in m.value for m in at.markdown), "the next activity waiting comes up"

    _button(at, "上一项").click().run()
    assert any(m.value.startswith("#### 2025-06-01 活动1") for m in at.markdown)
    assert any("不予认定" in m.value and "照片与活动内容不符" in m.value for m in at.markdown)
    _button(at, "认定").click().run()
    assert not at.exception and not at.error
    assert _review(june, first) == ("recognised", "", "审核员甲")
    assert _held(june) == 5
    with Session(get_engine(june.database_url)) as s:
        kinds = s.exec(select(Feedback.kind).where(Feedback.activity_id == first).order_by(col(Feedback.id))).all()
    assert list(kinds) == ["rejected", "recognised"]
    with Session(get_engine(june.database_url)) as s:
        audited = s.exec(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.after).where(AuditEvent.action == "review")
        ).all()
    assert [(a, who) for a, who, _ in audited] == [("review", "审核员甲")] * 2
    assert "照片与活动内容不符" in audited[0][2]


def test_the_overview_counts_the_activities_not_recognised(app_for, june):
    first = ids_of_june(june)[0]
    with Session(get_engine(june.database_url)) as s:
        decide(
            session=s,
            actor=REVIEWER,
            settings=june,
            activity_id=first,
            decision="rejected",
            reason="无现场照片",
            seen="",
            today=TODAY,
        )
    at = app_for(june)
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.run()
    shown = {m.label: m.value for m in at.metric}
    assert (shown["不予认定（场次）"], shown["开展活动（场次）"]) == ("1", "5")  # 6 held in June, one not recognised
    assert any(f"{JUNE} 至 {JUNE}有 **1** 项活动不予认定，1 项待乡镇答复" in w.value for w in at.warning)


def ids_of_june(settings) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return ids_of(s, "NJK-YCT", JUNE)


def test_the_next_unit_follows_the_last_activity(app_for, june):
    at = _open_review(app_for, june, code="NJK-HP")
    assert any("第 **1** / 2 项" in m.value for m in at.markdown)
    _button(at, "下一项").click().run()
    assert any("第 **2** / 2 项" in m.value for m in at.markdown)
    _button(at, "下一项").click().run()  # after the unit's last activity, 下一项 moves on to the next unit
    assert at.session_state["rv_unit"] == "NJK-YCT"
    assert any("第 **1** / 3 项" in m.value for m in at.markdown)


def _reject_both_townships(settings) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        njk = ids_of(s, "NJK-HP", JUNE)[0]
        [lx] = ids_of(s, "LX-HP", JUNE)
        for activity_id, reason in ((njk, "无活动现场照片"), (lx, "照片与其他活动重复")):
            decide(
                session=s,
                actor=REVIEWER,
                settings=settings,
                activity_id=activity_id,
                decision="rejected",
                reason=reason,
                seen="",
                today=TODAY,
            )
    return njk, lx


def test_town_staff_answer_their_own_rejection_with_a_photo_and_see_no_other_township(app_for, june):
    njk, lx = _reject_both_townships(june)
    at = app_for(june, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.run()
    assert any("有 **1** 项活动不予认定" in w.value for w in at.warning), "本月进度 carries the notice"
    at.switch_page("app_pages/feedback.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["活动反馈"]
    shown = at.dataframe[0].value
    assert list(shown["所属乡镇"]) == ["泥江口镇"] and list(shown["不予认定理由"]) == ["无活动现场照片"]
    assert list(shown["答复情况"]) == ["待答复"]
    assert not any("兰溪" in str(v) for v in shown.to_numpy().ravel())

    [uploader] = at.get("file_uploader")
    uploader.set_value(("现场.jpg", photo(7, "2025:06:01 10:00:00"), "image/jpeg"))
    [answer] = [t for t in at.text_area if t.label == "答复"]
    answer.input("已补充活动现场照片")
    _button(at, "提交答复").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("答复已提交" in s.value for s in at.success)
    with Session(get_engine(june.database_url)) as s:
        assert len(s.exec(select(Photo.id).where(Photo.activity_id == njk)).all()) == 1
        assert s.exec(select(Photo.id).where(Photo.activity_id == lx)).all() == []
        [(kind, text, author)] = s.exec(
            select(Feedback.kind, Feedback.text, Feedback.author).where(
                Feedback.activity_id == njk, Feedback.kind == "reply"
            )
        ).all()
    assert (text, author) == ("已补充活动现场照片", "t_town_泥江口镇")
    assert list(at.dataframe[0].value["答复情况"]) == ["已答复，待复核"]
    assert _held(june) == 4 and _held(june, "兰溪镇") == 0  # an answer changes nothing until looked at again


def test_the_reviewer_sees_the_answer_waiting_for_another_look(app_for, june):
    njk, _ = _reject_both_townships(june)
    at = app_for(june, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.run()
    at.switch_page("app_pages/feedback.py").run()
    [answer] = [t for t in at.text_area if t.label == "答复"]
    answer.input("活动确已开展，附签到表")
    _button(at, "提交答复").click().run()
    at = _open_review(app_for, june, code="NJK-HP")
    assert any("已答复待复核 1 项" in c.value for c in at.caption)
    assert any("已答复待复核" in m.value for m in at.markdown)
    assert any("活动确已开展，附签到表" in m.value for m in at.markdown), "the thread shows the answer"


def test_the_demo_lists_signals_and_downloads_them(app_for, demo_settings):
    at = app_for(demo_settings, role="reviewer", name="审核员乙")
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-12"
    at.run()
    at.switch_page("app_pages/signals.py").run()
    assert not at.exception and not at.error
    with Session(get_engine(demo_settings.database_url)) as s:
        frame = signals.signals(
            session=s, query=Query(actor=REVIEWER, settings=demo_settings, start="2025-01", end="2025-12")
        )
    found = triage.narrow(frame)
    assert len(found.signals) > 0, "the demo plants problems"
    listed = [d.value for d in at.dataframe if "说明" in d.value.columns][0]
    assert len(listed) == len(found.signals)
    assert set(listed["疑点"]) == {signals.SIGNALS[c] for c in set(frame["code"])}
    assert "下载疑点清单（Excel）" in [b.label for b in at.get("download_button")]
    book = openpyxl.load_workbook(io.BytesIO(frame_xlsx(triage.table(found.signals), "疑点清单")))
    assert book["疑点清单"].max_row - 1 == len(listed)

    code = str(frame["code"].iloc[0])
    at.multiselect[0].set_value([code]).run()
    listed = [d.value for d in at.dataframe if "说明" in d.value.columns][0]
    assert set(listed["疑点"]) == {signals.SIGNALS[code]} and len(listed) == int((frame["code"] == code).sum())
    if len(found.activities):  # the activity with most signals opens with its review buttons
        assert any(s.label.startswith("打开活动") for s in at.selectbox)
        assert {"认定", "不予认定"} <= {b.label for b in at.button}


def test_a_units_activity_opens_as_a_card_on_unit_detail(app_for, june):
    at = app_for(june, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = JUNE, JUNE
    at.run()
    at.switch_page("app_pages/units.py").run()
    [unit] = [s for s in at.selectbox if s.label == "选择单位"]
    unit.set_value([o for o in unit.options if "NJK-YCT" in o][0]).run()
    [chosen] = [s for s in at.selectbox if s.label == "查看活动（照片与认定）"]
    assert chosen.options == [
        "2025-06-01 活动1（待认定，照片 2 张）",
        "2025-06-02 活动2（待认定，照片 0 张）",
        "2025-06-03 活动3（待认定，照片 0 张）",
    ]
    assert any(c.value == "拍摄 2025-06-01 09:30" for c in at.caption)
    assert "认定" not in {b.label for b in at.button}, "town staff do not decide"
    assert [u.label for u in at.get("file_uploader")] == ["照片（JPG、PNG、HEIC，每张不超过 10 MB）"]
    chosen.set_value(chosen.options[2]).run()
    assert any(m.value.startswith("#### 2025-06-03 活动3") for m in at.markdown)
    assert any(c.value == "暂无照片。" for c in at.caption)


def test_feedback_waits_whatever_period_the_sidebar_shows(app_for, june):
    _reject_both_townships(june)  # June 2025
    at = app_for(june, role="town", town="泥江口镇")
    at.session_state["f_start"], at.session_state["f_end"] = "2025-07", "2025-07"
    at.run()
    at.switch_page("app_pages/feedback.py").run()
    assert not at.exception
    assert list(at.dataframe[0].value["所属乡镇"]) == ["泥江口镇"], "June's rejection, with July in the sidebar"
    assert any(c.value.startswith("全部月份 · 泥江口镇：不予认定 1 项") for c in at.caption)
    [period] = [t for t in at.toggle if t.label.startswith("只看侧栏所选期间")]
    period.set_value(True).run()
    assert any("2025-07 至 2025-07 · 泥江口镇：没有不予认定的活动" in s.value for s in at.success)


def test_a_units_month_signal_opens_that_month_on_the_review_page(app_for, demo_settings):
    at = app_for(demo_settings, role="reviewer", name="审核员丙")
    at.session_state["f_start"], at.session_state["f_end"] = "2025-12", "2025-12"
    at.run()
    at.switch_page("app_pages/signals.py").run()
    [months] = [s for s in at.selectbox if s.label == "单位月份（月底集中、数量异常）"]
    # Planted in the demo: OJC-014's three activities all on 12-30, HS-S's on 12-29..31, CSP-010's ten.
    assert len(months.options) == 3
    bunched = "欧江岔镇柳园村新时代文明实践站 2025-12：本月 3 次活动全部在同一天"
    assert any(o.startswith(bunched) for o in months.options)
    months.set_value("OJC-014|2025-12").run()
    [go] = [b for b in at.button if b.label == "在活动认定中逐项查看该单位本月活动"]
    go.click().run()
    assert not at.exception, [x.value for x in at.exception]
    assert [t.value for t in at.title] == ["活动认定"]
    assert at.session_state["rv_unit"] == "OJC-014" and at.session_state["rv_month"] == "2025-12"
    assert any("第 **1** / 3 项" in m.value for m in at.markdown), "OJC-014 holds three activities in December"
