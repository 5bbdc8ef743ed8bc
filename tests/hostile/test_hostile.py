"""The hostile corpus through the paths a user's upload takes: the command line and the upload page.

Each file is imported by `python -m monitor activities import FILE --json` in a process of its own
(on SQLite and PostgreSQL), whose peak memory is read at its exit; then previewed on the upload
page in AppTest. Whatever the file, the answer is a code and a short Chinese message, never a
crash, and nothing of a refused file is stored; a file whose only trouble is an absurd count
(a WARNED code) is stored with that count empty and one warning.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import load_roster
from sqlmodel import Session, func, select

from monitor.core.config import Settings
from monitor.core.models import Activity
from monitor.store.db import get_engine
from tests.app.conftest import app_for, keep_main_module  # noqa: F401  (the page fixtures)
from tests.cli_runner import run_main
from tests.hostile.corpus import WARNED, WHOLE_FILE, build

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT_KIB = 1024 * 1024
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, build(folder)


def _names() -> list[str]:
    from tests.hostile.corpus import FILES

    return list(FILES)


def _count(settings: Settings) -> int:
    with Session(get_engine(settings.database_url)) as s:
        return int(s.exec(select(func.count()).select_from(Activity)).one())


# `python -m monitor`, and on the way out the process's own peak RSS (VmHWM: of this program's
# memory only; ru_maxrss of a child also counts the pytest process it was forked from).
LAUNCHER = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status, open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["monitor", *sys.argv[1:]]
runpy.run_module("monitor", run_name="__main__", alter_sys=True)
"""


def run_cli(settings: Settings, *args: str, timeout: float = 120) -> tuple[int, str, str, int, float]:
    """`python -m monitor ARGS` on the settings' database: (exit code, stdout, stderr, peak RSS KiB, seconds)."""
    peak_file = settings.data_dir.parent / "peak.kib"
    peak_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "MONITOR_DATABASE_URL": settings.database_url,
        "MONITOR_DATA_DIR": str(settings.data_dir),
        "HOSTILE_PEAK_FILE": str(peak_file),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.monotonic() - started
    peak = int(peak_file.read_text()) if peak_file.exists() else 0
    return done.returncode, done.stdout, done.stderr, peak, elapsed


@pytest.mark.parametrize("name", _names())
def test_the_command_line_refuses_each_hostile_file_without_crashing(
    name: str, corpus: tuple[Path, dict[str, str | None]], settings: Settings, request: pytest.FixtureRequest
) -> None:
    folder, expected = corpus
    code = expected[name]
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
    before = _count(settings)

    argv = ("activities", "import", str(folder / name), "--json")
    if settings.database_url.startswith("sqlite"):  # a process of its own, whose peak memory is read
        exit_code, stdout, stderr, maxrss, seconds = run_cli(settings, *argv)
        print(f"{name}: exit {exit_code}, peak {maxrss / 1024:.0f} MiB, {seconds:.2f} s")
        assert maxrss < MEMORY_LIMIT_KIB, f"peak memory {maxrss / 1024:.0f} MiB"
    else:  # the file is read the same way whatever the engine: here what is stored, in this process
        env = {**os.environ, "MONITOR_DATABASE_URL": settings.database_url, "MONITOR_DATA_DIR": str(settings.data_dir)}
        done = run_main(argv, env=env)
        exit_code, stdout, stderr = done.returncode, done.stdout, done.stderr

    assert exit_code >= 0 and exit_code != 134, f"crashed: {exit_code}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr, stderr[-2000:]
    doc = json.loads(stdout)
    if code is None:
        assert exit_code == 0, doc
        assert doc["imported"] == _count(settings) - before > 0
        return
    if code in WARNED:  # the row is stored, its count empty, the text as written kept; one warning
        assert exit_code == 0, doc
        assert (doc["imported"], doc["rejected"], doc["errors"]) == (1, 0, [])
        assert _count(settings) - before == 1
        [warning] = [w for w in doc["warnings"] if w["code"] == code]
        assert warning["column"] == "参与人数", warning
        assert CJK.search(warning["message"]) and len(warning["message"]) < 400, warning["message"]
        with Session(get_engine(settings.database_url)) as s:
            [(participants, as_written)] = s.exec(select(Activity.participants, Activity.as_written)).all()
        assert participants is None
        assert json.loads(as_written) == {"参与人数": warning["value"]}
        assert warning["value"] in (folder / name).read_text(encoding="utf-8")
        return
    assert exit_code == (2 if code in WHOLE_FILE else 1), doc
    codes = [e["code"] for e in doc["errors"]]
    messages = [e["message"] for e in doc["errors"]]
    assert _count(settings) == before, "nothing of a refused file is stored"
    assert code in codes, doc
    message = messages[codes.index(code)]
    assert CJK.search(message) and len(message) < 400, message


@pytest.fixture
def upload_page(app_for, settings: Settings):  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(get_engine(settings.database_url)) as s:
        load_roster(s, settings)
    at = app_for(settings).run()
    at.switch_page("app_pages/upload.py").run()
    return at


MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
}


@pytest.mark.parametrize("name", _names())
def test_the_upload_page_previews_each_hostile_file_in_chinese(
    name: str, corpus: tuple[Path, dict[str, str | None]], upload_page, settings: Settings
) -> None:
    folder, expected = corpus
    code = expected[name]
    at = upload_page
    before = _count(settings)
    data = (folder / name).read_bytes()
    at.file_uploader[0].set_value((name, data, MIME[name.rsplit(".", 1)[1]])).run()
    assert not at.exception, at.exception
    assert _count(settings) == before, "a preview stores nothing"
    if code is None:
        assert {m.label: m.value for m in at.metric}["将新增"] != "0"
        return
    if code in WARNED:  # imported all the same: no refused row, the warning among the preview's 提示
        metrics = {m.label: m.value for m in at.metric}
        assert (metrics["将新增"], metrics["有问题（不导入）"]) == ("1", "0"), metrics
        assert not any("问题代码" in d.value.columns for d in at.dataframe)
        [message] = at.dataframe[-1].value["提示"]
        assert "参与人数" in message and CJK.search(message) and len(message) < 400, message
        return
    if code in WHOLE_FILE:
        [error] = [e.value for e in at.error if e.value.startswith("文件未能读取")]
        assert CJK.search(error) and len(error) < 400, error
        return
    report = at.dataframe[-1].value
    message = report["问题说明"][list(report["问题代码"]).index(code)]
    assert CJK.search(message) and len(message) < 400, message
