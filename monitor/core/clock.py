"""Stored moments (always UTC) as the people of the district read them."""

from __future__ import annotations

from datetime import datetime, tzinfo

import pandas as pd

from monitor.core.calendar import as_utc


def local_text(moment: object, timezone: tzinfo, *, seconds: bool = False) -> str:
    """'YYYY-MM-DD HH:MM' in local time; SQLite hands back naive datetimes, which hold UTC."""
    if moment is None or (not isinstance(moment, datetime) and pd.isna(moment)):
        return ""
    if not isinstance(moment, datetime):
        return str(moment)
    return as_utc(moment).astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
