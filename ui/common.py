"""What every page needs: the database, cached figures keyed on the data version, formatting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

import streamlit as st
from sqlmodel import Session

from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.permissions import Actor, Forbidden, require
from monitor.core.query import Query
from monitor.figures import views
from monitor.store.db import data_identity, freeze_long_lived, get_engine, init_db
from monitor.store.schema import SchemaError
from ui import text

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPE_OPTIONS = {"全部类型": None, "中心": "center", "所": "institute", "站": "station"}
ALL_TOWNS = "全部乡镇"


@lru_cache(maxsize=8)
def _ready(url: str) -> None:
    """A new database is made here; an older one is upgraded by `python -m monitor init` (make run does it)."""
    init_db(get_engine(url), upgrade=False)
    freeze_long_lived()  # the server is ready: what it holds now lives as long as it does


def settings() -> Settings:
    """Read on every run (cheap), so the database in the environment is the one used."""
    current = Settings.from_env()
    try:
        _ready(current.database_url)
    except SchemaError as exc:
        st.error(f"数据库暂不能使用：{text.md(exc)}", icon=":material/database:")
        st.stop()
    return current


def session() -> Session:
    return Session(get_engine(settings().database_url))


def today() -> date:
    return today_in(settings())


def version() -> str:
    """The database's id and data version: every import, rollback or edit moves it on."""
    with session() as s:
        return data_identity(s)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _cached(name: str, url: str, data_version_: str, key: tuple[tuple[str, Any], ...], _kwargs: dict[str, Any]) -> Any:
    function: Callable[..., Any] = CACHEABLE[name]
    with Session(get_engine(url)) as s:
        return function(session=s, **_kwargs)


def _key(value: Any) -> Any:
    """What a cached figure is keyed on for one argument: a query by what its account may see and do
    (its role and township), not by whose account it is; anything else as it is. Thirty reviewers
    opening 总览 at a province read its figures once, not thirty times: every function cached with a
    query depends on the account only through its role and township (SPEC §6), and one that takes
    the account itself (actor=) is keyed on it whole."""
    if isinstance(value, Query):
        return replace(value, actor=Actor(name="", role=value.actor.role, town=value.actor.town))
    return value


def cached(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a monitor function, cached until the data version in the database changes.

    The version is read from the database on every call, so several server processes sharing
    one PostgreSQL database all see an import made through any of them.
    """
    name = f"{function.__module__}.{function.__qualname__}"
    CACHEABLE.setdefault(name, function)
    key = tuple(sorted((arg, _key(value)) for arg, value in kwargs.items()))
    return _cached(name, settings().database_url, version(), key, kwargs)


CACHEABLE: dict[str, Callable[..., Any]] = {}


def toast(message: str, icon: str) -> None:
    """A toast for what was just done, shown by the run that follows (show_toasts in app.py): the
    writes that toast go on to st.rerun(), which can drop a toast sent by the run it ends."""
    st.session_state.setdefault("_toasts", []).append((message, icon))


def show_toasts() -> None:
    for message, icon in st.session_state.pop("_toasts", []):
        st.toast(message, icon=icon)


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def actor() -> Actor:
    """The signed-in person; app.py does not run a page without one."""
    current = st.session_state.get("actor")
    if current is None:
        st.stop()
    return current


def allow(action: str) -> Actor:
    """Stop the page with a message unless the signed-in role may do `action` (monitor/ checks again)."""
    current = actor()
    try:
        require(current, action)
    except Forbidden as exc:
        st.error(text.md(exc))
        st.stop()
    return current


def filters() -> Query:
    """The sidebar's period, township and type, asked by the signed-in account (scoped to it)."""
    state = st.session_state
    start, end = state.get("f_start"), state.get("f_end")
    if not start or not end:
        with session() as s:
            start, end = views.default_period(session=s, settings=settings(), today=today())
    if start > end:
        start, end = end, start
    town = state.get("f_town")
    try:
        return Query(
            actor=actor(),
            settings=settings(),
            start=start,
            end=end,
            town=None if town in (None, ALL_TOWNS) else town,
            unit_type=TYPE_OPTIONS.get(state.get("f_type") or "全部类型"),
        )
    except Forbidden as exc:
        st.error(text.md(exc))
        st.stop()


# The validation table: the message is what the clerk acts on, so it gets the room.
ISSUE_COLUMNS = {
    "行号": st.column_config.NumberColumn(width="small"),
    "问题说明": st.column_config.TextColumn(width="large"),
}


TYPE_LINK = {"center": "中心", "institute": "所", "station": "站"}  # ?type= in a link -> the sidebar's choice


def filters_from_link(*, months: list[str], towns: list[str]) -> None:
    """On a session's first run, the period, township and type a link carries (?start=&end=&town=&type=)."""
    state, link = st.session_state, st.query_params
    if state.get("f_linked"):
        return
    state["f_linked"] = True
    for key in ("start", "end"):
        if link.get(key) in months:
            state[f"f_{key}"] = link.get(key)
    if link.get("town") in towns:
        state["f_town"] = link.get("town")
    chosen = TYPE_LINK.get(str(link.get("type") or ""))
    if chosen:
        state["f_type"] = chosen


def link_filters() -> None:
    """Write the sidebar's choices into the address bar: a link sent from here opens on the same view."""
    state = st.session_state
    wanted = {"start": state.get("f_start"), "end": state.get("f_end")}
    town = state.get("f_town")
    if town and town != ALL_TOWNS:
        wanted["town"] = town
    unit_type = TYPE_OPTIONS.get(state.get("f_type") or "全部类型")
    if unit_type:
        wanted["type"] = unit_type
    current = {key: st.query_params.get(key) for key in ("start", "end", "town", "type")}
    if {k: v for k, v in current.items() if v} != {k: v for k, v in wanted.items() if v}:
        for key in ("start", "end", "town", "type"):
            if wanted.get(key):
                st.query_params[key] = str(wanted[key])
            elif key in st.query_params:
                del st.query_params[key]


def reset_filters() -> None:
    """Forget the sidebar's choices, so the next run takes the defaults of the data now stored."""
    for key in ("f_start", "f_end", "f_town", "f_type"):
        st.session_state.pop(key, None)
    for key in ("start", "end", "town", "type"):  # the address bar follows the new defaults
        if key in st.query_params:
            del st.query_params[key]


def demo_badge() -> None:
    with session() as s:
        if views.is_demo(session=s):
            st.warning(
                "当前为**示例数据**（虚构的演示区县），数字仅供试用，不代表真实情况。", icon=":material/science:"
            )


def xlsx_button(label: str, data: bytes | Callable[[], bytes], file_name: str, key: str | None = None) -> None:
    """A download of an xlsx made by monitor.core.export (formulas escaped); callables run on click."""
    st.download_button(
        label, data=data, file_name=file_name, mime=XLSX_MIME, key=key, on_click="ignore", icon=":material/download:"
    )
