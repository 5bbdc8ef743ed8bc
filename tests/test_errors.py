"""One error catalogue (monitor.core.errors): every refusal the source can raise or report has a
code there, a Chinese message and an exit code; the command line tells them by it."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest

import monitor
from monitor.cli.main import main as cli_main
from monitor.core.errors import CATALOGUE, EXIT, Refusal
from monitor.core.issues import Code, issue

MONITOR = Path(monitor.__file__).resolve().parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# Where a code is named in the source: an error's constructor, a refusal told by the command line,
# a finding, and a refusal class's own code.
NAMED = re.compile(
    r"(?:FileError|WordError|RemovalRefused|_refused|_told|Refusal)\(\s*(?:[^()\"]*?,\s*)?\"([a-z_]+)\""
    r"|code=\s*\"([a-z_]+)\"|^\s+code = \"([a-z_]+)\"",
    re.M,
)


def _sources() -> list[Path]:
    return [p for p in MONITOR.rglob("*.py") if "migrations" not in p.parts]


def test_every_code_the_source_names_is_in_the_catalogue() -> None:
    named = {
        (path.relative_to(MONITOR).as_posix(), code)
        for path in _sources()
        for match in NAMED.finditer(path.read_text(encoding="utf-8"))
        for code in match.groups()
        if code
    }
    assert len(named) > 30, "the pattern finds the codes"
    assert sorted((where, code) for where, code in named if code not in CATALOGUE) == []


def test_every_entry_has_a_chinese_name_a_message_and_an_exit_code() -> None:
    for kind in CATALOGUE.values():
        assert CJK.search(kind.title) and kind.template.strip(), kind.code
        assert kind.exit_code == EXIT[kind.scope]
    assert {kind.exit_code for kind in CATALOGUE.values()} == {0, 1, 2}


def test_row_findings_are_errors_or_warnings_of_the_catalogue() -> None:
    warnings = {Code.SKIPPED_ROW, Code.GUESSED_DATE, Code.UNKNOWN_CATEGORY, Code.LOOSE_NUMBER}
    warnings |= {Code.DATE_AS_TYPED, Code.CUT_TEXT}
    for code in Code:
        assert CATALOGUE[code.value].scope == ("warning" if code in warnings else "row"), code
    found = issue(Code.BAD_DATE, 4, "活动日期", "三月五号")
    assert found.message == "活动日期“三月五号”无法识别，请写成 2025-03-05 这样的日期。"


def _exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if info.ispkg or ".migrations" in info.name or info.name == "monitor.__main__":
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_exception_of_the_domain_is_a_refusal_with_a_code() -> None:
    exceptions = _exceptions()
    assert len(exceptions) > 25
    assert sorted(e.__qualname__ for e in exceptions if not issubclass(e, Refusal)) == []
    assert sorted(e.__qualname__ for e in exceptions if e.code not in CATALOGUE) == []


def test_a_refusal_without_words_says_its_template() -> None:
    from monitor.store.db import Busy

    assert str(Busy()) == "数据库正忙，请稍后重试。" and Busy().exit_code == 2


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["report", "--start", "2025-13", "--end", "2025-12", "--json"], "bad_argument"),
        (["units", "list", "--town", "没有这个镇", "--json"], "bad_argument"),
        (["activities", "import", "没有这个文件.csv", "--json"], "file_not_found"),
        (["activities", "import", "x.csv", "--user", "没有这个人", "--json"], None),  # the import's own document
    ],
)
def test_the_command_line_tells_a_refusal_by_its_catalogue_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], code: str
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path / 'monitor.db'}")
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    exit_code = cli_main(argv)
    doc = json.loads(capsys.readouterr().out)
    assert exit_code == 2
    if code is None:
        assert doc["file_error"] == "unknown_user" and "没有这个人" in doc["errors"][0]["message"]
    else:
        assert doc["error"]["code"] == code and CJK.search(doc["error"]["message"])
