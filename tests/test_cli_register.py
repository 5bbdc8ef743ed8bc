"""`activities add | correct | withdraw` from a shell (SPEC §10): the JSON on success, every refusal as
`{"error": {"code", "message"}}` with exit 2, and what is stored."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from photo_factories import jpeg, png
from test_cli import Cli, template  # noqa: F401  (template: the roster database, made once)

from monitor.core.calendar import today_in
from monitor.core.config import Settings

PHOTO, SECOND = jpeg(11), png(12)
CORRUPT = PHOTO[: len(PHOTO) // 3]
TODAY = today_in(Settings())  # the command line's own today
DAY = TODAY.replace(day=1).isoformat()  # this month's first day: never in the future


@pytest.fixture(scope="module")
def accounts(template, tmp_path_factory) -> Path:  # noqa: F811
    """The roster database with a 泥江口镇 clerk and a reviewer, made once."""
    home = tmp_path_factory.mktemp("register")
    for path in template.glob("monitor.db*"):
        shutil.copy(path, home / path.name)
    run = Cli(home)
    for name, *role in (("clerk", "--role", "town", "--town", "泥江口镇"), ("审核员", "--role", "reviewer")):
        done = run("users", "add", name, *role, "--password-stdin", stdin="clerk-password-1\n")
        assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def shell(accounts, tmp_path) -> Cli:
    for path in accounts.glob("monitor.db*"):
        shutil.copy(path, tmp_path / path.name)
    return Cli(tmp_path)


def stored(shell: Cli) -> dict[str, list[tuple]]:
    with sqlite3.connect(shell.home / "monitor.db") as db:
        return {
            "activities": db.execute("SELECT id, date, title, participants, batch_id FROM activity").fetchall(),
            "photos": db.execute("SELECT activity_id, file_name, sha256 FROM photo ORDER BY file_name").fetchall(),
            "batches": db.execute("SELECT id, kind, status, user FROM importbatch WHERE kind <> 'units'").fetchall(),
            "counts": db.execute("SELECT month, unit_id, activities FROM unitmonth").fetchall(),
        }


def add(shell: Cli, *extra: str, title: str = "理论宣讲进村", day: str = DAY, unit: str = "NJK-YCT"):  # type: ignore[no-untyped-def]
    return shell("activities", "add", "--unit", unit, "--date", day, "--title", title, "--user", "clerk", *extra)


def test_add_registers_one_activity_with_its_photos(shell):
    photos = [shell.file("现场.jpg", PHOTO), shell.file("合影.png", SECOND)]
    done = add(shell, "--participants", "30", "--category", "理论宣讲", "--photo", *photos, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    rows = stored(shell)
    [(activity_id, day, title, people, batch_id)] = rows["activities"]
    assert doc == {
        "activity_id": activity_id,
        "batch_id": batch_id,
        "unit": "NJK-YCT",
        "date": DAY,
        "title": "理论宣讲进村",
        "photos": 2,
        "warnings": [],
    }
    assert (day, title, people) == (DAY, "理论宣讲进村", 30)
    assert [(a, name) for a, name, _ in rows["photos"]] == [(activity_id, "合影.png"), (activity_id, "现场.jpg")]
    assert rows["batches"] == [(batch_id, "register", "imported", "clerk")]
    assert rows["counts"] == [(DAY[:7], rows["counts"][0][1], 1)]
    sha = hashlib.sha256(PHOTO).hexdigest()  # stored by its content, never by the name given
    assert (shell.home / "data" / "photos" / "original" / sha[:2] / sha).exists()


TOMORROW = (TODAY + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("unit", "day", "title", "bad_photo", "code", "said"),
    [
        ("NJK-YCT", TOMORROW, "明天的活动", False, "future_date", "晚于今天"),
        ("LX-S", DAY, "兰溪的活动", False, "forbidden_unit", "属于兰溪镇"),
        ("NJK-YCT", DAY, "照片坏了", True, "bad_image", "坏.jpg"),
        ("NJK-YCT", DAY, "长" * 201, False, "too_long", "超过 200 字"),
    ],
)
def test_a_refused_registration_exits_2_with_its_code_and_stores_nothing(
    shell, unit, day, title, bad_photo, code, said
):
    photos = [shell.file("现场.jpg", PHOTO), *([shell.file("坏.jpg", CORRUPT)] if bad_photo else [])]
    before = stored(shell)
    done = add(shell, "--photo", *photos, "--json", unit=unit, day=day, title=title)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == code and said in error["message"]
    assert stored(shell) == before


def test_a_photo_is_read_no_further_than_its_limit(shell):
    shell.env["MONITOR_PHOTO_LIMIT_MB"] = "1"
    big = shell.file("大.jpg", PHOTO + b"\0" * (3 * 1024 * 1024))
    done = add(shell, "--photo", big, "--json")
    error = json.loads(done.stdout)["error"]
    assert done.returncode == 2 and error["code"] == "bad_image"
    assert "大.jpg" in error["message"] and "照片大小 1.0 MB" in error["message"]  # one byte past the limit read
    assert stored(shell)["activities"] == []


def test_a_missing_photo_file_or_account_is_refused(shell):
    done = add(shell, "--photo", str(shell.home / "没有.jpg"), "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["error"]["code"] == "file_not_found"
    done = shell("activities", "add", "--unit", "NJK-YCT", "--date", DAY, "--title", "x", "--user", "nobody", "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["error"]["code"] == "unknown_user"
    assert stored(shell)["activities"] == []


def test_correct_and_withdraw_from_the_command_line(shell):
    added = shell.json("activities", "add", "--unit", "NJK-YCT", "--date", DAY, "--title", "旧名", "--user", "clerk")
    activity_id = str(added["activity_id"])
    fixed = shell.json(
        "activities", "correct", activity_id, "--title", "新名", "--participants", "8", "--user", "clerk"
    )
    assert fixed["before"] == {"title": "旧名", "participants": None}
    assert fixed["after"] == {"title": "新名", "participants": 8}
    assert [row[2:4] for row in stored(shell)["activities"]] == [("新名", 8)]

    gone = shell.json("activities", "withdraw", activity_id, "--user", "审核员")
    assert (gone["removed"], gone["batch_id"]) == (1, added["batch_id"])
    rows = stored(shell)
    assert rows["activities"] == [] and rows["counts"] == []
    assert ("register", "rolled_back") in [row[1:3] for row in rows["batches"]]
    again = shell("activities", "withdraw", activity_id, "--user", "clerk", "--json")
    assert again.returncode == 2 and json.loads(again.stdout)["error"]["code"] == "not_found"
