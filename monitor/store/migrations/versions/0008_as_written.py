"""An activity keeps the cells read as a person wrote them (30余人, 6月3日上午) beside the values read.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("as_written", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("as_written")
