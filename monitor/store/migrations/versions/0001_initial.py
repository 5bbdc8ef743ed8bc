"""The schema as it stood before migrations: databases made then are stamped with this revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("before", sa.String(), nullable=False),
        sa.Column("after", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    for column in ("action", "actor", "at"):
        op.create_index(f"ix_auditevent_{column}", "auditevent", [column])
    op.create_table(
        "importbatch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("town", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
    )
    op.create_index("ix_importbatch_sha256", "importbatch", ["sha256"])
    op.create_index("ix_importbatch_town", "importbatch", ["town"])
    op.create_table(
        "meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.String(), nullable=False)
    )
    op.create_table(
        "monthlock",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("locked_by", sa.String(100), nullable=False),
        sa.Column("locked_at", MOMENT, nullable=False),
    )
    op.create_table(
        "typequota",
        sa.Column("type", sa.String(16), primary_key=True),
        sa.Column("quota", sa.Integer(), nullable=False),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("town", sa.String(100), nullable=False),
        sa.Column("head", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("active_from", sa.String(7), nullable=True),
        sa.Column("active_to", sa.String(7), nullable=True),
    )
    op.create_index("ix_unit_code", "unit", ["code"], unique=True)
    for column in ("short_name", "town", "type"):
        op.create_index(f"ix_unit_{column}", "unit", [column])
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("town", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", MOMENT, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
    )
    op.create_index("ix_user_name", "user", ["name"], unique=True)
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("title_key", sa.String(), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("volunteers", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("photos", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("importbatch.id"), nullable=True),
        sa.Column("stored_at", MOMENT, nullable=False),
        sa.UniqueConstraint("unit_id", "date", "title_key", name="uq_activity_unit_date_title"),
    )
    op.create_index("ix_activity_batch_id", "activity", ["batch_id"])
    op.create_index("ix_activity_month_unit", "activity", ["month", "unit_id", "stored_at"])
    op.create_table(
        "interview",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("interviewer", sa.String(100), nullable=False),
        sa.Column("notes", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_index("ix_interview_month", "interview", ["month"])
    op.create_index("ix_interview_unit_id", "interview", ["unit_id"])


def downgrade() -> None:
    for table in (
        "interview",
        "activity",
        "user",
        "unit",
        "typequota",
        "monthlock",
        "meta",
        "importbatch",
        "auditevent",
    ):
        op.drop_table(table)
