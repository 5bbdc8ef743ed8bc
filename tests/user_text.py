"""A district whose people typed Markdown, HTML, icons, maths, colours, links and a right-to-left override
into every field they can fill (SPEC §6, user text is text): what the pages must show as typed.

`texts(leak)` gives the typed values, quoting addresses under `leak` (a listener the browser tests
watch: it must never be asked for anything); `plant(settings, typed)` stores them through monitor/
as the offices would: a roster import, a ledger import, 不予认定 with a reason, the township's answer,
a photo, the accounts. The activities are in April–June 2025 (PERIOD).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from PIL import Image
from sqlmodel import Session, select

from monitor.admin.accounts import add_user
from monitor.core.config import Settings
from monitor.core.models import Activity, Unit
from monitor.core.permissions import Actor, shell_actor
from monitor.evidence.photo_store import open_store
from monitor.evidence.photos import attach_one
from monitor.evidence.review import decide, reply
from monitor.ingest.importer import import_activities
from monitor.ingest.roster_file import import_units
from monitor.store.db import get_engine
from tests.factories import activities_csv, roster_csv

START, END = "2025-04", "2025-06"
TODAY = date(2026, 11, 26)
TOWN = "泥江口镇"
CODE = "NJK-X"  # the station whose every field is hostile
PASSWORD = "typed-text-2025"
RLO, PDF = "\u202e", "\u202c"  # RIGHT-TO-LEFT OVERRIDE, POP DIRECTIONAL FORMATTING


@dataclass(frozen=True)
class Typed:
    """What was typed, field by field."""

    leak: str
    title: str
    location: str
    category: str
    notes: str
    unit: str
    head: str
    phone: str
    town: str  # a second township
    reason: str
    answer: str
    file_name: str
    reviewer: str
    clerk: str

    @property
    def reason_shown(self) -> str:
        """The reason as it reads: the directional controls do nothing."""
        return self.reason.replace(RLO, "").replace(PDF, "")


def texts(leak: str) -> Typed:
    return Typed(
        leak=leak,
        title=f"![x]({leak}/leak.png)[点我]({leak}/phish)",
        location=f"<img src={leak}/x>会议室",
        category=":material/warning:",
        notes=f"$x^2$ :red[红] {leak}/plain",
        unit=f"[点我]({leak}/phish):red[红]村新时代文明实践站",
        head=f"![x]({leak}/leak.png):material/warning:",
        phone=f"<img src={leak}/x>$x^2$",
        town=f'<a href="{leak}/phish">兰溪</a>镇:red[红]',  # the overview charts townships by name
        reason=f"照片{RLO}不符合要求{PDF} :material/warning: [点我]({leak}/phish) $x^2$",
        answer=f"已整改 ![x]({leak}/leak.png) :red[红] <img src={leak}/x> {leak}/plain",
        file_name="![x](leak.png):red[红]$x^2$.jpg",
        reviewer=":material/warning:审核员$x^2$",
        clerk=f"[点我]({leak}/phish)经办人",
    )


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def plant(settings: Settings, typed: Typed) -> dict[str, int]:
    """Store the district; the activity ids by month (YYYY-MM) of the hostile station."""
    operator = shell_actor()
    roster = [
        {"code": "NJK-S", "name": "泥江口镇新时代文明实践所", "type": "所", "town": TOWN, "head": "李四"},
        {"code": CODE, "name": typed.unit, "type": "站", "town": TOWN, "head": typed.head, "phone": typed.phone},
        {"code": "LX-S", "name": "兰溪镇新时代文明实践所", "type": "所", "town": typed.town, "head": "王五"},
    ]
    header = ["单位编码", "所属乡镇", "单位名称", "活动日期", "活动名称", "参与人数", "活动类型", "活动地点", "备注"]
    rows = [
        [CODE, TOWN, "", f"2025-0{m}-10", typed.title, "12", typed.category, typed.location, typed.notes]
        for m in (4, 5, 6)
    ]
    rows += [["NJK-S", TOWN, "", "2025-06-03", "理论宣讲", "30", "", "", ""]]
    rows += [["LX-S", typed.town, "", "2025-06-05", "文艺演出", "40", "", "", ""]]
    with Session(get_engine(settings.database_url)) as s:
        done = import_units(
            session=s, actor=operator, data=roster_csv(roster), file_name="名册.csv", settings=settings, today=TODAY
        )
        assert (done.file_error, done.errors) == (None, []), done.errors
        for name, role, town in ((typed.reviewer, "reviewer", ""), (typed.clerk, "town", TOWN)):
            add_user(session=s, actor=operator, name=name, role=role, town=town, password=PASSWORD)
        done = import_activities(
            session=s,
            actor=operator,
            data=activities_csv(rows, header=header),
            file_name="台账.csv",
            settings=settings,
            today=TODAY,
        )
        assert (done.file_error, done.errors, done.imported) == (None, [], len(rows)), done.errors
        ids = {
            a.month: int(a.id)  # type: ignore[arg-type]
            for a in s.exec(select(Activity).join(Unit, Unit.id == Activity.unit_id).where(Unit.code == CODE))
        }
        reviewer, clerk = Actor(name=typed.reviewer, role="reviewer"), Actor(name=typed.clerk, role="town", town=TOWN)
        june = ids["2025-06"]
        decide(
            session=s,
            actor=reviewer,
            settings=settings,
            activity_id=june,
            decision="rejected",
            reason=typed.reason,
            seen="",
            today=TODAY,
        )
        attach_one(
            session=s,
            actor=clerk,
            settings=settings,
            store=open_store(settings),
            activity_id=june,
            name=typed.file_name,
            data=_jpeg(),
        )
        reply(session=s, actor=clerk, settings=settings, activity_id=june, text=typed.answer, today=TODAY)
    return ids
