"""The architecture stays visible: pages registered in app.py, no Streamlit in the domain package."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_file_is_registered_in_app():
    registered = set(re.findall(r'st\.Page\("(app_pages/[^"]+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8")))
    files = {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")}
    assert files and files == registered


def test_no_pages_folder_that_streamlit_would_serve_around_app_py():
    assert not (ROOT / "pages").exists()


def test_the_domain_package_does_not_import_streamlit():
    offenders = []
    for path in (ROOT / "monitor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(path.name)
    assert offenders == []


def test_pages_stay_thin():
    for path in (ROOT / "app_pages").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from sqlmodel import select" not in text and "session.exec" not in text, path.name
        assert len(text.splitlines()) < 150, path.name


def test_screens_ask_the_permission_model_not_a_role_name():
    """What a screen offers follows monitor.core.permissions (may/allow), as monitor/ checks it."""
    by_name = re.compile(r"""\.role\s*(==|!=|in|not in)\s*[("'\[{]""")
    assert by_name.search('me.role != "admin"') and by_name.search("me.role in ('admin',)")
    screens = [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "app_pages").glob("*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in screens
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if by_name.search(line)
    ]
    assert offenders == []
