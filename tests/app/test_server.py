"""The dashboard's server process, once its database is ready."""

from __future__ import annotations

import gc

from monitor.store.db import freeze_long_lived
from ui import common


def test_a_ready_server_keeps_what_it_holds_out_of_full_collections(settings, monkeypatch):
    # From a process that has frozen nothing yet.
    gc.unfreeze()
    freeze_long_lived.cache_clear()
    common._ready.cache_clear()
    monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
    assert gc.get_freeze_count() == 0

    assert common.settings().database_url == settings.database_url
    # pandas, SQLAlchemy, Streamlit and the engine: far more than a request makes.
    frozen = gc.get_freeze_count()
    assert frozen > 50_000
    common.settings()  # every later run of a page
    assert gc.get_freeze_count() == frozen
