"""`python -m monitor ...` as a user runs it: exit codes, one JSON document on stdout, Chinese errors on stderr."""

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_runner import run_main, run_process
from factories import BY_MONTH_KEYS, BY_TOWN_KEYS, BY_TYPE_KEYS, SMALL_ROSTER, activities_csv, pick, roster_csv

ROOT = Path(__file__).resolve().parent.parent
THIS_MONTH = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

UNIT_KEYS = {"code", "name", "type", "town", "head", "phone", "quota", "active_from", "active_to"}
IMPORT_KEYS = {"rows", "imported", "duplicates", "rejected", "errors", "warnings"}
ERROR_KEYS = {"row", "column", "code", "message"}
REPORT_KEYS = {
    "start",
    "end",
    "units",
    "held",
    "required",
    "completion_rate",
    "capped_rate",
    "compliance_rate",
    "by_type",
    "by_town",
    "by_month",
}
INTERVIEW_KEYS = {"code", "name", "type", "town", "streak", "head", "phone", "held", "quota"}

# January and February 2025 for the small roster (新建村 is active from March only).
HELD = {
    "ZX": (8, 9),
    "NJK-S": (3, 2),
    "LX-S": (1, 1),
    "NJK-YCT": (0, 1),
    "NJK-HP": (2, 2),
    "LX-HP": (3, 2),
}
#            required  held   capped  met
# ZX          8  8     8  9   8  8    Y Y
# NJK-S       3  3     3  2   3  2    Y N
# LX-S        3  3     1  1   1  1    N N
# NJK-YCT     2  2     0  1   0  1    N N
# NJK-HP      2  2     2  2   2  2    Y Y
# LX-HP       2  2     3  2   2  2    Y Y
# all        40       34     32      7 of 12


def activity_rows(held=HELD, months=("2025-01", "2025-02")):
    return [
        (code, "", "", f"{month}-{day:02d}", f"活动{day}", "10")
        for code, counts in held.items()
        for month, n in zip(months, counts, strict=True)
        for day in range(1, n + 1)
    ]


class Cli:
    """`python -m monitor ARGS` as a user types it, on a database of its own.

    The commands run in this process (main() with this environment, standard input and output),
    which is what `python -m monitor` calls; `in_process=False` starts the real interpreter instead.
    """

    def __init__(self, home: Path, *, in_process: bool = True) -> None:
        self.home = home
        self.in_process = in_process
        self.env = {
            **os.environ,
            "MONITOR_DATABASE_URL": f"sqlite:///{home / 'monitor.db'}",
            "MONITOR_DATA_DIR": str(home / "data"),
        }

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        if not self.in_process:
            return run_process(args, env=self.env, stdin=stdin or "")
        return run_main(list(args), env=self.env, stdin=stdin or "")

    def json(self, *args: str, code: int = 0) -> dict:
        done = self(*args, "--json")
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stderr
        return json.loads(done.stdout)  # exactly one JSON document

    def file(self, name: str, data: bytes) -> str:
        path = self.home / name
        path.write_bytes(data)
        return str(path)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A database with the small roster, made once and copied for each test that writes."""
    run = Cli(tmp_path_factory.mktemp("template"))
    assert run("init").returncode == 0
    assert run("units", "import", run.file("名册.csv", roster_csv(SMALL_ROSTER))).returncode == 0
    return run.home


@pytest.fixture
def cli(template, tmp_path) -> Cli:
    for path in template.glob("monitor.db*"):
        shutil.copy(path, tmp_path / path.name)
    return Cli(tmp_path)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Cli:
    """A database with the small roster and January-February 2025; only read by the tests that use it."""
    run = Cli(tmp_path_factory.mktemp("cli"))
    run("init")
    run("units", "import", run.file("名册.csv", roster_csv(SMALL_ROSTER)))
    doc = run.json("activities", "import", run.file("台账.csv", activities_csv(activity_rows())))
    assert (doc["imported"], doc["errors"]) == (34, [])
    return run


def test_init_creates_the_database(tmp_path):
    run = Cli(tmp_path, in_process=False)  # `python -m monitor` itself, as an operator starts it
    done = run("init")
    assert done.returncode == 0
    assert (tmp_path / "monitor.db").exists()
    assert run("init").returncode == 0  # safe to run again


def test_units_import_and_list(cli):
    doc = cli.json("units", "import", cli.file("名册2.csv", roster_csv(SMALL_ROSTER)))
    assert (doc["rows"], doc["imported"], doc["duplicates"], doc["errors"]) == (7, 0, 7, [])
    units = cli.json("units", "list")["units"]
    assert len(units) == 7
    assert all(set(u) == UNIT_KEYS for u in units)
    center = units[0]
    assert center == {
        "code": "ZX",
        "name": "区新时代文明实践服务中心",
        "type": "center",
        "town": "",
        "head": "张三",
        "phone": "13800000001",
        "quota": None,
        "active_from": None,
        "active_to": None,
    }


def test_units_list_filters(loaded):
    assert sorted(u["code"] for u in loaded.json("units", "list", "--town", "兰溪镇")["units"]) == [
        "LX-HP",
        "LX-S",
        "LX-XJ",
    ]
    assert [u["code"] for u in loaded.json("units", "list", "--type", "站", "--town", "泥江口镇")["units"]] == [
        "NJK-HP",
        "NJK-YCT",
    ]
    assert [u["code"] for u in loaded.json("units", "list", "--type", "institute")["units"]] == ["LX-S", "NJK-S"]


def test_units_import_with_a_bad_row_exits_1(cli):
    data = roster_csv([{"code": "X1", "name": "甲村", "type": "村", "town": "甲镇"}])
    doc = cli.json("units", "import", cli.file("坏名册.csv", data), code=1)
    assert [(e["row"], e["column"], e["code"]) for e in doc["errors"]] == [(2, "单位类型", "bad_type")]


def test_activities_import_stores_then_reports_duplicates(cli):
    path = cli.file("台账.csv", activities_csv(activity_rows()))
    assert (
        cli(
            "users", "add", "district-clerk", "--role", "reviewer", "--password-stdin", stdin="clerk-password-1\n"
        ).returncode
        == 0
    )
    first = cli.json("activities", "import", path, "--user", "district-clerk")
    assert set(first) >= IMPORT_KEYS
    assert (first["rows"], first["imported"], first["duplicates"], first["rejected"]) == (34, 34, 0, 0)
    assert first["errors"] == []
    again = cli.json("activities", "import", path)
    assert (again["rows"], again["imported"], again["duplicates"], again["rejected"]) == (34, 0, 34, 0)


def test_activities_import_by_an_unknown_user_refuses_the_whole_file(cli):
    path = cli.file("台账.csv", activities_csv(activity_rows()))
    doc = cli.json("activities", "import", path, "--user", "nobody", code=2)
    assert (doc["imported"], doc["file_error"]) == (0, "unknown_user")
    done = cli("activities", "import", path, "--user", "nobody")
    assert done.returncode == 2 and "用户“nobody”不存在" in done.stderr and "Traceback" not in done.stderr


def test_a_town_clerk_cannot_report_another_townships_units(cli):
    assert (
        cli(
            "users",
            "add",
            "njk-clerk",
            "--role",
            "town",
            "--town",
            "泥江口镇",
            "--password-stdin",
            stdin="clerk-password-1\n",
        ).returncode
        == 0
    )
    rows = [("NJK-YCT", "", "", "2025-03-01", "宣讲", ""), ("LX-S", "", "", "2025-03-02", "宣讲", "")]
    doc = cli.json("activities", "import", cli.file("台账.csv", activities_csv(rows)), "--user", "njk-clerk", code=1)
    assert doc["imported"] == 1
    assert [(e["row"], e["code"]) for e in doc["errors"]] == [(3, "forbidden_unit")]
    assert "兰溪镇" in doc["errors"][0]["message"]


def test_activities_import_with_refused_rows_exits_1(cli):
    rows = [("NJK-YCT", "", "", "2025-03-01", "宣讲", ""), ("", "", "油草堂村", "2025-03-02", "宣讲", "")]
    doc = cli.json("activities", "import", cli.file("台账.csv", activities_csv(rows)), code=1)
    assert (doc["imported"], doc["rejected"]) == (1, 1)
    (error,) = doc["errors"]
    assert set(error) >= ERROR_KEYS
    assert (error["row"], error["column"], error["code"]) == (3, "单位名称", "unknown_unit")
    assert "油草塘村" in error["message"]


def test_strict_import_with_refused_rows_stores_nothing(cli):
    rows = [("NJK-YCT", "", "", "2025-03-01", "宣讲", ""), ("NJK-YCT", "", "", "2025-13-45", "宣讲", "")]
    path = cli.file("台账.csv", activities_csv(rows))
    doc = cli.json("activities", "import", path, "--strict", code=1)
    assert (doc["imported"], [e["code"] for e in doc["errors"]]) == (0, ["bad_date"])
    assert cli.json("report", "--start", "2025-03", "--end", "2025-03")["held"] == 0


def test_a_bad_count_is_only_a_warning_even_with_strict(cli):
    """SPEC §7 round two and §5: a count refuses nothing, so every row is stored and the exit is 0."""
    rows = [("NJK-YCT", "", "", "2025-03-01", "宣讲", ""), ("NJK-YCT", "", "", "2025-03-02", "宣讲", "-5")]
    path = cli.file("台账.csv", activities_csv(rows))
    doc = cli.json("activities", "import", path, "--strict", code=0)
    assert (doc["rows"], doc["imported"], doc["rejected"], doc["errors"]) == (2, 2, 0, [])
    [warning] = doc["warnings"]
    assert [warning[k] for k in ("row", "column", "code", "value")] == [3, "参与人数", "loose_number", "-5"]
    assert cli.json("report", "--start", "2025-03", "--end", "2025-03")["held"] == 2


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty_file", "空"),
        ("活动日期,活动名称\r\n2025-03-05,宣讲\r\n".encode(), "missing_column", "缺少必填列"),
        ("Datum,Café\r\n1,2\r\n".encode("latin-1"), "unreadable_file", "编码"),
    ],
)
def test_a_file_refused_as_a_whole_exits_2(cli, data, code, words):
    path = cli.file("坏文件.csv", data)
    done = cli("activities", "import", path)
    assert done.returncode == 2
    assert words in done.stderr and "文件未导入" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    doc = cli.json("activities", "import", path, code=2)
    assert (doc["imported"], doc["errors"][0]["code"]) == (0, code)


def test_a_missing_file_is_told_in_chinese(cli):
    done = cli("activities", "import", str(cli.home / "没有这个文件.csv"))
    assert done.returncode == 2
    assert "找不到文件" in done.stderr and "Traceback" not in done.stderr


def test_report_json(loaded):
    doc = loaded.json("report", "--start", "2025-01", "--end", "2025-02")
    assert set(doc) >= REPORT_KEYS  # SPEC §5: more keys may be added, none of these renamed
    assert (doc["start"], doc["end"], doc["units"], doc["held"], doc["required"]) == ("2025-01", "2025-02", 6, 34, 40)
    assert (doc["completion_rate"], doc["capped_rate"], doc["compliance_rate"]) == (34 / 40, 32 / 40, 7 / 12)
    assert set(doc["by_type"]) == {"center", "institute", "station"}
    assert pick(doc["by_type"]["station"], BY_TYPE_KEYS) == {
        "units": 3,
        "held": 10,
        "required": 12,
        "completion_rate": 10 / 12,
    }
    assert [pick(t, BY_TOWN_KEYS) for t in doc["by_town"]] == [
        {"town": "兰溪镇", "held": 7, "required": 10, "completion_rate": 7 / 10},
        {"town": "泥江口镇", "held": 10, "required": 14, "completion_rate": 10 / 14},
    ]
    assert [pick(m, BY_MONTH_KEYS) for m in doc["by_month"]] == [
        {"month": "2025-01", "held": 17, "required": 20, "completion_rate": 17 / 20},
        {"month": "2025-02", "held": 17, "required": 20, "completion_rate": 17 / 20},
    ]


def test_report_for_a_town_and_a_type(loaded):
    doc = loaded.json("report", "--start", "2025-01", "--end", "2025-02", "--town", "泥江口镇", "--type", "站")
    assert (doc["units"], doc["held"], doc["required"]) == (2, 5, 8)


def test_report_without_json_prints_percentages(loaded):
    done = loaded("report", "--start", "2025-01", "--end", "2025-02")
    assert done.returncode == 0
    assert "85.00%" in done.stdout and "held 34" in done.stdout


def test_interviews_json(loaded):
    doc = loaded.json("interviews", "--month", "2025-02")
    assert (doc["month"], doc["min_streak"]) == ("2025-02", 2)
    assert all(set(u) == INTERVIEW_KEYS for u in doc["units"])
    assert [(u["code"], u["streak"], u["held"], u["quota"]) for u in doc["units"]] == [
        ("LX-S", 2, 1, 3),
        ("NJK-YCT", 2, 1, 2),
    ]
    assert doc["units"][1]["head"] == "王五"
    assert loaded.json("interviews", "--month", "2025-02", "--min-streak", "3")["units"] == []


def test_laggards_json(loaded):
    doc = loaded.json("laggards", "--start", "2025-01", "--end", "2025-02", "--below", "3")
    assert (doc["start"], doc["end"], doc["below"]) == ("2025-01", "2025-02", 3)
    assert doc["units"] == [
        {"code": "NJK-YCT", "name": "油草塘村新时代文明实践站", "type": "station", "town": "泥江口镇", "held": 1},
        {"code": "LX-S", "name": "兰溪镇新时代文明实践所", "type": "institute", "town": "兰溪镇", "held": 2},
    ]
    stations = loaded.json("laggards", "--start", "2025-01", "--end", "2025-02", "--below", "3", "--type", "station")
    assert [u["code"] for u in stations["units"]] == ["NJK-YCT"]


@pytest.mark.parametrize(
    "args",
    [
        ("report", "--start", "2025-13", "--end", "2025-12"),
        ("report", "--start", "2025-06", "--end", "2025-01"),
        ("interviews", "--month", "三月"),
        ("report", "--start", "2025-01", "--end", "2025-02", "--type", "village"),
    ],
)
def test_a_bad_argument_is_told_in_chinese_and_exits_2(loaded, args):
    done = loaded(*args, "--json")
    message = refusal(done, "bad_argument")
    assert "月份" in message or "单位类型" in message
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        # A month not yet over would list every unit as due.
        (("interviews", "--month", "9999-12"), "尚未结束"),
        (("interviews", "--month", THIS_MONTH), "尚未结束"),
        (("interviews", "--month", "0202-06"), "早于"),
        (("report", "--start", "1900-01", "--end", "2025-02"), "早于"),
        (("report", "--start", "2025-01", "--end", "2025-02", "--town", "不存在镇"), "不存在镇"),
        (("units", "list", "--town", "不存在镇"), "不存在镇"),
        (("interviews", "--month", "2025-02", "--min-streak", "0"), "至少为 1"),
        (("laggards", "--start", "2025-01", "--end", "2025-02", "--below", "-1"), "负数"),
    ],
)
def test_nonsense_on_the_command_line_exits_2(loaded, args, words):
    done = loaded(*args, "--json")
    assert words in refusal(done, "bad_argument")
    assert "Traceback" not in done.stderr


def test_units_import_acts_only_as_an_active_account_whose_role_allows_it(cli):
    roster = cli.file("名册.csv", roster_csv(SMALL_ROSTER))
    assert (
        cli(
            "users", "add", "clerk", "--role", "town", "--town", "泥江口镇", "--password-stdin", stdin="clerk-pass-1\n"
        ).returncode
        == 0
    )
    assert cli("users", "add", "gone", "--role", "reviewer", "--password-stdin", stdin="gone-pass-12\n").returncode == 0
    assert cli("users", "disable", "gone").returncode == 0
    for name in ("clerk", "gone", "nobody"):
        doc = cli.json("units", "import", roster, "--user", name, code=2)
        assert doc["errors"][0]["code"] == "unknown_user", name
    events = cli.json("audit")["events"]
    assert not [e for e in events if e["action"] == "roster_import" and e["actor"] in ("clerk", "gone", "nobody")]


def test_batches_are_listed_and_rolled_back_from_the_command_line(cli):
    first = cli.json(
        "activities",
        "import",
        cli.file("a.csv", activities_csv([("NJK-S", "", "", f"2025-03-0{d}", f"活动{d}", "") for d in range(1, 7)])),
    )
    second = cli.json(
        "activities",
        "import",
        cli.file(
            "b.csv", activities_csv([("NJK-S", "", "", f"2025-03-{d:02d}", f"活动{d}", "") for d in range(4, 11)])
        ),
    )
    assert (first["imported"], second["imported"], second["duplicates"]) == (6, 4, 3)
    listed = cli.json("batches", "list")["batches"]
    assert [(b["id"], b["file_name"], b["imported"], b["status"]) for b in listed] == [
        (second["batch_id"], "b.csv", 4, "imported"),
        (first["batch_id"], "a.csv", 6, "imported"),
    ]
    assert set(listed[0]) >= {
        "id",
        "file_name",
        "user",
        "created_at",
        "rows",
        "imported",
        "duplicates",
        "rejected",
        "status",
    }
    done = cli.json("batches", "rollback", str(first["batch_id"]))
    # 4th-6th were reported by b.csv too; nothing was decided, answered or photographed yet.
    assert done == {
        "id": first["batch_id"],
        "removed": 3,
        "kept": 3,
        "photos": 0,
        "recognised": 0,
        "not_recognised": 0,
        "feedback": 0,
    }
    report = cli.json("report", "--start", "2025-03", "--end", "2025-03", "--town", "泥江口镇", "--type", "institute")
    assert report["held"] == 7
    again = cli("batches", "rollback", str(first["batch_id"]))
    assert again.returncode == 2 and "已撤销过" in again.stderr
    assert cli("batches", "rollback", "999").returncode == 2


def test_demo_reproduces_the_departments_report(tmp_path):
    run = Cli(tmp_path)
    done = run("demo")
    assert done.returncode == 0, done.stderr
    doc = run.json("report", "--start", "2025-01", "--end", "2025-06")
    assert (doc["held"], doc["required"]) == (3617, 3264)
    assert f"{doc['completion_rate'] * 100:.2f}" == "110.81"
    assert len(run.json("units", "list")["units"]) == 260


def refusal(done: subprocess.CompletedProcess, code: str, exit_code: int = 2) -> str:
    """A refused `--json` command: its exit code, one JSON error document on stdout, the same words on stderr."""
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    doc = json.loads(done.stdout)  # exactly one JSON document
    assert list(doc) == ["error"] and set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == code, doc
    message = doc["error"]["message"]
    assert done.stderr.startswith("错误：") and message in done.stderr
    return message


def add_account(cli: Cli, name: str, role: str, town: str = "") -> None:
    extra = ("--town", town) if town else ()
    done = cli("users", "add", name, "--role", role, *extra, "--password-stdin", stdin="account-pass-1\n")
    assert done.returncode == 0, done.stderr


def activity_ids(cli: Cli) -> list[int]:
    with sqlite3.connect(cli.home / "monitor.db") as db:
        return [i for (i,) in db.execute("SELECT id FROM activity ORDER BY id")]


def audit_actions(cli: Cli) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in cli.json("audit")["events"]]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_user_is_refused_by_every_command_that_takes_one(cli, blank):
    """--user names an account: left out, the operator acts; given blank, nobody is guessed."""
    cli.json("activities", "import", cli.file("a.csv", activities_csv(activity_rows())))
    add_account(cli, "审核员", "reviewer")
    first = activity_ids(cli)[0]
    events = audit_actions(cli)
    photo = cli.file("p.jpg", b"\xff\xd8\xff not a photo")
    commands = [
        ("review", str(first), "--decision", "recognised", "--user", blank),
        ("activities", "import", cli.file("b.csv", activities_csv([("ZX", "", "", "2025-03-01", "宣讲", "")]))),
        ("units", "import", cli.file("名册.csv", roster_csv(SMALL_ROSTER))),
        ("batches", "rollback", "1"),
        ("check", "--repair"),
        ("photos", "import", photo),
    ]
    for args in commands:
        if "--user" not in args:
            args = (*args, "--user", blank)
        for spelled in (args, tuple(f"--user={blank}" if a == "--user" else a for a in args if a != blank)):
            message = refusal(cli(*spelled, "--json"), "bad_argument")
            assert "--user" in message and "不能为空" in message, spelled
            done = cli(*spelled)
            assert done.returncode == 2 and "不能为空" in done.stderr and "Traceback" not in done.stderr
    locked = cli("months", "lock", "2025-03", "--user", blank)
    assert locked.returncode == 2 and "不能为空" in locked.stderr
    assert audit_actions(cli) == events  # nothing was done, in nobody's name
    assert cli.json("months", "list") == {"locked": []}


def test_review_json_reports_each_refusal_as_json(cli):
    cli.json("activities", "import", cli.file("a.csv", activities_csv(activity_rows())))
    add_account(cli, "审核员", "reviewer")
    add_account(cli, "文书", "town", "泥江口镇")
    first = activity_ids(cli)[0]
    review = ("review", str(first), "--json")
    assert "理由" in refusal(cli(*review, "--decision", "rejected", "--user", "审核员"), "refused")
    assert "不存在" in refusal(cli(*review, "--decision", "recognised", "--user", "nobody"), "unknown_user")
    assert "无权认定活动" in refusal(cli(*review, "--decision", "recognised", "--user", "文书"), "forbidden")
    assert "不存在" in refusal(
        cli("review", "999999", "--decision", "recognised", "--user", "审核员", "--json"), "refused"
    )
    # What argparse itself refuses is a JSON document too.
    refusal(cli(*review, "--decision", "maybe", "--user", "审核员"), "bad_argument")
    refusal(cli(*review, "--decision", "recognised"), "bad_argument")  # --user is required
    done = cli.json(*review[:2], "--decision", "recognised", "--user", "审核员")
    assert done == {"activity_id": first, "decision": "recognised", "reason": "", "reviewer": "审核员"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("report", "--start", "2025-13", "--end", "2025-12"), "bad_argument"),
        (("report", "--start", "2025-01"), "bad_argument"),  # --end missing
        (("interviews", "--month", "2025-02", "--min-streak", "two"), "bad_argument"),
        (("laggards", "--start", "2025-01", "--end", "2025-02", "--below", "3", "--type", "village"), "bad_argument"),
        (("units", "list", "--town", "不存在镇"), "bad_argument"),
        (("batches", "rollback", "999"), "refused"),
        (("batches", "list", "--unknown-flag"), "bad_argument"),
        (("signals", "--start", "2025-06", "--end", "2025-06", "--code", "made_up"), "refused"),
        (("activities", "import", "没有这个文件.csv"), "file_not_found"),
        (("activities", "import", "."), "not_a_file"),
        (("check", "--user", "nobody"), "unknown_user"),
        (("users", "list", "--bogus"), "bad_argument"),
    ],
)
def test_every_json_command_prints_one_json_document_when_refused(cli, args, code):
    refusal(cli(*args, "--json"), code)


def test_a_busy_database_is_told_as_json(cli):
    cli.env["MONITOR_BUSY_SECONDS"] = "0.5"
    holder = sqlite3.connect(cli.home / "monitor.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        message = refusal(cli("check", "--repair", "--json"), "busy")
        assert "数据库正忙" in message
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_unexpected_error_is_told_as_json_too(cli):
    with sqlite3.connect(cli.home / "monitor.db") as db:
        db.execute("DROP TABLE unitmonth")  # a damaged database
    done = cli("check", "--json")
    message = refusal(done, "internal_error", exit_code=3)
    assert "unitmonth" in message


def _tampered(cli: Cli) -> None:
    cli.json("activities", "import", cli.file("a.csv", activities_csv(activity_rows())))
    with sqlite3.connect(cli.home / "monitor.db") as db:
        db.execute("UPDATE unitmonth SET activities = activities + 1")


def _found(doc: dict) -> list[tuple[str, str, str, int, int]]:
    return [(d["month"], d["unit_code"], d["column"], d["stored"], d["actual"]) for d in doc["differences"]]


def test_check_by_a_town_account_sees_only_its_townships_counts(cli):
    _tampered(cli)
    add_account(cli, "njk", "town", "泥江口镇")
    mine = cli.json("check", "--user", "njk", code=1)
    assert mine["rows"] == 5
    assert sorted(_found(mine)) == [
        ("2025-01", "NJK-HP", "activities", 3, 2),
        ("2025-01", "NJK-S", "activities", 4, 3),
        ("2025-02", "NJK-HP", "activities", 3, 2),
        ("2025-02", "NJK-S", "activities", 3, 2),
        ("2025-02", "NJK-YCT", "activities", 2, 1),
    ]
    assert sorted(
        (s["month"], s["town"], s["unit_type"], s["column"], s["stored"], s["actual"]) for s in mine["sum_differences"]
    ) == [
        ("2025-01", "泥江口镇", "institute", "held", 3, 4),
        ("2025-01", "泥江口镇", "station", "held", 2, 3),
        ("2025-02", "泥江口镇", "institute", "capped", 2, 3),
        ("2025-02", "泥江口镇", "institute", "held", 2, 3),
        ("2025-02", "泥江口镇", "institute", "met", 0, 1),
        ("2025-02", "泥江口镇", "station", "capped", 3, 4),
        ("2025-02", "泥江口镇", "station", "held", 3, 5),
        ("2025-02", "泥江口镇", "station", "met", 1, 2),
    ]
    text = cli("check", "--user", "njk")
    assert text.returncode == 1 and "LX-" not in text.stdout and "ZX" not in text.stdout
    everyone = cli.json("check", code=1)
    assert everyone["rows"] == 11
    assert {code for _, code, *_ in _found(everyone)} == {"ZX", "NJK-S", "NJK-YCT", "NJK-HP", "LX-S", "LX-HP"}
    assert {s["town"] for s in everyone["sum_differences"]} == {"", "泥江口镇", "兰溪镇"}


def test_check_repair_is_for_admins_and_reviewers_not_town_staff(cli):
    _tampered(cli)
    add_account(cli, "njk", "town", "泥江口镇")
    add_account(cli, "审核员", "reviewer")
    message = refusal(cli("check", "--repair", "--user", "njk", "--json"), "forbidden")
    assert message == "乡镇（街道）经办人无权修复统计表。"
    assert len(cli.json("check", code=1)["differences"]) == 11
    repaired = cli.json("check", "--repair", "--user", "审核员")
    assert repaired["repaired"] and len(repaired["differences"]) == 11
    assert cli.json("check")["differences"] == []
    assert ("审核员", "unitmonth_repair") in audit_actions(cli)
