"""PostgreSQL: the references of activity and unitmonth checked once per statement (monitor.references).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

from monitor import references

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    references.install(op.get_bind())


def downgrade() -> None:
    references.uninstall(op.get_bind())
