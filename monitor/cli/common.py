"""What every command group shares: who acts, the period and filter arguments, and printing."""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
from sqlmodel import Session

from monitor.admin.accounts import actor_for
from monitor.core import calendar
from monitor.core.calendar import today_in
from monitor.core.config import Settings
from monitor.core.errors import Refusal
from monitor.core.issues import Issue
from monitor.core.permissions import Actor, require, shell_actor
from monitor.core.query import Query
from monitor.ingest.batches import ImportResult
from monitor.roster.units import UnknownType, parse_type, towns


class UsageError(Refusal):
    """A wrong argument, told to the user in one line."""

    code = "bad_argument"


def add_period(parser: argparse.ArgumentParser, *, town: bool = True) -> None:
    """--start and --end (required), --town, --type and --json: the filters of every report."""
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    if town:
        parser.add_argument("--town")
    parser.add_argument("--type")
    parser.add_argument("--json", action="store_true")


def acting(session: Session, name: str | None, action: str) -> Actor:
    """Who a command acts as: the named account (active, and its role allows the action); the operator
    when --user was left out (None)."""
    if name is None:
        return shell_actor()
    actor = actor_for(session=session, name=name)
    require(actor, action)
    return actor


def town(session: Session, text: str | None) -> str | None:
    if not text:
        return None
    if text not in towns(session=session):
        raise UsageError(f"名册中没有乡镇（街道）“{text}”。")
    return text


def unit_type(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_type(text)
    except UnknownType as exc:
        raise UsageError(f"单位类型“{text}”无法识别，应为 center、institute 或 station。") from exc


def query(args: argparse.Namespace, session: Session, settings: Settings) -> Query:
    """--start, --end, --town and --type, each checked (exit 2 on nonsense), asked by the operator."""
    today = today_in(settings)
    return Query(
        actor=shell_actor(),
        settings=settings,
        start=calendar.check_month(args.start, settings, today=today),
        end=calendar.check_month(args.end, settings, today=today),
        town=town(session, getattr(args, "town", None)),
        unit_type=unit_type(args.type),
    )


def refused_import(name: str, exc: Exception) -> ImportResult:
    """An import turned down before its file is read: the account named cannot import."""
    return ImportResult(file_error=Issue(code="unknown_user", row=None, column=None, value=name, message=str(exc)))


def print_import(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if result.file_error is not None:
        print(f"文件未导入：{result.file_error.message}", file=sys.stderr)
        return
    print(f"rows {result.rows}  imported {result.imported}  duplicates {result.duplicates}  rejected {result.rejected}")
    for item in result.errors:
        print(f"  第 {item.row} 行 [{item.column}] {item.code}: {item.message}")
    for item in result.warnings:
        print(f"  提示 第 {item.row} 行: {item.message}")


def table(frame: pd.DataFrame) -> None:
    print(frame.to_string(index=False) if not frame.empty else "(none)")


def percent(rate: object) -> str:
    return f"{rate * 100:.2f}%" if isinstance(rate, float) else "—"


def emit(doc: dict[str, object], as_json: bool, frame: pd.DataFrame) -> None:
    """The command's JSON document with --json, else its table."""
    if as_json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        table(frame)
