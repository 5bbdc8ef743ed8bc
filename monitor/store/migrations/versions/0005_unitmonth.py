"""The unit × month table of counts, filled from the activities and decisions already stored.

Revision ID: 0005
Revises: 0004

The deadline that decides `on_time` is the day of MONITOR_DEADLINE_DAY (default 5) of the
following month, end of day, Asia/Shanghai, as the settings read it; the day is stamped in Meta
so the figures know which deadline the counts follow (`python -m monitor check --repair`
rebuilds them for another day).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _due(month: str, day: int) -> datetime | None:
    """The end of the deadline day of the month after `month`, in UTC; None for a malformed month."""
    try:
        year, number = int(month[:4]), int(month[5:7])
        following = date(year + number // 12, number % 12 + 1, 1)
    except ValueError:
        return None
    last = (date(following.year + following.month // 12, following.month % 12 + 1, 1) - following).days
    local = datetime.combine(following.replace(day=min(day, last)), time.max).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return local.astimezone(UTC)


def upgrade() -> None:
    op.create_table(
        "unitmonth",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), primary_key=True),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("recognised", sa.Integer(), nullable=False),
        sa.Column("not_recognised", sa.Integer(), nullable=False),
        sa.Column("not_recognised_on_time", sa.Integer(), nullable=False),
    )
    connection = op.get_bind()
    day = int(os.environ.get("MONITOR_DEADLINE_DAY", "5"))
    sqlite = connection.dialect.name == "sqlite"
    months = [m for (m,) in connection.execute(sa.text("SELECT DISTINCT month FROM activity"))]
    for month in months:
        due = _due(month, day)
        limit = (due.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else due) if due else None
        timely = "CASE WHEN a.stored_at <= :due THEN 1 ELSE 0 END" if due else "0"
        connection.execute(
            sa.text(
                "INSERT INTO unitmonth (month, unit_id, activities, on_time, recognised, not_recognised, "
                "not_recognised_on_time) "
                f"SELECT a.month, a.unit_id, count(*), sum({timely}), "
                "sum(CASE WHEN r.decision = 'recognised' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN r.decision = 'rejected' THEN 1 ELSE 0 END), "
                f"sum(CASE WHEN r.decision = 'rejected' THEN {timely} ELSE 0 END) "
                "FROM activity a LEFT JOIN review r ON r.activity_id = a.id WHERE a.month = :month "
                "GROUP BY a.month, a.unit_id"
            ),
            {"month": month, "due": limit} if due else {"month": month},
        )
    stamp = {"key": "unitmonth_deadline_day", "value": str(day)}
    connection.execute(sa.text("DELETE FROM meta WHERE key = :key"), stamp)
    connection.execute(sa.text("INSERT INTO meta (key, value) VALUES (:key, :value)"), stamp)


def downgrade() -> None:
    op.execute("DELETE FROM meta WHERE key = 'unitmonth_deadline_day'")
    op.drop_table("unitmonth")
