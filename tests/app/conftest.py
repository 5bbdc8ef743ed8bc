"""Page tests run app.py in AppTest against the database the fixtures point the environment at.

A test signs in as a real account of that database (created here if missing); the sign-in
form itself is tested in test_access.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from monitor.admin.accounts import add_user
from monitor.core.config import Settings
from monitor.core.models import Unit, User
from monitor.core.permissions import Actor, shell_actor
from monitor.roster.units import towns
from monitor.store.db import get_engine

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "test-password-1"


def ensure_user(settings: Settings, name: str, role: str, town: str = "") -> Actor:
    """The account, added by the operator as `users add` would; a township not yet in the roster gets a unit."""
    with Session(get_engine(settings.database_url)) as s:
        if s.exec(select(User).where(User.name == name)).first() is None:
            if town and town not in towns(session=s):
                s.add(
                    Unit(code=f"T-{town}", name=f"{town}新时代文明实践所", short_name=town, type="institute", town=town)
                )
                s.commit()
            add_user(session=s, actor=shell_actor(), name=name, role=role, town=town, password=PASSWORD)
    return Actor(name=name, role=role, town=town)


@pytest.fixture(autouse=True)
def keep_main_module() -> Iterator[None]:
    """The script runner installs app.py as __main__ and leaves it there; put the real one back.

    Otherwise a later test that starts processes by spawn would have each child run app.py.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    def make(settings: Settings, role: str | None = "admin", town: str = "", name: str = "") -> AppTest:
        monkeypatch.setenv("MONITOR_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("MONITOR_DATA_DIR", str(settings.data_dir))
        monkeypatch.delenv("MONITOR_ADMIN_PASSWORD", raising=False)
        monkeypatch.chdir(ROOT)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if role is not None:
            at.session_state["actor"] = ensure_user(settings, name or f"t_{role}_{town}", role, town)
        return at

    return make
