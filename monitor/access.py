"""Who may read or write what: the one place the township scope is built from the acting account."""

from __future__ import annotations

from monitor.auth import Actor, require, town_scope


def scope(actor: Actor, action: str, town: str | None = None) -> str | None:
    """The township a call may cover: the role must allow `action`, and town staff get their own
    township whatever was asked (Forbidden when they ask for another)."""
    require(actor, action)
    return town_scope(actor, town)


def may_touch(actor: Actor, action: str, unit_town: str) -> None:
    """A write or read of one unit: the role allows it, and town staff only in their own township."""
    require(actor, action)
    town_scope(actor, unit_town or "区级")
