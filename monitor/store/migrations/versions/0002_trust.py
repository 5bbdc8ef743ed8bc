"""Trust: dated quotas, batch membership of activities, sign-in throttling by name and source.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "quotarule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=True),
        sa.Column("from_month", sa.String(7), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", MOMENT, nullable=False),
    )
    op.create_index("ix_quotarule_target", "quotarule", ["unit_type", "unit_id", "from_month"])
    op.create_table(
        "activitybatch",
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("importbatch.id"), primary_key=True),
    )
    op.create_index("ix_activitybatch_batch_id", "activitybatch", ["batch_id"])
    op.create_table(
        "loginthrottle",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_at", MOMENT, nullable=True),
    )
    # The quotas in force until now hold for every month so far: rules from the beginning ("").
    now = datetime.now(UTC)
    op.execute(
        sa.text(
            "INSERT INTO quotarule (unit_type, unit_id, from_month, quota, set_by, set_at) "
            "SELECT type, NULL, '', quota, '升级', :now FROM typequota"
        ).bindparams(now=now)
    )
    op.execute(
        sa.text(
            "INSERT INTO quotarule (unit_type, unit_id, from_month, quota, set_by, set_at) "
            "SELECT '', id, '', quota, '升级', :now FROM unit WHERE quota IS NOT NULL"
        ).bindparams(now=now)
    )
    with op.batch_alter_table("user") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("last_failed_at")


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failed_at", MOMENT, nullable=True))
    op.drop_table("loginthrottle")
    op.drop_index("ix_activitybatch_batch_id", "activitybatch")
    op.drop_table("activitybatch")
    op.drop_index("ix_quotarule_target", "quotarule")
    op.drop_table("quotarule")
