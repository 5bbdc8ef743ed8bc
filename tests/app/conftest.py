"""Page tests run app.py in AppTest against the database the fixtures point the environment at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch) -> Callable[[Settings], AppTest]:
    def make(settings: Settings) -> AppTest:
        monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
        monkeypatch.chdir(ROOT)
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)

    return make
