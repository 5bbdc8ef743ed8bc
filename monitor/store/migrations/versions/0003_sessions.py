"""Sign-in sessions kept across refreshes: a token's hash, its account, when it was last seen and when it ends.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signinsession",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("last_seen", MOMENT, nullable=False),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("ended_at", MOMENT, nullable=True),
        sa.Column("ended_reason", sa.String(40), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
    )
    op.create_index("ix_signinsession_token_hash", "signinsession", ["token_hash"], unique=True)
    op.create_index("ix_signinsession_user_id", "signinsession", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_signinsession_user_id", "signinsession")
    op.drop_index("ix_signinsession_token_hash", "signinsession")
    op.drop_table("signinsession")
