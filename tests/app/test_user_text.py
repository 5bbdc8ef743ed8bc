"""What a person typed is shown as typed on every page (SPEC §6, user text is text).

The district of tests/user_text.py holds Markdown links and images, HTML, icons, maths, colours and
a right-to-left override in every field. Here each page is run as the department and as the
township, and every string the page hands to Streamlit is checked by where it goes:

- read as Markdown (body of st.markdown, captions, alerts, toasts, titles; labels and help of
  widgets, expanders, tabs, metrics): none of what was typed may stand there as syntax, and once
  read (character references decoded, the invisible word joiner dropped) it says what was typed;
- shown as text (select box options, table cells and headings): no directional control.

The browser test (tests/e2e/test_user_text.py) checks the same in Chromium, with a listener that
must receive no request.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import PAGES
from tests.user_text import CODE, END, START, TOWN, Typed, plant, texts

LEAK = "http://127.0.0.1:9"  # nothing listens there: these tests read what the page hands the browser
TYPED = texts(LEAK)
ALL_PAGES = PAGES  # every page, as the page tests open them
TOWN_PAGES = ["progress", "overview", "units", "interviews", "feedback", "upload", "imports", "export"]
MARKDOWN_BODIES = {"markdown", "caption", "title", "subheader", "warning", "info", "error", "success", "toast"}
# What the typed values would do if read as Markdown: each must appear only cut up or as references.
LIVE = ("](", "![", "<img", ":material/warning:", ":red", "$x^2$", "http://")
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
JOINER = "\u2060"


def read(source: str) -> str:
    """Markdown source as the reader sees it once the renderer has decoded it, for text with no syntax."""
    return html.unescape(source).replace(JOINER, "").replace("  \n", "\n")


def _walk(node) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def strings(at: AppTest) -> tuple[list[str], list[str]]:
    """(what the page gives Streamlit as Markdown, what it gives as plain text)."""
    markdown: list[str] = []
    plain: list[str] = []
    for node in _walk(at._tree):
        kind = getattr(node, "type", "")
        if kind in MARKDOWN_BODIES and isinstance(getattr(node, "value", None), str):
            markdown.append(node.value)  # type: ignore[attr-defined]
        for name in ("label", "help"):
            value = getattr(node, name, None)
            if isinstance(value, str):
                markdown.append(value)
        if kind == "metric":
            markdown += [str(node.value), str(node.delta or "")]  # type: ignore[attr-defined]
        if kind in ("selectbox", "multiselect"):
            plain += [str(o) for o in node.options]  # type: ignore[attr-defined]
        if kind == "dataframe":
            frame = node.value  # type: ignore[attr-defined]
            frame = frame.data if hasattr(frame, "data") else frame  # a Styler's frame
            plain += [str(c) for c in frame.columns]
            plain += [v for v in pd.DataFrame(frame).to_numpy().ravel() if isinstance(v, str)]
    return markdown, plain


def assert_text_is_text(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [x.value for x in at.exception])
    markdown, plain = strings(at)
    for source in markdown:
        assert not [live for live in LIVE if live in source], (where, source)
        assert not set(source) & set(CONTROLS), (where, source)
    for text in plain:
        assert not set(text) & set(CONTROLS), (where, text)


def shown(at: AppTest) -> str:
    """All the Markdown of the page, as read."""
    return "\n".join(read(s) for s in strings(at)[0])


@pytest.fixture
def typed(settings) -> Typed:  # type: ignore[no-untyped-def]
    IDS.update(plant(settings, TYPED))
    return TYPED


IDS: dict[str, int] = {}  # the planted station's activities: month -> id


def _opened(app_for, settings, role: str, **account: str) -> AppTest:  # type: ignore[no-untyped-def]
    at = app_for(settings, role=role, **account)
    at.session_state["f_start"], at.session_state["f_end"] = START, END
    at.session_state["rv_unit"] = "NJK-X"  # 活动认定 opens on the station whose fields are typed
    at.run()
    return at


def test_every_page_shows_what_the_department_typed_as_text(app_for, settings, typed):
    at = _opened(app_for, settings, "reviewer", name=typed.reviewer)
    for page in ALL_PAGES[:-1]:  # 用户管理 is the admin's
        at.switch_page(f"app_pages/{page}.py").run()
        assert_text_is_text(at, page)
    at = _opened(app_for, settings, "admin")
    at.switch_page("app_pages/users.py").run()
    assert_text_is_text(at, "users")
    assert typed.clerk in shown(at) or typed.clerk in strings(at)[1]


def test_every_page_shows_what_the_township_typed_as_text(app_for, settings, typed):
    at = _opened(app_for, settings, "town", town=TOWN, name=typed.clerk)
    assert typed.clerk in shown(at), "the sidebar names the signed-in clerk as typed"
    for page in TOWN_PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert_text_is_text(at, page)


def test_the_unit_detail_names_the_unit_its_head_and_phone_as_typed(app_for, settings, typed):
    at = _opened(app_for, settings, "reviewer", name=typed.reviewer)
    at.switch_page("app_pages/units.py").run()
    box = next(s for s in at.selectbox if s.label == "选择单位")
    box.select(next(o for o in box.options if o.endswith(f"（{CODE}）"))).run()
    assert_text_is_text(at, "units, the planted unit open")
    [line] = [read(m.value) for m in at.markdown if "负责人：" in m.value]
    assert line == f"**{typed.unit}**　泥江口镇　负责人：{typed.head}　电话：{typed.phone}"


def test_the_repeated_title_warning_quotes_the_title_as_typed(app_for, settings, typed):
    at = _opened(app_for, settings, "reviewer", name=typed.reviewer)
    at.session_state["sg_open"] = IDS["2025-06"]  # the month the title has been used three months running
    at.switch_page("app_pages/signals.py").run()
    assert_text_is_text(at, "signals")
    warnings = [read(w.value) for w in at.warning]
    expected = "标题“![x](http://127.0.0.1:9/leak.png)[点我](http://127.0.0.1:9/phish)”已连续 3 个月使用"
    assert expected in warnings, warnings
    card = shown(at)
    assert "2025-06-10 ![x](http://127.0.0.1:9/leak.png)[点我](http://127.0.0.1:9/phish)" in card
    assert "· :material/warning: · 12 人参加 · <img src=http://127.0.0.1:9/x>会议室" in card
    assert "理由：照片不符合要求 :material/warning: [点我](http://127.0.0.1:9/phish) $x^2$" in card


def test_the_bulletin_preview_names_units_and_heads_as_typed(app_for, settings, typed):
    at = _opened(app_for, settings, "reviewer", name=typed.reviewer)
    at.switch_page("app_pages/bulletin.py").run()
    assert_text_is_text(at, "bulletin")
    preview = shown(at)
    assert "[点我](http://127.0.0.1:9/phish):red[红]村新时代文明实践站（2025-04、2025-05、2025-06）" in preview
    assert "负责人：![x](http://127.0.0.1:9/leak.png):material/warning:）" in preview
    towns = at.dataframe[0].value
    assert '<a href="http://127.0.0.1:9/phish">兰溪</a>镇:red[红]' in list(towns["乡镇（街道）"])


def test_the_feedback_table_reads_the_reason_in_the_order_it_was_typed(app_for, settings, typed):
    at = _opened(app_for, settings, "town", town=TOWN, name=typed.clerk)
    at.switch_page("app_pages/feedback.py").run()
    assert_text_is_text(at, "feedback")
    table = at.dataframe[0].value
    assert list(table["不予认定理由"]) == ["照片不符合要求 :material/warning: [点我](http://127.0.0.1:9/phish) $x^2$"]
    assert list(table["审核人"]) == [":material/warning:审核员$x^2$"]
    thread = shown(at)
    answer = "已整改 ![x](http://127.0.0.1:9/leak.png) :red[红] <img src=http://127.0.0.1:9/x> http://127.0.0.1:9/plain"
    assert answer in thread
    assert "[点我](http://127.0.0.1:9/phish)经办人" in thread, "the answer's author"


def test_a_registration_is_named_as_typed_in_its_toast_and_in_my_registrations(app_for, settings, typed):
    at = _opened(app_for, settings, "town", town=TOWN, name=typed.clerk)
    at.switch_page("app_pages/register.py").run()
    at.selectbox(key="reg0_unit").set_value(CODE)
    at.text_input(key="reg0_title").set_value(typed.title)
    at.text_input(key="reg0_location").set_value(typed.location)
    at.button(key="reg0_save").click().run()
    assert_text_is_text(at, "register, just saved")
    assert [read(t.value) for t in at.toast if "已登记" in t.value] == [
        f"已登记：{typed.unit} {at.date_input(key='reg1_day').value:%m月%d日} {typed.title}（照片 0 张）"
    ]
    [mine] = [read(e.label) for e in at.expander]
    assert typed.unit in mine and f"· {typed.title} · 待认定" in mine
