"""Accounts and roles: argon2 password hashes, slowed-down guessing, and what each role may do."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.core.calendar import as_utc
from monitor.core.errors import Refusal
from monitor.core.models import LoginThrottle, Meta, SignInSession, User
from monitor.core.permissions import ROLE_LABELS, ROLES, Actor, require
from monitor.roster.units import towns
from monitor.store import audit

FREE_ATTEMPTS = 5  # per user name, whether the name exists or not
SOURCE_FREE_ATTEMPTS = 20  # per client address: one office behind one NAT shares it
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)
MIN_PASSWORD = 8
MAX_NAME = 100
_hasher = PasswordHasher()
REFUSED = "用户名或密码不正确。"


class AuthError(Refusal):
    """Sign-in refused; the message says why in Chinese without telling which part was wrong."""

    code = "sign_in"


class UserError(Refusal, ValueError):
    """A user account change that cannot be made as given."""

    code = "unknown_user"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位。")
    return _hasher.hash(password)


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("用户名不能为空。")
    if len(name) > MAX_NAME:
        raise UserError(f"用户名最多 {MAX_NAME} 个字符（现有 {len(name)} 个）。")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise UserError("用户名不能含有换行、制表符等控制字符。")
    return name


def _store(session: Session, user: User, *, by: str) -> User:
    """Add the account and its audit event in the caller's transaction; a taken name is a UserError."""
    session.add(user)
    audit.record(session, actor=by, action="user_add", target=user.name, after={"role": user.role, "town": user.town})
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UserError(f"用户“{user.name}”已存在。") from None
    session.refresh(user)
    return user


def add_user(*, session: Session, actor: Actor, name: str, role: str, password: str, town: str = "") -> User:
    require(actor, "users")
    name = _valid_name(name)
    if role not in ROLES:
        raise UserError(f"角色应为 {'、'.join(ROLE_LABELS[r] for r in ROLES)} 之一。")
    town = town.strip() if role == "town" else ""
    if role == "town":
        if not town:
            raise UserError("乡镇（街道）经办人须指定所属乡镇。")
        if town not in towns(session=session):
            raise UserError(f"单位名册中没有乡镇“{town}”，请先导入名册或检查拼写。")
    if session.exec(select(User.id).where(User.name == name)).first() is not None:
        raise UserError(f"用户“{name}”已存在。")
    user = User(name=name, role=role, town=town, password_hash=hash_password(password), created_at=datetime.now(UTC))
    return _store(session, user, by=actor.name)


def create_first_admin(*, session: Session, name: str, password: str) -> User:
    """The first admin of an empty database; refused once any account exists.

    Two people creating it at once both insert the 'first_admin' fact in their transaction: its
    primary key lets only one of them commit.
    """
    name = _valid_name(name)
    password_hash = hash_password(password)
    if has_users(session=session):
        raise UserError("已有账号，首个管理员只能在空数据库中创建，请登录。")
    session.add(Meta(key="first_admin", value=name))
    user = User(name=name, role="admin", town="", password_hash=password_hash, created_at=datetime.now(UTC))
    try:
        return _store(session, user, by=name)
    except UserError:
        raise UserError("管理员已由他人创建，请登录。") from None


def _get(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户“{name}”不存在。")
    return user


def disable_user(*, session: Session, actor: Actor, name: str) -> None:
    require(actor, "users")
    if name == actor.name:
        raise UserError("不能停用自己的账号。")
    user = _get(session, name)
    if user.disabled:
        raise UserError(f"账号 {name} 已是停用状态。")
    user.disabled = True
    session.add(user)
    _end_sessions(session, user, "account_disabled")
    audit.record(
        session,
        actor=actor.name,
        action="user_disable",
        target=name,
        before={"disabled": False},
        after={"disabled": True},
    )
    session.commit()


def enable_user(*, session: Session, actor: Actor, name: str) -> None:
    """Let a disabled account sign in again (its failed sign-ins start from zero)."""
    require(actor, "users")
    user = _get(session, name)
    if not user.disabled:
        raise UserError(f"账号 {name} 未停用，无需启用。")
    user.disabled = False
    session.add(user)
    _reset(session, [_name_key(name)])
    audit.record(
        session,
        actor=actor.name,
        action="user_enable",
        target=name,
        before={"disabled": True},
        after={"disabled": False},
    )
    session.commit()


def set_password(*, session: Session, actor: Actor, name: str, password: str) -> None:
    """A new password set by an administrator; the account's failed sign-ins start from zero."""
    require(actor, "users")
    user = _get(session, name)
    user.password_hash = hash_password(password)
    session.add(user)
    _reset(session, [_name_key(name)])
    _end_sessions(session, user, "password_reset")
    audit.record(session, actor=actor.name, action="user_passwd", target=name)
    session.commit()


def _end_sessions(session: Session, user: User, reason: str) -> None:
    """Every open sign-in session of the account ends now, in the caller's transaction."""
    statement = (
        update(SignInSession)
        .where(col(SignInSession.user_id) == user.id, col(SignInSession.ended_at).is_(None))
        .values(ended_at=datetime.now(UTC), ended_reason=reason)
    )
    session.exec(statement)  # type: ignore[call-overload]


def has_users(*, session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def actor_for(*, session: Session, name: str) -> Actor:
    """The active account of that name, as an Actor; UserError when unknown or disabled."""
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户“{name}”不存在。")
    if user.disabled:
        raise UserError(f"用户“{name}”已停用。")
    return Actor(name=user.name, role=user.role, town=user.town)


# Sign-in throttling. Each key ("name:<name>", "source:<address>") counts failures in LoginThrottle.
# An attempt is claimed before its password is checked, by a compare-and-swap on the count, so
# concurrent guesses cannot all read the same count and all be let through.


def _name_key(name: str) -> str:
    return f"name:{name.strip().casefold()}"[:255]


def _source_key(source: str) -> str:
    return f"source:{source.strip()}"[:255]


def wait_after(failures: int, free: int) -> timedelta:
    """After `free` failures, each further try waits twice as long as the one before (30 s up to 15 min)."""
    if failures < free:
        return timedelta(0)
    return min(MAX_WAIT, FIRST_WAIT * 2 ** min(failures - free, 16))


def _next_at(failures: int, free: int, now: datetime) -> datetime | None:
    """None while attempts are free: an earlier clock in a concurrent attempt must not read it as a wait."""
    wait = wait_after(failures, free)
    return now + wait if wait else None


def _claim(session: Session, key: str, free: int, now: datetime) -> timedelta:
    """Count one attempt on `key`; the time still to wait instead when the key is throttled.

    A lost race (another attempt moved the count between the read and the update) reads again.
    """
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(key=key, failures=0, next_at=None).on_conflict_do_nothing())
    session.commit()
    for _ in range(1000):
        seen, next_at = session.execute(select(table.c.failures, table.c.next_at).where(table.c.key == key)).one()
        session.commit()
        if next_at is not None and as_utc(next_at) > now:
            return as_utc(next_at) - now
        claimed = session.execute(
            update(table)
            .where(table.c.key == key, table.c.failures == seen)
            .values(failures=seen + 1, next_at=_next_at(seen + 1, free, now))
        )
        session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return timedelta(0)
    return MAX_WAIT


def _reset(session: Session, keys: list[str]) -> None:
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    session.execute(update(table).where(table.c.key.in_(keys)).values(failures=0, next_at=None))


@cache
def _dummy_hash() -> str:
    """Checked for names without an account, so that an unknown name costs as long as a known one."""
    return _hasher.hash("no such account: the same work as a real check")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(*, session: Session, name: str, password: str, source: str = "", now: datetime | None = None) -> Actor:
    """The account whose password this is; AuthError otherwise, the same words for every wrong pair.

    Failures are counted per name (FREE_ATTEMPTS) and per client address (SOURCE_FREE_ATTEMPTS),
    for names with and without an account alike; a throttled attempt checks no password and
    writes no audit event (the counter keeps the number).
    """
    now = as_utc(now or datetime.now(UTC))
    name = name.strip()
    keys = [(_name_key(name), FREE_ATTEMPTS)]
    if source:
        keys.insert(0, (_source_key(source), SOURCE_FREE_ATTEMPTS))
    for key, free in keys:
        left = _claim(session, key, free, now)
        if left > timedelta(0):
            raise AuthError(f"密码错误次数过多，请 {int(left.total_seconds()) + 1} 秒后再试。")
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        _verify(_dummy_hash(), password)
        ok = False
    else:
        ok = _verify(user.password_hash, password)
    if not ok:
        detail = "用户名不存在" if user is None else "密码错误"
        audit.record(session, actor=name[:MAX_NAME], action="login_failed", detail=detail)
        session.commit()
        raise AuthError(REFUSED)
    assert user is not None
    if user.disabled:
        raise AuthError("该账号已停用，请联系管理员。")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
    _reset(session, [key for key, _ in keys])
    audit.record(session, actor=user.name, action="login")
    session.commit()
    return Actor(name=user.name, role=user.role, town=user.town)


def users_frame(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The accounts, for whoever manages them."""
    require(actor, "users")
    rows = [
        {"name": u.name, "role": u.role, "town": u.town, "disabled": u.disabled, "created_at": u.created_at}
        for u in session.exec(select(User).order_by(col(User.name))).all()
    ]
    return pd.DataFrame(rows, columns=["name", "role", "town", "disabled", "created_at"])
