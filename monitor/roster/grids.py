"""A unit × month grid of what the roster and the quota rules say: quota and whether the unit is active."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from monitor.core.config import DEFAULT_QUOTAS
from monitor.core.models import QuotaRule
from monitor.store.db import fetch_tuples

WELL_FORMED_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")  # YYYY-MM; an older version stored some that are not


def objects(values: Sequence[object]) -> np.ndarray:
    """A column of texts (or None) as an object array (numpy would make fixed-width strings of them)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def quota_grid(*, session: Session, units: pd.DataFrame, months: list[str]) -> np.ndarray:
    """The quota of each unit (rows, in frame order) in each month (columns), from the dated rules.

    A rule holds from its month until the next rule of the same target; a unit's own rule beats
    its type's, and a unit rule without a quota hands the unit back to its type.
    """
    rules = fetch_tuples(
        session,
        select(QuotaRule.unit_type, QuotaRule.unit_id, QuotaRule.from_month, QuotaRule.quota).order_by(
            col(QuotaRule.from_month), col(QuotaRule.id)
        ),
    )
    grid = np.zeros((len(units), len(months)), dtype="int64")
    if not len(units):
        return grid
    codes, kinds = pd.factorize(units["type"])
    where = pd.Index(units["id"]).get_indexer([int(r[1]) for r in rules if r[1] is not None])
    positions = iter(where)
    ordered = [(r, next(positions) if r[1] is not None else -1) for r in rules]
    for j, month in enumerate(months):
        by_type = dict(DEFAULT_QUOTAS)
        own: dict[int, int | None] = {}  # row in the frame -> the unit's own quota (None: its type's)
        for (unit_type, unit_id, from_month, quota), row in ordered:
            if from_month > month:
                break
            if unit_id is None:
                by_type[unit_type] = int(quota or 0)
            elif row >= 0:
                own[row] = quota
        column = np.array([by_type.get(kind, 0) for kind in kinds], dtype="int64")[codes]
        for row, quota in own.items():
            if quota is not None:
                column[row] = int(quota)
        grid[:, j] = column
    return grid


@dataclass(frozen=True)
class Rule:
    """A quota rule as read: its quota (None: a unit back on its type's) and the month it holds from
    ("" since the beginning)."""

    quota: int | None
    from_month: str


def quota_rules(session: Session) -> dict[str | int, list[Rule]]:
    """Every quota rule by its target (a unit type, or a unit's id), in the order quota_grid applies them."""
    rules: dict[str | int, list[Rule]] = {}
    statement = select(QuotaRule.unit_type, QuotaRule.unit_id, QuotaRule.from_month, QuotaRule.quota).order_by(
        col(QuotaRule.from_month), col(QuotaRule.id)
    )
    for unit_type, unit_id, from_month, quota in fetch_tuples(session, statement):
        target = unit_type if unit_id is None else int(unit_id)
        rules.setdefault(target, []).append(Rule(None if quota is None else int(quota), from_month))
    return rules


def in_force(rules: Sequence[Rule], month: str) -> Rule | None:
    """The rule of one target in force in `month`: the last one from that month or before; None if none is."""
    found = None
    for rule in rules:
        if rule.from_month > month:
            break
        found = rule
    return found


def type_rule(rules: dict[str | int, list[Rule]], unit_type: str, month: str) -> Rule:
    """A type's rule in force in `month`; a type without one has its default quota since the beginning."""
    return in_force(rules.get(unit_type, []), month) or Rule(DEFAULT_QUOTAS.get(unit_type, 0), "")


def holds_from(rules: Sequence[Rule], month: str, quota: int | None, *, default: int | None) -> bool:
    """Whether the target's rules already give `quota` in `month` and every month after it."""
    now = in_force(rules, month)
    later = [rule.quota for rule in rules if rule.from_month > month]
    return all(value == quota for value in [default if now is None else now.quota, *later])


def active_grid(units: pd.DataFrame, months: list[str]) -> np.ndarray:
    """Whether each unit (rows) is active in each month (columns): its active range as positions.

    Compared per unit, not per unit-month, and only for the units that have a range (a few in a
    roster of 30,000): the rest are active in every month.
    """
    grid = np.ones((len(units), len(months)), dtype=bool)
    start = units["active_from"].to_numpy(dtype=object)
    end = units["active_to"].to_numpy(dtype=object)
    ranged = np.flatnonzero(pd.notna(start) | pd.notna(end))
    if not len(ranged):
        return grid
    labels = np.array(months)
    start = np.array(["" if pd.isna(value) else value for value in start[ranged]], dtype=object)
    end = np.array(["" if pd.isna(value) else value for value in end[ranged]], dtype=object)
    first = np.where(start == "", 0, np.searchsorted(labels, start.astype(str), side="left"))
    last = np.where(end == "", len(months), np.searchsorted(labels, end.astype(str), side="right"))
    column = np.arange(len(months))
    grid[ranged] = (column >= first[:, None]) & (column < last[:, None])
    return grid
