"""The scoped query: built once from the account, never for a township the account may not see."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import replace

import pytest

import monitor
from monitor.core.calendar import BadPeriod
from monitor.core.config import Settings
from monitor.core.permissions import Actor, Forbidden
from monitor.core.query import Query

RULES = Settings()
CLERK = Actor(name="泥江口镇文书", role="town", town="泥江口镇")
REVIEWER = Actor(name="审核", role="reviewer")


def test_a_clerk_s_query_is_their_own_township_whatever_is_left_out():
    assert Query(actor=CLERK, settings=RULES, start="2025-01", end="2025-03").town == "泥江口镇"
    assert Query(actor=REVIEWER, settings=RULES, start="2025-01", end="2025-03").town is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: Query(actor=CLERK, settings=RULES, start="2025-01", end="2025-03", town="兰溪镇"),
        lambda: replace(Query(actor=CLERK, settings=RULES, start="2025-01", end="2025-01"), town="兰溪镇"),
        lambda: Query.month_of(CLERK, RULES, "2025-01", town="兰溪镇"),
    ],
    ids=["built", "replaced", "one month"],
)
def test_no_way_of_building_a_query_reaches_another_township(build):
    with pytest.raises(Forbidden):
        build()


def test_the_period_is_checked_as_it_is_built():
    assert Query(actor=REVIEWER, settings=RULES, start="2025-1", end="2025-3").months == [
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    with pytest.raises(BadPeriod):
        Query(actor=REVIEWER, settings=RULES, start="2025-04", end="2025-03")
    with pytest.raises(BadPeriod):
        Query(actor=REVIEWER, settings=RULES, start="2025-13", end="2025-13")


def test_the_previous_period_has_the_same_length_and_the_same_scope():
    asked = Query(actor=CLERK, settings=RULES, start="2025-01", end="2025-03", unit_type="station")
    before = asked.previous()
    assert (before.start, before.end, before.town, before.unit_type) == ("2024-10", "2024-12", "泥江口镇", "station")
    assert asked.over("2025-06").months == ["2025-06"]


def test_a_role_is_checked_for_what_the_query_is_used_for():
    asked = Query(actor=CLERK, settings=RULES, start="2025-01", end="2025-01")
    assert asked.allowed("export") is asked
    with pytest.raises(Forbidden):
        asked.allowed("bulletin")


def _functions():
    for info in pkgutil.walk_packages(monitor.__path__, "monitor."):
        if info.ispkg or info.name == "monitor.__main__" or ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__:
                yield f"{info.name}.{name}", inspect.signature(function).parameters


def test_no_domain_function_takes_the_scope_by_hand_again():
    """Account, settings, months and township travel together as a Query, not as five arguments."""
    by_hand = [
        name
        for name, parameters in _functions()
        if {"actor", "settings", "town"} <= set(parameters) and ({"start", "month"} & set(parameters))
    ]
    assert by_hand == []


def test_every_query_is_required_and_by_keyword():
    taking = {
        name: parameters["query"]
        for name, parameters in _functions()
        if "query" in parameters
        and parameters["query"].annotation in ("Query", Query)
        and not name.rsplit(".", 1)[1].startswith("_")
    }
    assert len(taking) >= 12  # figures, views, lists and reports
    offenders = [
        name
        for name, parameter in taking.items()
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY or parameter.default is not inspect.Parameter.empty
    ]
    assert offenders == []
