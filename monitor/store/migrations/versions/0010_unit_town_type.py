"""The roster's indexes for the figures: by township and type with each unit's id, and the units
with an active range.

Revision ID: 0010
Revises: 0009

Every report and interview list reads the roster as one row per township and type with its units'
ids. With the index on the township alone the database sorted the whole roster for it (at 2,000
townships and 30,000 units, 17 ms of a report's 70); an index on (town, type, id) hands the groups
over in order from the index alone. It also serves every lookup by township, so it replaces
ix_unit_town. The few units with an active range are then read through a partial index of their
own instead of a scan of the roster.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_unit_town_type", "unit", ["town", "type", "id"])
    op.drop_index("ix_unit_town", table_name="unit")
    ranged = sa.text("active_from IS NOT NULL OR active_to IS NOT NULL")
    op.create_index("ix_unit_ranged", "unit", ["id"], sqlite_where=ranged, postgresql_where=ranged)


def downgrade() -> None:
    op.drop_index("ix_unit_ranged", table_name="unit")
    op.create_index("ix_unit_town", "unit", ["town"])
    op.drop_index("ix_unit_town_type", table_name="unit")
