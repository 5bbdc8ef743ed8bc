"""The bundled synthetic district (示例数据): fixed seed, fixed dates, figures tests rely on.

- 1 center, 18 institutes, 241 stations; 油草塘村 in 泥江口镇 among them.
- Jan–Aug 2024: exactly 15 stations held fewer than 10 activities, 油草塘村 none.
- Jan–Jun 2025: exactly 3617 activities against 3264 required (110.81 %).
- Oct–Dec 2025: some units below quota two and three months running (due for interview).
- Most months are uploaded by the 5th of the next month; some units upload late.

Evidence (monitor.demo.evidence): every activity of December 2025 has one to three photos drawn
with Pillow (monitor.demo.photos: a scene with the title on a banner, EXIF time on the day), and
problems are planted in that month so that each signal (monitor.evidence.signals) shows, on these units
and no others (PLANTED):
- photo_reused: LX-012 (兰溪镇梅园村) shows on 12-12 the photo of NJK-007 (泥江口镇青山村) from
  12-04; QJH-009's photo of 12-19 is its photo of 12-17 cropped and saved again (near, not equal).
- photo_date: QJH-001's photo of 12-12 was taken 47 days earlier; LX-012's borrowed one is 8 days off.
- no_photo: the first December activity of OJC-009 (12-20) and of CSP-009 (12-10).
- copied_title: "12月学习贯彻党的二十届四中全会精神宣讲" at 20 stations on 12-12, YJQ-001…YJQ-014
  (岳家桥镇) and HLQ-001…HLQ-006 (衡龙桥镇).
- month_end_bunching: OJC-014's three activities all on 12-30; HS-S's three on 12-29, 12-30, 12-31.
- count_outlier: CSP-010 holds 10 (7 added to the district) against a median of 2.
- repeated_title: LX-003 calls its first activity of October, November and December "农家书屋读书会".
- resubmitted: after QJH-001's 12-12 was 不予认定 for its photo, the same photo was attached to its
  next December activity (which photo_reused and photo_date then flag too).
The plants move activities within their month, retitle them, or add them (CSP-010 only).
Decisions (认定) by `reviewer`: every December activity of NJK-S, NJK-002 and NJK-003 认定;
不予认定, with the reason, for LX-012's 12-12 (borrowed photo), QJH-001's 12-12 (photo date) and
OJC-009's 12-20 (no photo); `lx` answered the first with one more photo. Each of those units still
holds its quota, so the figures above and the interview lists stand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlmodel import Session, select

from monitor.admin.accounts import add_user
from monitor.core.calendar import ZONE
from monitor.core.errors import Refusal
from monitor.core.models import ImportBatch, Unit, User
from monitor.core.normalize import title_key
from monitor.core.permissions import Actor, require
from monitor.counts import unitmonths
from monitor.demo.evidence import PLANTED as PLANTED
from monitor.demo.evidence import add_evidence, plant_uploads
from monitor.demo.names import (
    COMMUNITY,
    FIRST,
    GIVEN,
    PLACES,
    SECOND,
    SHARED_NAMES,
    STREETS,
    SURNAMES,
    TITLES,
    TOWNS,
)
from monitor.evidence.photo_store import PhotoStore
from monitor.ingest.importer import insert_activities
from monitor.ingest.roster_plan import upsert_units
from monitor.store import audit
from monitor.store.db import bump_version, get_meta, set_meta

SEED = 20250728
MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
STATIONS = 241
H1_2025 = [f"2025-{m:02d}" for m in range(1, 7)]
H1_2025_HELD = 3617
LAGGARDS_2024 = 15
QUOTA = {"center": 8, "institute": 3, "station": 2}
SHANGHAI = ZONE
DEMO_ACCOUNTS = [
    ("admin", "admin", "", "demo-admin-2025"),
    ("reviewer", "reviewer", "", "demo-reviewer-2025"),
    ("njk", "town", "泥江口镇", "demo-njk-2025"),
    ("lx", "town", "兰溪镇", "demo-lx-2025"),
]


class DemoRefused(Refusal):
    """The database already holds real units; the demo is loaded only into an empty one."""

    code = "refused"


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(SURNAMES) + rng.choice(GIVEN), f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def _unit(rng: random.Random, code: str, name: str, kind: str, town: str) -> dict[str, object]:
    """A row of the roster, its head and phone drawn from `rng`."""
    head, phone = _person(rng)
    return {
        "code": code,
        "name": name,
        "type": kind,
        "town": town,
        "head": head,
        "phone": phone,
        "quota": None,
        "active_from": None,
        "active_to": None,
    }


def _station_names(rng: random.Random, code: str, count: int) -> list[str]:
    """The `count` village and community names of township `code`'s stations, the planted ones first."""
    names: list[str] = []
    if code == "NJK":
        names.append("油草塘村")
    if code in ("QJH", "CSP"):
        names.append(SHARED_NAMES[0])
    if code in ("LX", "XSD"):
        names.append(SHARED_NAMES[1])
    while len(names) < count:
        if code in STREETS and rng.random() < 0.6:
            name = rng.choice(COMMUNITY) + "社区"
        else:
            name = rng.choice(FIRST) + rng.choice(SECOND) + "村"
        if name not in names and name not in SHARED_NAMES:
            names.append(name)
    return names


def build_roster(rng: random.Random) -> list[dict[str, object]]:
    units = [_unit(rng, "ZX", "区新时代文明实践服务中心", "center", "")]
    per_town = [STATIONS // len(TOWNS) + (1 if i < STATIONS % len(TOWNS) else 0) for i in range(len(TOWNS))]
    for (code, town), count in zip(TOWNS, per_town, strict=True):
        units.append(_unit(rng, f"{code}-S", f"{town}新时代文明实践所", "institute", town))
        for i, name in enumerate(_station_names(rng, code, count), start=1):
            station_code = f"{code}-YCT" if name == "油草塘村" else f"{code}-{i:03d}"
            units.append(_unit(rng, station_code, f"{name}新时代文明实践站", "station", town))
    return units


def plan_counts(units: list[dict[str, object]], rng: random.Random) -> dict[tuple[str, str], int]:
    """How many activities each unit holds each month."""
    counts: dict[tuple[str, str], int] = {}
    stations = [str(u["code"]) for u in units if u["type"] == "station"]
    laggards_2024 = ["NJK-YCT", *rng.sample([s for s in stations if s != "NJK-YCT"], LAGGARDS_2024 - 1)]
    due_3 = rng.sample([s for s in stations if s not in laggards_2024], 5)
    due_2 = rng.sample([s for s in stations if s not in laggards_2024 + due_3], 3)
    due_institute = "LX-S"
    for unit in units:
        code, kind = str(unit["code"]), str(unit["type"])
        quota = QUOTA[kind]
        for month in MONTHS:
            if kind == "center":
                n = rng.randint(8, 11)
            elif kind == "institute":
                n = rng.choices([2, 3, 4, 5], [1, 8, 6, 3])[0]
            else:
                n = rng.choices([1, 2, 3, 4], [1, 10, 8, 2])[0]
            counts[(code, month)] = max(n, 0)
        if code in laggards_2024:
            total = 0 if code == "NJK-YCT" else rng.randint(3, 9)
            months_2024 = MONTHS[:8]
            for month in months_2024:
                counts[(code, month)] = 0
            for _ in range(total):
                counts[(code, rng.choice(months_2024))] += 1
        if code in due_3 or code == due_institute:
            for month in (["2025-10"] if code in due_3 else []) + ["2025-11", "2025-12"]:
                counts[(code, month)] = rng.randint(0, quota - 1)
        if code in due_2:
            counts[(code, "2025-11")] = rng.randint(0, quota - 1)
            counts[(code, "2025-12")] = rng.randint(0, quota - 1)
        if code in due_3 or code == due_institute or code in due_2:
            counts[(code, "2025-09")] = max(counts[(code, "2025-09")], quota)
    for code in stations:  # the 2024 laggards aside, every station reaches 10 by August 2024
        if code not in laggards_2024:
            while sum(counts[(code, m)] for m in MONTHS[:8]) < 10:
                counts[(code, rng.choice(MONTHS[:8]))] += 1
    _fit_total(counts, [u for u in units if u["type"] == "station"], rng)
    return counts


def _fit_total(counts: dict[tuple[str, str], int], stations: list[dict[str, object]], rng: random.Random) -> None:
    """Nudge station-months above quota until Jan–Jun 2025 holds exactly the reported 3617."""
    keys = [(str(u["code"]), m) for u in stations for m in H1_2025]
    diff = H1_2025_HELD - sum(counts[(c, m)] for c, m in counts if m in H1_2025)
    while diff:
        key = rng.choice(keys)
        if diff > 0 and counts[key] < 5:
            counts[key] += 1
            diff -= 1
        elif diff < 0 and counts[key] > QUOTA["station"]:
            counts[key] -= 1
            diff += 1


def _activities(unit: dict[str, object], month: str, n: int, rng: random.Random) -> list[dict[str, object]]:
    year, mon = map(int, month.split("-"))
    days = sorted(rng.sample(range(1, 29), n))
    rows = []
    short = str(unit["name"]).replace("新时代文明实践站", "").replace("新时代文明实践所", "")
    for day in days:
        category = rng.choice(list(TITLES))
        title = f"{mon}月{rng.choice(TITLES[category])}"
        rows.append(
            {
                "date": date(year, mon, day),
                "month": month,
                "title": title,
                "title_key": title_key(title),
                "category": category,
                "participants": rng.randint(15, 150),
                "volunteers": rng.randint(2, 20),
                "location": short + rng.choice(PLACES),
                "photos": rng.randint(3, 9),
                "notes": "",
            }
        )
    return rows


def _upload_time(month: str, late: bool, rng: random.Random) -> datetime:
    first_next = (pd.Period(month, freq="M") + 1).start_time.date()
    day = rng.randint(5, 14) if late else rng.randint(0, 4)
    local = datetime.combine(first_next + timedelta(days=day), time(rng.randint(8, 17), rng.randint(0, 59)))
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Upload:
    """One township's log of one month, as the demo uploads it; rows name their unit by code."""

    town: str
    month: str
    stored_at: datetime
    rows: list[dict[str, object]]


def build_district(rng: random.Random) -> tuple[list[dict[str, object]], list[Upload]]:
    """The roster and every upload of the demo, drawn from `rng` in a fixed order, with the plants."""
    units = build_roster(rng)
    counts = plan_counts(units, rng)
    late_units = set(rng.sample([str(u["code"]) for u in units if u["type"] == "station"], 20))
    groups: dict[str, list[dict[str, object]]] = {}
    for unit in units:
        groups.setdefault(str(unit["town"]) or "区中心", []).append(unit)
    uploads = []
    for month in MONTHS:
        for town, members in groups.items():
            late = any(str(u["code"]) in late_units for u in members) and rng.random() < 0.3
            stored_at = _upload_time(month, late, rng)
            rows = []
            for unit in members:
                for row in _activities(unit, month, counts[(str(unit["code"]), month)], rng):
                    rows.append({"code": unit["code"], **row})
            uploads.append(Upload(town, month, stored_at, rows))
    by_code = {str(u["code"]): u for u in units}

    def more_rows(code: str, month: str, n: int, other: random.Random) -> list[dict[str, object]]:
        return [{"code": code, **row} for row in _activities(by_code[code], month, n, other)]

    plant_uploads(uploads, more_rows, random.Random(SEED + 1))  # another stream: the district stays as drawn
    return units, uploads


def load_demo(*, session: Session, actor: Actor, store: PhotoStore, accounts: bool = True) -> dict[str, int]:
    """Load the demo district into an empty database; loading it again changes nothing.

    accounts=False leaves out the demo accounts, whose passwords are published in the README:
    loaded from the screen, by a signed-in admin, the database already has its own accounts.
    """
    require(actor, "users")  # loading a district into the database is an administrator's act
    if get_meta(session, "demo") == "1":
        return {"units": len(session.exec(select(Unit.id)).all()), "activities": -1}
    if session.exec(select(Unit.id).limit(1)).first() is not None:
        raise DemoRefused("数据库中已有单位名册，示例数据只能载入空数据库。")
    units, uploads = build_district(random.Random(SEED))
    upsert_units(session, [dict(u) for u in units], by=actor.name, from_month="")
    session.flush()
    ids = {u.code: u.id for u in session.exec(select(Unit)).all()}
    total = 0
    for upload in uploads:
        batch = ImportBatch(
            kind="activities",
            user="示例数据",
            created_at=upload.stored_at,
            town=upload.town if upload.town != "区中心" else "",
            file_name=f"{upload.town}{upload.month}活动台账.xlsx",
            sha256="demo",
            status="imported",
            rows=len(upload.rows),
            imported=len(upload.rows),
        )
        session.add(batch)
        session.flush()
        assert batch.id is not None  # given by the flush
        rows = pd.DataFrame([{"unit_id": ids[str(row["code"])], **row} for row in upload.rows]).drop(columns="code")
        total += insert_activities(session, rows, batch_id=batch.id, stored_at=upload.stored_at)
    evidence = add_evidence(session=session, store=store, rng=random.Random(SEED + 2))
    set_meta(session, "demo", "1")
    after = {"units": len(units), "activities": total, "photos": evidence["photos"]}
    audit.record(session, actor="示例数据", action="demo", after=after)
    # The plants moved and added activities and wrote decisions directly: count the month table afresh.
    unitmonths.rebuild(session, day=unitmonths.deadline_day(session))
    bump_version(session)
    session.commit()
    if accounts:
        add_demo_accounts(session=session)
    return {"units": len(units), "activities": total, **evidence}


DEMO_OPERATOR = Actor(name="示例数据", role="admin")  # who the demo's accounts are recorded as added by


def add_demo_accounts(*, session: Session) -> list[str]:
    """The demo's documented accounts (see README); names already taken are left as they are."""
    added = []
    for name, role, town, password in DEMO_ACCOUNTS:
        if session.exec(select(User).where(User.name == name)).first() is None:
            add_user(session=session, actor=DEMO_OPERATOR, name=name, role=role, town=town, password=password)
            added.append(name)
    return added
