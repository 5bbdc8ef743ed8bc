"""The sums per month, township and unit type, filled from the unit × month table, roster and quotas.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "townmonth",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("town", sa.String(100), primary_key=True),
        sa.Column("unit_type", sa.String(16), primary_key=True),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in ("held", "not_recognised", "capped", "met")],
        sa.Column("on_time_met", sa.Integer(), nullable=False),
    )
    from monitor import townmonths  # the same computation every write keeps the table by

    townmonths.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table("townmonth")
