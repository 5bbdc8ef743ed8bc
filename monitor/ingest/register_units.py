"""The units a person may register an activity for (活动登记), the one last used first."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from monitor.core.labels import DISTRICT
from monitor.core.models import Activity, ImportBatch, Unit
from monitor.core.permissions import Actor, scope
from monitor.ingest.register import KIND
from monitor.roster.units import units_frame
from monitor.store.db import fetch_tuples


def last_used(*, session: Session, actor: Actor) -> str | None:
    """The code of the unit of the acting account's latest registration, if any."""
    statement = (
        core_select(col(Unit.code))
        .join(Activity, col(Activity.unit_id) == col(Unit.id))
        .join(ImportBatch, col(Activity.batch_id) == col(ImportBatch.id))
        .where(col(ImportBatch.kind) == KIND, col(ImportBatch.user) == actor.name)
        .order_by(col(ImportBatch.id).desc())
        .limit(1)
    )
    found = fetch_tuples(session, statement)
    return str(found[0][0]) if found else None


def units_to_register(*, session: Session, actor: Actor, town: str | None, today: date) -> pd.DataFrame:
    """Units of `town` (区级 for the district's own; town staff: always their own township) active in
    today's month: code, name, type_label, town; the unit of the account's last registration first."""
    district = town == DISTRICT
    town = scope(actor, "import", None if district else town)
    units = units_frame(session=session, town=town)
    if district and not actor.is_town:
        units = units[units["town"] == ""]
    month = today.strftime("%Y-%m")
    active = units["active_from"].fillna("").le(month) & (
        units["active_to"].fillna("").eq("") | units["active_to"].fillna("").ge(month)
    )
    units = units[active]
    first = last_used(session=session, actor=actor)
    order = units["code"].ne(first).astype(int) if first else pd.Series(0, index=units.index)
    ordered = units.assign(_first=order).sort_values("_first", kind="stable")
    return ordered[["code", "name", "type_label", "town"]].reset_index(drop=True)
