"""Evidence and review: photos attached to activities, the current 认定 decision, and the feedback thread.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("phash", sa.String(16), nullable=False),
        sa.Column("taken_at", sa.String(19), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", MOMENT, nullable=False),
        sa.UniqueConstraint("activity_id", "sha256", name="uq_photo_activity_sha256"),
    )
    op.create_index("ix_photo_activity_id", "photo", ["activity_id"])
    op.create_index("ix_photo_sha256", "photo", ["sha256"])
    op.create_index("ix_photo_phash", "photo", ["phash"])
    op.create_table(
        "review",
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), primary_key=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("decided_at", MOMENT, nullable=False),
    )
    op.create_index("ix_review_decision", "review", ["decision"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activity.id"), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
    )
    op.create_index("ix_feedback_activity_id", "feedback", ["activity_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_activity_id", "feedback")
    op.drop_table("feedback")
    op.drop_index("ix_review_decision", "review")
    op.drop_table("review")
    op.drop_index("ix_photo_phash", "photo")
    op.drop_index("ix_photo_sha256", "photo")
    op.drop_index("ix_photo_activity_id", "photo")
    op.drop_table("photo")
