"""活动照片 on 数据上传: a clerk's zip previewed as the names dictate, matched by hand, stored once on confirm."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from monitor.core.models import Photo
from monitor.store.db import get_engine
from tests.photo_factories import jpeg, load_activities, zipped

PHOTO_TAB = "活动照片"
UPLOADER = "上传活动照片（ZIP、JPG、PNG 或 HEIC）"

# A township clerk's zip (泥江口镇): (name, data) -> (状态 shown, activity it goes to) written out by hand.
CLERK_ZIP = [
    ("油草塘村/2025-06-03 理论宣讲/1.jpg", jpeg(1)),
    ("油草塘村/2025-06-03 理论宣讲/2.jpg", jpeg(2)),
    ("和平村-0603.jpg", jpeg(3)),  # 和平村 is in both townships: the clerk's own is meant
    ("油草塘村-0605.jpg", jpeg(4)),  # two activities that day, no words to choose
    ("油草塘村-0605-文艺.jpg", jpeg(5)),
    ("活动照片/合影.jpg", jpeg(6)),  # no unit in the names
    ("兰溪镇/和平村/0603.jpg", jpeg(7)),  # another township's unit
    ("坏图.jpg", b"\xff\xd8\xff\xe0 not a photo at all"),
    ("说明.txt", "照片说明".encode()),
]
PREVIEW = [
    ("油草塘村/2025-06-03 理论宣讲/1.jpg", "已匹配", "理论宣讲进村"),
    ("油草塘村/2025-06-03 理论宣讲/2.jpg", "已匹配", "理论宣讲进村"),
    ("和平村-0603.jpg", "已匹配", "和平村宣讲"),
    ("油草塘村-0605.jpg", "多个候选", ""),
    ("油草塘村-0605-文艺.jpg", "已匹配", "文艺演出"),
    ("活动照片/合影.jpg", "未匹配", ""),
    ("兰溪镇/和平村/0603.jpg", "未匹配", ""),
    ("坏图.jpg", "无法读取", ""),
    ("说明.txt", "无法读取", ""),
]


@pytest.fixture
def district(settings):  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        ids = load_activities(s, settings)
    return settings, ids


def _photos(settings) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return sorted((p.activity_id, p.file_name) for p in s.exec(select(Photo)).all())


def _open(app_for, settings, **who):  # type: ignore[no-untyped-def]
    at = app_for(settings, **who)
    at.session_state["upload_tab"] = PHOTO_TAB
    at.run()
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception, [x.value for x in at.exception]
    [uploader] = [u for u in at.get("file_uploader") if u.label == UPLOADER]
    return at, uploader


def _counts(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def _preview(at) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    table = at.dataframe[-1].value
    return list(zip(table["文件"], table["状态"], table["活动名称"], strict=True))


def _confirm(at):  # type: ignore[no-untyped-def]
    [button] = [b for b in at.button if b.label == "确认上传照片"]
    return button


def test_a_clerks_zip_is_previewed_matched_by_hand_and_stored_once(app_for, district):
    settings, ids = district
    at, uploader = _open(app_for, settings, role="town", town="泥江口镇")
    archive = zipped(CLERK_ZIP)
    uploader.set_value(("六月照片.zip", archive, "application/zip")).run()
    assert not at.exception, [x.value for x in at.exception]

    assert _counts(at) == {
        "已匹配": "4",
        "多个候选": "1",
        "未匹配": "2",
        "重复": "0",
        "无法读取": "2",
        "月份已锁定": "0",
    }
    assert _preview(at) == PREVIEW
    reasons = dict(zip(at.dataframe[-1].value["文件"], at.dataframe[-1].value["说明"], strict=True))
    assert reasons["坏图.jpg"] == "照片文件已损坏或不完整，无法打开。"
    assert reasons["说明.txt"] == "不是 JPEG、PNG 或 HEIC 格式的照片。"
    assert "兰溪镇" in reasons["兰溪镇/和平村/0603.jpg"]
    assert _photos(settings) == [], "the preview stores nothing"

    picks = [s for s in at.selectbox if s.label == "所属活动"]
    assert len(picks) == 3 and len(at.image) == 3  # a thumbnail beside each photo to match by hand
    ambiguous = picks[0]
    assert ambiguous.options[:3] == ["不上传", "油草塘村 · 2025-06-05 · 志愿服务", "油草塘村 · 2025-06-05 · 文艺演出"]
    assert not any("兰溪" in option for s in picks for option in s.options), "only the clerk's township"
    assert all(s.value is None for s in picks)
    ambiguous.set_value(ids["志愿服务"]).run()
    assert any("将保存 5 张照片" in c.value for c in at.caption)

    _confirm(at).click().run()
    assert not at.exception, [x.value for x in at.exception]
    assert any("新增 5 张" in s.value for s in at.success)
    assert _photos(settings) == sorted(
        [
            (ids["理论宣讲进村"], "1.jpg"),
            (ids["理论宣讲进村"], "2.jpg"),
            (ids["和平村宣讲"], "和平村-0603.jpg"),
            (ids["志愿服务"], "油草塘村-0605.jpg"),
            (ids["文艺演出"], "油草塘村-0605-文艺.jpg"),
        ]
    )
    assert not at.metric and not [s for s in at.selectbox if s.label == "所属活动"], "the preview is cleared"
    [uploader] = [u for u in at.get("file_uploader") if u.label == UPLOADER]
    assert uploader.value == []

    uploader.set_value(("六月照片.zip", archive, "application/zip")).run()
    assert _counts(at) == {
        "已匹配": "0",
        "多个候选": "0",
        "未匹配": "2",
        "重复": "5",
        "无法读取": "2",
        "月份已锁定": "0",
    }
    assert _confirm(at).disabled
    assert len(_photos(settings)) == 5


def test_a_clerk_cannot_reach_another_townships_unit(app_for, district):
    settings, ids = district
    at, uploader = _open(app_for, settings, role="town", town="兰溪镇")
    uploader.set_value(("a.zip", zipped({"油草塘村-0603.jpg": jpeg(1)}), "application/zip")).run()
    assert _preview(at) == [("油草塘村-0603.jpg", "未匹配", "")]
    [pick] = [s for s in at.selectbox if s.label == "所属活动"]
    assert pick.options == ["不上传", "和平村 · 2025-06-03 · 兰溪和平村宣讲"]
    assert _confirm(at).disabled
    assert _photos(settings) == []


def test_a_reviewer_picks_the_township_a_shared_unit_name_means(app_for, district):
    settings, ids = district
    at, uploader = _open(app_for, settings, role="reviewer")
    uploader.set_value([("和平村-0603.jpg", jpeg(1), "image/jpeg"), ("和平村-0603-2.jpg", jpeg(2), "image/jpeg")]).run()
    assert [status for _, status, _ in _preview(at)] == ["多个候选", "多个候选"]
    [town] = [s for s in at.selectbox if s.label == "照片属于哪个乡镇（街道）"]
    town.set_value("兰溪镇").run()
    assert _preview(at) == [
        ("和平村-0603.jpg", "已匹配", "兰溪和平村宣讲"),
        ("和平村-0603-2.jpg", "已匹配", "兰溪和平村宣讲"),
    ]
    _confirm(at).click().run()
    assert _photos(settings) == [
        (ids["兰溪和平村宣讲"], "和平村-0603-2.jpg"),
        (ids["兰溪和平村宣讲"], "和平村-0603.jpg"),
    ]


def test_an_upload_that_is_not_a_zip_is_refused_in_chinese(app_for, district):
    settings, _ = district
    at, uploader = _open(app_for, settings, role="town", town="泥江口镇")
    uploader.set_value(("照片.zip", b"PK\x03\x04 broken", "application/zip")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["照片未能读取：不是有效的 zip 压缩包，或压缩包已损坏。"]
    assert not at.metric


@contextmanager
def _writer_holding_the_lock(settings):  # type: ignore[no-untyped-def]
    """Another writer in the middle of a long transaction."""
    with get_engine(settings.database_url).connect() as other:
        if other.dialect.name == "sqlite":
            other.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        else:
            other.begin()
            other.execute(text("LOCK TABLE monthlock IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            other.rollback()
            if other.dialect.name == "sqlite":
                other.connection.driver_connection.rollback()  # type: ignore[union-attr]


def test_a_busy_database_is_told_and_the_preview_kept_for_a_retry(app_for, district, monkeypatch):
    settings, ids = district
    monkeypatch.setenv("MONITOR_BUSY_SECONDS", "0.3")
    at, uploader = _open(app_for, settings, role="town", town="泥江口镇")
    uploader.set_value(("a.zip", zipped({"油草塘村-0603.jpg": jpeg(1)}), "application/zip")).run()
    with _writer_holding_the_lock(settings):
        _confirm(at).click().run()
    assert not at.exception, [x.value for x in at.exception]
    assert [e.value for e in at.error] == ["照片未能保存：数据库正忙，请稍后重试。"]
    assert _photos(settings) == []
    _confirm(at).click().run()
    assert _photos(settings) == [(ids["理论宣讲进村"], "油草塘村-0603.jpg")]


def test_the_ledger_keeps_its_own_limit_under_the_photo_sized_upload_cap(app_for, district):
    settings, _ = district
    at = app_for(settings, role="town", town="泥江口镇").run()
    at.switch_page("app_pages/upload.py").run()
    [ledger] = at.get("file_uploader")
    assert ledger.label == "上传活动台账（Excel、WPS 表格、CSV、Unicode 文本、ODS 或 Word 文档）"
    big = "单位编码,活动日期,活动名称\n".encode() + b"NJK-YCT,2025-06-03,x\n" * (150 * 1048576 // 21)
    ledger.set_value(("大台账.csv", big, "text/csv")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["文件未能读取：文件超过上限 20 MB：请按月或按乡镇拆分后上传。"]
    assert not at.metric
