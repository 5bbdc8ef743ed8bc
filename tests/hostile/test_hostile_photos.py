"""Hostile photo uploads through `python -m monitor photos import ZIP --json`, on SQLite and PostgreSQL.

Whatever the zip, the answer is JSON with an exit code, never a traceback; peak memory stays under
1 GiB; a photo that cannot be read is that photo's 无法读取 with a Chinese reason while the others
are stored; a zip refused whole stores nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from monitor.admin.accounts import add_user
from monitor.core.config import Settings
from monitor.core.models import Photo
from monitor.store.db import get_engine
from tests.factories import OPERATOR
from tests.hostile.photos import FILES, Expected, build
from tests.hostile.test_hostile import CJK, MEMORY_LIMIT_KIB, run_cli
from tests.photo_factories import load_activities


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    folder = tmp_path_factory.mktemp("hostile_photos")
    return folder, build(folder)


def _photos(settings: Settings) -> int:
    with Session(get_engine(settings.database_url)) as s:
        return int(s.exec(select(func.count()).select_from(Photo)).one())


@pytest.mark.parametrize("name", list(FILES))
def test_each_hostile_photo_zip_is_answered_in_json_and_costs_only_its_bad_photos(
    name: str, corpus: tuple[Path, dict[str, Expected]], settings: Settings
) -> None:
    folder, expected = corpus
    want = expected[name]
    with Session(get_engine(settings.database_url)) as s:
        load_activities(s, settings)
        add_user(session=s, actor=OPERATOR, name="审核员", role="reviewer", password="review-pass-1")

    exit_code, stdout, stderr, peak, seconds = run_cli(
        settings, "photos", "import", str(folder / name), "--user", "审核员", "--json"
    )
    print(f"{name}: exit {exit_code}, peak {peak / 1024:.0f} MiB, {seconds:.2f} s")

    assert "Traceback" not in stderr, stderr[-2000:]
    assert peak < MEMORY_LIMIT_KIB, f"peak memory {peak / 1024:.0f} MiB"
    doc = json.loads(stdout)
    assert exit_code == want.exit_code, doc
    assert _photos(settings) == want.stored
    if want.exit_code == 2:
        [error] = doc["errors"]
        assert CJK.search(error["message"]) and len(error["message"]) < 400, error
        return
    reported = {e["file"]: e for e in doc["errors"]}
    assert sorted(reported) == sorted(want.bad), doc["errors"]
    for error in reported.values():
        assert CJK.search(error["message"]) and len(error["message"]) < 400, error
