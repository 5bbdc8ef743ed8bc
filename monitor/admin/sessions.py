"""Password sign-ins kept across refreshes, new tabs and links: a random token in the browser's
cookie, only its SHA-256 in the database, with an idle and an absolute expiry.

Signing out, disabling the account or resetting its password ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.core.calendar import as_utc
from monitor.core.config import Settings
from monitor.core.models import AuditEvent, SignInSession, User
from monitor.core.permissions import Actor, require
from monitor.store import audit

COOKIE = "monitor_session"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    *, session: Session, actor: Actor, settings: Settings, source: str = "", now: datetime | None = None
) -> str:
    """A new sign-in session for an account that has just proved its password; returns the token."""
    now = now or datetime.now(UTC)
    user = session.exec(select(User).where(User.name == actor.name)).one()
    token = secrets.token_urlsafe(32)
    session.add(
        SignInSession(
            token_hash=_hash(token),
            user_id=int(user.id or 0),
            created_at=now,
            last_seen=now,
            expires_at=now + timedelta(days=settings.session_max_days),
            source=source[:100],
        )
    )
    session.commit()
    return token


def _end(row: SignInSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.ended_reason = reason


def session_actor(*, session: Session, token: str, settings: Settings, now: datetime | None = None) -> Actor | None:
    """The account a token signs in, or None: unknown, ended, idle too long, past its end, or disabled."""
    if not token:
        return None
    now = now or datetime.now(UTC)
    row = session.exec(select(SignInSession).where(SignInSession.token_hash == _hash(token))).first()
    if row is None or row.ended_at is not None:
        return None
    user = session.get(User, row.user_id)
    reason = ""
    if user is None or user.disabled:
        reason = "account_disabled"
    elif now >= as_utc(row.expires_at):
        reason = "expired"
    elif now - as_utc(row.last_seen) > timedelta(hours=settings.session_idle_hours):
        reason = "idle"
    if reason:
        _end(row, reason, now)
        session.add(row)
        session.commit()
        return None
    assert user is not None
    if now - as_utc(row.last_seen) >= TOUCH_EVERY:
        row.last_seen = now
        session.add(row)
        session.commit()
    return Actor(name=user.name, role=user.role, town=user.town)


def end_session(*, session: Session, token: str, now: datetime | None = None) -> None:
    """Sign out: the token no longer signs anyone in. Recorded in the audit trail."""
    now = now or datetime.now(UTC)
    row = session.exec(select(SignInSession).where(SignInSession.token_hash == _hash(token))).first()
    if row is None or row.ended_at is not None:
        return
    _end(row, "signed_out", now)
    session.add(row)
    user = session.get(User, row.user_id)
    audit.record(session, actor=user.name if user else "", action="logout")
    session.commit()


def open_sessions(*, session: Session, actor: Actor, now: datetime | None = None) -> pd.DataFrame:
    """Sessions still open (not ended, not past their end), newest first: for 用户管理."""
    require(actor, "users")
    now = now or datetime.now(UTC)
    rows = session.exec(
        select(SignInSession, User.name)
        .join(User, col(User.id) == col(SignInSession.user_id))
        .where(col(SignInSession.ended_at).is_(None))
        .order_by(col(SignInSession.last_seen).desc())
    ).all()
    records = [
        {"id": s.id, "name": name, "created_at": s.created_at, "last_seen": s.last_seen, "source": s.source}
        for s, name in rows
        if as_utc(s.expires_at) > now
    ]
    return pd.DataFrame(records, columns=["id", "name", "created_at", "last_seen", "source"])


def end_session_by_id(*, session: Session, actor: Actor, session_id: int) -> None:
    """An administrator ends one open session (a lost phone, a shared computer)."""
    require(actor, "users")
    row = session.get(SignInSession, session_id)
    if row is None or row.ended_at is not None:
        return
    _end(row, "ended_by_admin", datetime.now(UTC))
    session.add(row)
    user = session.get(User, row.user_id)
    audit.record(session, actor=actor.name, action="session_end", target=user.name if user else "")
    session.commit()


def last_sign_ins(*, session: Session, actor: Actor) -> dict[str, datetime]:
    """Each account's last sign-in, from the audit trail."""
    require(actor, "users")
    rows = session.exec(
        select(AuditEvent.actor, func.max(AuditEvent.at)).where(AuditEvent.action == "login").group_by(AuditEvent.actor)
    ).all()
    return {name: as_utc(at) for name, at in rows}
