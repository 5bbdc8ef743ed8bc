"""`photos import`, `review` and `signals` from a shell: JSON shapes, exit codes, and what they store."""

from __future__ import annotations

import io
import shutil
import sqlite3
import zipfile

import pytest
from factories import activities_csv
from PIL import Image, ImageDraw
from test_cli import Cli, template  # noqa: F401  (template: the roster database, made once)

PHOTO_KEYS = {"photos", "matched", "ambiguous", "unmatched", "duplicates", "errors"}
SIGNAL_KEYS = {"code", "unit_code", "unit_name", "town", "month", "activity_id", "message"}


def photo(seed: int) -> bytes:
    """A small JPEG whose picture depends on the seed, so two seeds are two different photos."""
    image = Image.new("RGB", (320, 240), (40 * seed % 255, 120, 200))
    draw = ImageDraw.Draw(image)
    for k in range(6):
        x = (seed * 37 + k * 53) % 280
        draw.rectangle((x, 20 + k * 30, x + 30 + seed * 3, 40 + k * 30), fill=(255 - 30 * k, 20 * seed % 255, 10))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def shell(template, tmp_path) -> Cli:  # noqa: F811
    """A copy of the roster database for one test."""
    for path in template.glob("monitor.db*"):
        shutil.copy(path, tmp_path / path.name)
    return Cli(tmp_path)


def with_activities(shell: Cli) -> None:
    rows = [
        ("NJK-YCT", "", "", "2025-06-03", "理论宣讲", ""),
        ("NJK-YCT", "", "", "2025-06-12", "志愿服务", ""),
        ("NJK-HP", "", "", "2025-06-03", "文艺汇演", ""),
    ]
    done = shell("activities", "import", shell.file("台账.csv", activities_csv(rows)))
    assert done.returncode == 0, done.stderr


def ids(shell: Cli) -> dict[tuple[str, str], int]:
    with sqlite3.connect(shell.home / "monitor.db") as db:
        rows = db.execute("SELECT u.code, a.date, a.id FROM activity a JOIN unit u ON u.id = a.unit_id").fetchall()
    return {(code, day): int(i) for code, day, i in rows}


def linked(shell: Cli) -> list[tuple[int, str]]:
    with sqlite3.connect(shell.home / "monitor.db") as db:
        return db.execute("SELECT activity_id, file_name FROM photo ORDER BY activity_id, file_name").fetchall()


def test_photos_import_matches_by_folder_and_file_names_and_stores_once(shell):
    with_activities(shell)
    archive = shell.file(
        "照片.zip",
        zipped(
            {
                "油草塘村/2025-06-03 理论宣讲/1.jpg": photo(1),
                "油草塘村-0612-1.jpg": photo(2),
                "泥江口镇和平村/6月3日/现场.jpg": photo(3),
            }
        ),
    )
    doc = shell.json("photos", "import", archive)
    assert PHOTO_KEYS <= set(doc)
    assert (doc["photos"], doc["matched"], doc["ambiguous"], doc["unmatched"], doc["duplicates"]) == (3, 3, 0, 0, 0)
    assert doc["errors"] == []
    found = ids(shell)
    assert linked(shell) == sorted(
        [
            (found[("NJK-YCT", "2025-06-03")], "1.jpg"),
            (found[("NJK-YCT", "2025-06-12")], "油草塘村-0612-1.jpg"),
            (found[("NJK-HP", "2025-06-03")], "现场.jpg"),
        ]
    )
    again = shell.json("photos", "import", archive)
    assert (again["matched"], again["duplicates"]) == (0, 3)
    assert len(linked(shell)) == 3
    stored = sorted(p.name for p in (shell.home / "data" / "photos" / "original").rglob("*") if p.is_file())
    assert len(stored) == 3


def test_photos_import_exits_1_when_some_photos_are_not_matched(shell):
    with_activities(shell)
    archive = shell.file(
        "照片.zip",
        zipped(
            {
                "油草塘村/2025-06-03/1.jpg": photo(1),
                "油草塘村/2025-07-01/1.jpg": photo(2),  # no activity that day
                "说明/坏图.jpg": b"\xff\xd8\xff not really a jpeg",
            }
        ),
    )
    doc = shell.json("photos", "import", archive, code=1)
    assert (doc["photos"], doc["matched"], doc["unmatched"]) == (3, 1, 1)
    codes = {item["file"]: item["code"] for item in doc["errors"]}
    assert codes == {"油草塘村/2025-07-01/1.jpg": "unmatched", "说明/坏图.jpg": "bad_image"}
    assert len(linked(shell)) == 1


def test_photos_import_refuses_a_file_that_is_not_a_zip_and_an_unknown_user(shell):
    bad = shell.file("照片.zip", b"PK\x03\x04 broken")
    doc = shell.json("photos", "import", bad, code=2)
    assert doc["errors"][0]["code"] == "refused" and "zip" in doc["errors"][0]["message"]
    doc = shell.json("photos", "import", bad, "--user", "nobody", code=2)
    assert doc["errors"][0]["code"] == "unknown_user"


def test_review_rejects_an_activity_and_report_counts_it_apart(shell):
    with_activities(shell)
    assert (
        shell("users", "add", "审核员", "--role", "reviewer", "--password-stdin", stdin="review-pass-1\n").returncode
        == 0
    )
    assert (
        shell(
            "users", "add", "文书", "--role", "town", "--town", "泥江口镇", "--password-stdin", stdin="clerk-pass-12\n"
        ).returncode
        == 0
    )
    target = ids(shell)[("NJK-YCT", "2025-06-03")]
    refused = shell("review", str(target), "--decision", "rejected", "--user", "审核员")
    assert refused.returncode == 2 and "理由" in refused.stderr and "Traceback" not in refused.stderr
    staff = shell("review", str(target), "--decision", "recognised", "--user", "文书")
    assert staff.returncode == 2 and "Traceback" not in staff.stderr
    doc = shell.json("review", str(target), "--decision", "rejected", "--reason", "照片为其他活动", "--user", "审核员")
    assert doc == {"activity_id": target, "decision": "rejected", "reason": "照片为其他活动", "reviewer": "审核员"}
    report = shell.json("report", "--start", "2025-06", "--end", "2025-06", "--town", "泥江口镇")
    assert (report["held"], report["not_recognised"]) == (2, 1)
    missing = shell("review", "999999", "--decision", "recognised", "--user", "审核员")
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_signals_json_shape_and_nonsense_refused(shell):
    with_activities(shell)
    shell.json("photos", "import", shell.file("p.zip", zipped({"油草塘村/2025-06-03/1.jpg": photo(1)})))
    doc = shell.json("signals", "--start", "2025-06", "--end", "2025-06")
    assert set(doc) == {"start", "end", "signals"} and (doc["start"], doc["end"]) == ("2025-06", "2025-06")
    assert doc["signals"] and all(set(s) >= SIGNAL_KEYS for s in doc["signals"])
    # Photos started in June 2025: the two June activities without a photo are hinted at.
    no_photo = sorted((s["unit_code"], s["activity_id"]) for s in doc["signals"] if s["code"] == "no_photo")
    found = ids(shell)
    assert no_photo == sorted(
        [("NJK-YCT", found[("NJK-YCT", "2025-06-12")]), ("NJK-HP", found[("NJK-HP", "2025-06-03")])]
    )
    only = shell.json("signals", "--start", "2025-06", "--end", "2025-06", "--code", "no_photo", "--town", "泥江口镇")
    assert {s["code"] for s in only["signals"]} == {"no_photo"}
    for args in (("--code", "made_up"), ("--town", "不存在镇")):
        done = shell("signals", "--start", "2025-06", "--end", "2025-06", *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
    done = shell("signals", "--start", "2025-07", "--end", "2025-06")
    assert done.returncode == 2 and "晚于" in done.stderr


def account(shell: Cli, name: str, role: str, town: str = "") -> None:
    extra = ("--town", town) if town else ()
    done = shell("users", "add", name, "--role", role, *extra, "--password-stdin", stdin="account-pass-1\n")
    assert done.returncode == 0, done.stderr


def stored_files(shell: Cli) -> list[str]:
    return sorted(p.parent.parent.name for p in (shell.home / "data" / "photos").rglob("*") if p.is_file())


def test_photos_import_takes_a_folder_and_tells_every_refusal_as_its_document(shell):
    with_activities(shell)
    account(shell, "njk", "town", "泥江口镇")
    folder = shell.home / "六月照片"
    (folder / "油草塘村" / "2025-06-03 理论宣讲").mkdir(parents=True)
    (folder / "油草塘村" / "2025-06-03 理论宣讲" / "1.jpg").write_bytes(photo(1))
    (folder / "和平村-0603.jpg").write_bytes(photo(2))
    (folder / ".DS_Store").write_bytes(b"\x00")
    doc = shell.json("photos", "import", str(folder), "--user", "njk")
    assert (doc["photos"], doc["matched"], doc["stored"], doc["errors"]) == (2, 2, 2, [])
    found = ids(shell)
    assert linked(shell) == sorted(
        [(found[("NJK-YCT", "2025-06-03")], "1.jpg"), (found[("NJK-HP", "2025-06-03")], "和平村-0603.jpg")]
    )

    archive = shell.file("照片.zip", zipped({"油草塘村-0612.jpg": photo(3)}))
    other = shell.json("photos", "import", archive, "--town", "兰溪镇", "--user", "njk", code=2)
    assert other["errors"] == [
        {
            "file": archive,
            "code": "forbidden",
            "message": "乡镇（街道）经办人只能为本乡镇（泥江口镇）上传照片，不能为兰溪镇上传。",
        }
    ]
    plain = shell("photos", "import", archive, "--town", "兰溪镇", "--user", "njk")
    assert plain.returncode == 2 and plain.stdout == "" and "只能为本乡镇（泥江口镇）上传照片" in plain.stderr
    missing = str(shell.home / "没有这个.zip")
    gone = shell.json("photos", "import", missing, code=2)
    assert gone["errors"] == [{"file": missing, "code": "file_not_found", "message": f"找不到文件 {missing}"}]
    assert len(linked(shell)) == 2


def test_photos_remove_and_gc_from_the_command_line(shell):
    with_activities(shell)
    account(shell, "njk", "town", "泥江口镇")
    account(shell, "lx", "town", "兰溪镇")
    account(shell, "审核员", "reviewer")
    account(shell, "管理员", "admin")
    shell.json(
        "photos", "import", shell.file("p.zip", zipped({"油草塘村/2025-06-03/1.jpg": photo(1)})), "--user", "njk"
    )
    with sqlite3.connect(shell.home / "monitor.db") as db:
        [(photo_id, activity_id)] = db.execute("SELECT id, activity_id FROM photo").fetchall()

    refused = shell.json("photos", "remove", str(photo_id), "--user", "lx", code=2)
    assert refused == {
        "photo_id": photo_id,
        "activity_id": None,
        "removed": False,
        "file_deleted": False,
        "errors": [{"code": "forbidden", "message": "只能删除本乡镇（兰溪镇）活动的照片。"}],
    }
    done = shell.json("photos", "remove", str(photo_id), "--user", "njk")
    assert done == {
        "photo_id": photo_id,
        "activity_id": activity_id,
        "file_name": "1.jpg",
        "uploaded_by": "njk",
        "removed": True,
        "file_deleted": True,
        "errors": [],
    }
    assert linked(shell) == [] and stored_files(shell) == []
    again = shell.json("photos", "remove", str(photo_id), "--user", "审核员", code=2)
    assert again["errors"][0]["code"] == "not_found"

    orphan = shell.home / "data" / "photos" / "original" / "ab" / ("ab" * 32)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    for name in ("njk", "审核员"):
        doc = shell.json("photos", "gc", "--user", name, code=2)
        assert doc["errors"][0]["code"] == "forbidden" and doc["files"] == 0, name
    kept = shell.json("photos", "gc", "--user", "管理员")
    assert kept == {"grace_hours": 24, "photos": 0, "files": 0, "bytes": 0, "recent": 1, "errors": []}
    taken = shell.json("photos", "gc", "--grace-hours", "0", "--user", "管理员")
    assert taken == {"grace_hours": 0, "photos": 1, "files": 1, "bytes": 11, "recent": 0, "errors": []}
    assert not orphan.exists()
    bad = shell.json("photos", "gc", "--grace-hours", "-1", "--user", "管理员", code=2)
    assert bad["errors"][0]["code"] == "bad_argument"
    events = [e["action"] for e in shell.json("audit")["events"]]
    assert events.count("photos_gc") == 2 and events.count("photo_remove") == 1
