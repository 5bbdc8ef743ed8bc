"""The sums per month, township and unit type, filled from the unit × month table, roster and quotas.

Revision ID: 0006
Revises: 0005

The sums are computed here as the program computed them when this version was made
(monitor.counts.townmonths at that time), not by the program's module, which follows the newest schema:
- months: the well-formed ones (YYYY-MM) of the unit × month table;
- a unit-month counts when its unit exists and is active in the month (active_from ≤ month ≤
  active_to, a blank bound being open);
- held = activities − 不予认定, held by the deadline = on_time − 不予认定 by the deadline;
- the quota of a unit in a month: the rules of its type (unit_id NULL) and its own rules, each
  holding from its month on, applied in order of (from_month, id); the type's quota starts from
  the defaults below, a type rule without a quota makes it 0, a unit rule without a quota hands the
  unit back to its type's quota;
- per (month, township, type): held, 不予认定, min(held, quota), unit-months with a quota > 0 that
  held at least it, and those whose activities held by the deadline reached it; groups whose sums
  are all 0 are left out.
"""

from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SUMS = ("held", "not_recognised", "capped", "met", "on_time_met")
DEFAULT_QUOTAS = {"center": 8, "institute": 3, "station": 2}  # the type quotas before any rule
WELL_FORMED_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _sums(connection: sa.Connection) -> dict[tuple[str, str, str], list[int]]:
    units = {
        int(i): (str(town), str(kind), start or "", end or "")
        for i, town, kind, start, end in connection.execute(
            sa.text("SELECT id, town, type, active_from, active_to FROM unit")
        )
    }
    rules = sorted(
        (str(from_month), int(i), unit_type, unit_id, quota)
        for i, unit_type, unit_id, from_month, quota in connection.execute(
            sa.text("SELECT id, unit_type, unit_id, from_month, quota FROM quotarule")
        )
    )
    by_month: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    for month, unit_id, held, timely, refused in connection.execute(
        sa.text(
            "SELECT month, unit_id, activities - not_recognised, on_time - not_recognised_on_time, "
            "not_recognised FROM unitmonth"
        )
    ):
        if WELL_FORMED_MONTH.match(str(month)):
            by_month[str(month)].append((int(unit_id), int(held), int(timely), int(refused)))

    totals: dict[tuple[str, str, str], list[int]] = {}
    by_type, own = dict(DEFAULT_QUOTAS), {}  # the rules in force, month after month
    applied = 0
    for month in sorted(by_month):
        while applied < len(rules) and rules[applied][0] <= month:
            _, _, unit_type, unit_id, quota = rules[applied]
            if unit_id is None:
                by_type[unit_type] = int(quota or 0)
            else:
                own[int(unit_id)] = quota
            applied += 1
        for unit_id, held, timely, refused in by_month[month]:
            if unit_id not in units:
                continue
            town, kind, start, end = units[unit_id]
            if (start and month < start) or (end and month > end):
                continue
            mine = own.get(unit_id)
            quota = int(mine) if mine is not None else by_type.get(kind, 0)
            row = totals.setdefault((month, town, kind), [0] * len(SUMS))
            for n, value in enumerate(
                (held, refused, min(held, quota), quota > 0 and held >= quota, quota > 0 and timely >= quota)
            ):
                row[n] += int(value)
    return {key: row for key, row in totals.items() if any(row)}


def upgrade() -> None:
    op.create_table(
        "townmonth",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("town", sa.String(100), primary_key=True),
        sa.Column("unit_type", sa.String(16), primary_key=True),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in ("held", "not_recognised", "capped", "met")],
        sa.Column("on_time_met", sa.Integer(), nullable=False),
    )
    connection = op.get_bind()
    rows = [
        {"month": month, "town": town, "unit_type": kind, **dict(zip(SUMS, sums, strict=True))}
        for (month, town, kind), sums in sorted(_sums(connection).items())
    ]
    if rows:
        names = ", ".join(["month", "town", "unit_type", *SUMS])
        marks = ", ".join(f":{c}" for c in ["month", "town", "unit_type", *SUMS])
        connection.execute(sa.text(f"INSERT INTO townmonth ({names}) VALUES ({marks})"), rows)


def downgrade() -> None:
    op.drop_table("townmonth")
