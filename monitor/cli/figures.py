"""`report`, `interviews`, `laggards` and `bulletin`: the figures of a period, as the pages show them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlmodel import Session

from monitor.cli import common
from monitor.cli.common import UsageError
from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.permissions import shell_actor
from monitor.core.query import Query
from monitor.figures import metrics
from monitor.figures.periods import day_words, has_activities, judged

COMMANDS = {"report", "interviews", "laggards", "bulletin"}
INTERVIEW_KEYS = ["code", "name", "type", "town", "streak", "head", "phone", "held", "quota"]
LAGGARD_KEYS = ["code", "name", "type", "town", "held"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    common.add_period(sub.add_parser("report", help="held against required over a period"))

    interviews = sub.add_parser("interviews", help="units due for interview (约谈)")
    interviews.add_argument("--month", required=True)
    interviews.add_argument("--min-streak", type=int, default=None)
    interviews.add_argument("--json", action="store_true")

    laggards = sub.add_parser("laggards", help="units with fewer than N activities over a period")
    laggards.add_argument("--below", type=int, required=True)
    common.add_period(laggards, town=False)

    bulletin = sub.add_parser("bulletin", help="the 通报 of a period as a Word document")
    bulletin.add_argument("--start", required=True)
    bulletin.add_argument("--end", required=True)
    bulletin.add_argument("--town")
    bulletin.add_argument("--type")
    bulletin.add_argument("-o", "--output", required=True, help="the .docx file to write")
    bulletin.add_argument("--no-charts", action="store_true", help="tables only, no chart pictures")


def _report(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    # Only months whose reporting is over are counted (a period all open is refused, exit 2).
    asked = common.query(args, session, settings)
    period = judged(start=asked.start, end=asked.end, settings=settings, today=today_in(settings))
    doc = metrics.report(session=session, query=asked.over(asked.start, period.end)).to_json()
    doc.update(period.to_json(), no_data=not has_activities(session=session, months=period.months))
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    print(f"{doc['start']}..{doc['end']}  units {doc['units']}  held {doc['held']}  required {doc['required']}")
    print(
        f"completion {common.percent(doc['completion_rate'])}  capped {common.percent(doc['capped_rate'])}  "
        f"compliance {common.percent(doc['compliance_rate'])}"
    )
    if period.open_months:
        print(f"截至{day_words(period.as_of)}；{period.open_note()}，未计入。")
    if doc["no_data"]:
        print("该时段没有任何活动记录。")
    return 0


def _interviews(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    min_streak = args.min_streak if args.min_streak is not None else settings.interview_min_streak
    month = calendar.check_month(args.month, settings, today=today_in(settings), finished=True)
    asked = Query.month_of(shell_actor(), settings, month)
    frame = metrics.interviews(session=session, query=asked, min_streak=min_streak)
    counts = ("streak", "held", "quota")
    units = [
        {k: (int(v) if k in counts else v) for k, v in r.items()} for r in frame[INTERVIEW_KEYS].to_dict("records")
    ]
    common.emit({"month": month, "min_streak": min_streak, "units": units}, args.json, frame[INTERVIEW_KEYS])
    return 0


def _laggards(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    frame = metrics.laggards(session=session, query=common.query(args, session, settings), below=args.below)
    units = [{**r, "held": int(r["held"])} for r in frame[LAGGARD_KEYS].to_dict("records")]
    doc = {
        "start": calendar.parse_month_arg(args.start),
        "end": calendar.parse_month_arg(args.end),
        "below": args.below,
        "units": units,
    }
    common.emit(doc, args.json, frame[LAGGARD_KEYS])
    return 0


def _bulletin(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    from monitor.reports.bulletin import bulletin
    from monitor.reports.bulletin_docx import bulletin_docx

    content = bulletin(session=session, query=common.query(args, session, settings), today=today_in(settings))
    output = Path(args.output)
    try:
        output.write_bytes(bulletin_docx(content, with_charts=not args.no_charts))
    except OSError as exc:
        raise UsageError(f"无法写入 {output}：{exc.strerror or exc}") from exc
    print(f"bulletin written: {output} ({content.title})")
    for note in (content.overall[0] if content.no_data else "", content.open_note):
        if note:
            print(note)
    return 0


HANDLERS = {"report": _report, "interviews": _interviews, "laggards": _laggards, "bulletin": _bulletin}


def run(args: argparse.Namespace, session: Session, settings: Settings) -> int:
    return HANDLERS[args.command](args, session, settings)
