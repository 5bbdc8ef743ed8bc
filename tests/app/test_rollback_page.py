"""The 导入记录 page says, before the rollback is confirmed and after it is done, what goes with the
activities: their decisions, feedback and photo links."""

from __future__ import annotations

from sqlmodel import Session, func, select

from monitor.core.models import Activity, Feedback, Photo, Review
from monitor.core.permissions import Actor
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide
from monitor.ingest.importer import import_activities
from monitor.store.db import get_engine
from tests.factories import OPERATOR, TODAY, activities_csv, load_roster
from tests.photo_factories import jpeg

REVIEWER = Actor(name="审核员", role="reviewer")


def _stored(settings, table) -> int:  # type: ignore[no-untyped-def]
    with Session(get_engine(settings.database_url)) as s:
        return int(s.exec(select(func.count()).select_from(table)).one())


def test_the_confirmation_and_the_result_name_the_decisions_feedback_and_photos(app_for, settings):
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
        rows = [("NJK-YCT", "", "", f"2025-03-0{d}", f"活动{d}", "") for d in (1, 2, 3)]
        import_activities(
            session=s, actor=OPERATOR, data=activities_csv(rows), file_name="三月.csv", settings=settings, today=TODAY
        )
        ids = {a.title: int(a.id) for a in s.exec(select(Activity)).all() if a.id is not None}
        for title, decision, reason in (("活动1", "recognised", ""), ("活动2", "rejected", "照片与活动不符")):
            decide(
                session=s,
                actor=REVIEWER,
                settings=settings,
                activity_id=ids[title],
                decision=decision,
                reason=reason,
                seen="",
                today=TODAY,
            )
        attach_one(
            session=s,
            actor=OPERATOR,
            settings=settings,
            store=open_store(settings),
            activity_id=ids["活动1"],
            name="合影.jpg",
            data=jpeg(1),
        )

    at = app_for(settings).run()
    at.switch_page("app_pages/imports.py").run()
    said = "删除 3 条活动，连同其 2 条认定结果（认定 1 条、不予认定 1 条）、2 条反馈记录、1 张照片的关联"
    assert any(said in w.value for w in at.warning), [w.value for w in at.warning]
    [sure] = [c for c in at.checkbox if c.label.startswith("我确认撤销")]
    sure.check().run()
    [undo] = [b for b in at.button if b.label == "撤销这次导入"]
    undo.click().run()
    assert not at.exception
    assert [t.value for t in at.toast] == [f"已撤销：{said}"]
    assert [_stored(settings, t) for t in (Activity, Review, Feedback, Photo)] == [0, 0, 0, 0]
